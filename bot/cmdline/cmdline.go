// Package cmdline splits the text of a slash command into words, the way the
// broker who typed it means them.
//
// A command line arrives from Slack with its escapes: `&amp;`, `&lt;` and
// `&gt;` for the three characters Slack reserves, and angle-bracketed
// references for what the user picked from autocomplete: <@U123|jane>,
// <#C123|desk>, <mailto:jane@acme.com|jane@acme.com>, <tel:+1...|...>,
// <https://...|...>, <!here>. The same line typed in a shell has none of
// them. Parse accepts both.
//
// Words are separated by any Unicode space. A word may be quoted, whole or
// after `field=`, with straight or typographic quotes (Slack's clients and
// phones turn " into “ and ”): `name="Acme Grain"`, `“Acme Grain”`. A quote
// inside a word (O'Brien, 5") is an ordinary character.
package cmdline

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Word is one word of a command line.
type Word struct {
	Text     string // decoded, quotes removed
	Start    int    // byte offsets of the word in the line
	End      int
	Eq       int  // offset in Text of the first '=' outside quotes, -1 if none
	Quoted   bool // the word or its value was quoted
	Unclosed rune // a quote that opened the word or its value and was never closed
	Ref      Ref  // set when the word (or the value after '=') is exactly one Slack reference
}

// Ref is a decoded Slack reference.
type Ref struct {
	Kind  byte   // '@' user, '#' channel, '!' special, 'l' link; 0 for none
	ID    string // U123, C123, here, the URL
	Label string // what the user saw: jane, desk, jane@acme.com
}

// Key and Value split a field=value word.
func (w Word) Key() string   { return w.Text[:w.Eq] }
func (w Word) Value() string { return w.Text[w.Eq+1:] }

// User returns the Slack user id a word names: a mention (<@U123|jane>) or a
// bare id (U123, W123) as typed in a shell.
func (w Word) User() (string, bool) { return w.id('@', "UW") }

// Channel returns the Slack channel id a word names.
func (w Word) Channel() (string, bool) { return w.id('#', "CGD") }

// id returns the id a word names: a reference of the kind, or a bare id
// with one of the prefixes.
func (w Word) id(kind byte, prefixes string) (string, bool) {
	switch {
	case w.Eq >= 0:
		return "", false
	case w.Ref.Kind == kind:
		return w.Ref.ID, true
	case looksLikeID(w.Text, prefixes, 3):
		return w.Text, true
	}
	return "", false
}

// IsUserID reports whether s reads as a Slack user id (U123…, W123…).
func IsUserID(s string) bool { return looksLikeID(s, "UW", 3) }

// looksLikeID reports whether s reads as a Slack id with one of the
// prefixes: upper-case letters and digits, at least min long.
func looksLikeID(s, prefixes string, min int) bool {
	if len(s) < min || len(s) > 24 || !strings.ContainsRune(prefixes, rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// closers maps each opening quote to the quotes that may close it.
var closers = map[rune]string{
	'"':  "\"“”",
	'\'': "'’",
	'“':  "”\"“",
	'”':  "”\"", // some keyboards produce ” at both ends
	'„':  "“”\"",
	'‘':  "’'",
	'’':  "’'",
	'«':  "»",
	'»':  "«»",
	'「':  "」",
}

// Parse parses a command line into Args.
func Parse(line string) Args {
	line = strings.ToValidUTF8(line, "\uFFFD")
	return Args{line: line, Words: parseLine(line)}
}

// parseLine splits a command line, valid UTF-8, into words. It never fails:
// a quote that is never closed is kept as an ordinary character and noted on
// its word.
func parseLine(line string) []Word {
	var words []Word
	// Quotes that failed to find a closer once never will further on: this
	// keeps a line full of lone quotes linear.
	hopeless := map[string]bool{}
	i := 0
	for {
		for i < len(line) {
			r, n := utf8.DecodeRuneInString(line[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += n
		}
		if i >= len(line) {
			return words
		}
		w, next := scanWord(line, i, hopeless)
		words = append(words, w)
		i = next
	}
}

// scanWord reads the word starting at line[i].
func scanWord(line string, i int, hopeless map[string]bool) (Word, int) {
	w := Word{Start: i, Eq: -1}
	var b strings.Builder
	atValue := true // at the start of the word or just after its first '='
	valueStart, refs := 0, 0
	var lastRef Ref
	for i < len(line) {
		r, n := utf8.DecodeRuneInString(line[i:])
		switch {
		case unicode.IsSpace(r):
			w.End = i
			return w.finish(b.String(), valueStart, refs, lastRef), i
		case atValue && closers[r] != "":
			end, ok := 0, false
			if !hopeless[closers[r]] {
				end, ok = closingQuote(line, i+n, closers[r])
			}
			if !ok {
				hopeless[closers[r]] = true
				// Free text may hold a lone quote; commands that need
				// field=value words report it (see Word.Unclosed).
				w.Unclosed = r
				b.WriteRune(r)
				i += n
				atValue = false
				continue
			}
			text, nr, last := decode(line[i+n : end])
			b.WriteString(text)
			refs += nr
			if nr > 0 {
				lastRef = last
			}
			w.Quoted = true
			_, cn := utf8.DecodeRuneInString(line[end:])
			i = end + cn
			atValue = false
			continue
		case r == '<':
			if rf, n2, ok := scanRef(line[i:]); ok {
				b.WriteString(rf.Text())
				refs++
				lastRef = rf
				i += n2
				atValue = false
				continue
			}
		case r == '&':
			if s, n2, ok := entity(line[i:]); ok {
				b.WriteString(s)
				i += n2
				atValue = false
				continue
			}
		case r == '=' && w.Eq < 0:
			w.Eq = b.Len()
			b.WriteByte('=')
			i += n
			atValue = true
			valueStart, refs, lastRef = b.Len(), 0, Ref{}
			continue
		}
		b.WriteRune(r)
		i += n
		atValue = false
	}
	w.End = i
	return w.finish(b.String(), valueStart, refs, lastRef), i
}

// finish records whether the word, or its value, is exactly one reference.
func (w Word) finish(text string, valueStart, refs int, last Ref) Word {
	w.Text = text
	if refs == 1 && text[valueStart:] == last.Text() {
		w.Ref = last
	}
	return w
}

func closingQuote(line string, from int, closing string) (int, bool) {
	for j, r := range line[from:] {
		if strings.ContainsRune(closing, r) {
			return from + j, true
		}
	}
	return 0, false
}

// decode turns Slack's escapes in s into text: entities into characters,
// user and channel references into their canonical <@U123> and <#C123>
// forms (which renderers turn back into mentions), links into what the user
// typed. It reports how many references it met and the last of them.
func decode(s string) (string, int, Ref) {
	if !strings.ContainsAny(s, "<&") {
		return s, 0, Ref{}
	}
	var b strings.Builder
	n := 0
	var last Ref
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if rf, m, ok := scanRef(s[i:]); ok {
				b.WriteString(rf.Text())
				n++
				last = rf
				i += m
				continue
			}
		case '&':
			if e, m, ok := entity(s[i:]); ok {
				b.WriteString(e)
				i += m
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), n, last
}

// Decode decodes a stretch of free text (a note, a summary).
func Decode(s string) string {
	t, _, _ := decode(strings.ToValidUTF8(s, "\uFFFD"))
	return t
}

func entity(s string) (string, int, bool) {
	for _, e := range [...][2]string{{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}} {
		if strings.HasPrefix(s, e[0]) {
			return e[1], len(e[0]), true
		}
	}
	return "", 0, false
}

// scanRef reads a Slack reference at the start of s ("<...>"). Anything
// else in angle brackets is not a reference and is left as typed.
func scanRef(s string) (Ref, int, bool) {
	// A reference holds no '<' or line break, so scanning stops at the next
	// one: a line of many '<' is read in linear time.
	end := strings.IndexAny(s[1:], "<>\n") + 1
	if end < 2 || s[end] != '>' {
		return Ref{}, 0, false
	}
	body := s[1:end]
	target, label, _ := strings.Cut(body, "|")
	label = strings.TrimSpace(label)
	if target == "" {
		return Ref{}, 0, false // "<|x>"
	}
	var rf Ref
	switch target[0] {
	case '@':
		if !looksLikeID(target[1:], "UWB", 2) {
			return Ref{}, 0, false
		}
		rf = Ref{'@', target[1:], label}
	case '#':
		if !looksLikeID(target[1:], "CGD", 2) {
			return Ref{}, 0, false
		}
		rf = Ref{'#', target[1:], label}
	case '!':
		// <!here>, <!channel>, <!subteam^S123|@desk>, <!date^...|fallback>
		rf = Ref{'!', target[1:], label}
	default:
		scheme, rest, ok := strings.Cut(target, ":")
		if !ok || rest == "" || strings.ContainsAny(target, " \t") || !validScheme(scheme) {
			return Ref{}, 0, false
		}
		rf = Ref{'l', target, label}
	}
	return rf, end + 1, true
}

func validScheme(s string) bool {
	switch strings.ToLower(s) {
	case "http", "https", "mailto", "tel", "sms", "ftp", "slack":
		return true
	}
	return false
}

// Text is how a reference reads once decoded.
func (r Ref) Text() string {
	switch r.Kind {
	case '@':
		return "<@" + r.ID + ">"
	case '#':
		return "<#" + r.ID + ">"
	case '!':
		if r.Label != "" {
			return r.Label
		}
		if name, _, _ := strings.Cut(r.ID, "^"); name != "" {
			return "@" + name
		}
		return ""
	case 'l':
		if r.Label != "" {
			return r.Label
		}
		for _, p := range []string{"mailto:", "tel:", "sms:"} {
			if len(r.ID) > len(p) && strings.EqualFold(r.ID[:len(p)], p) {
				return r.ID[len(p):]
			}
		}
		return r.ID
	}
	return ""
}

// Args are the words of a command after its name (and subcommand), with the
// line they came from so that free text keeps its spacing and line breaks.
type Args struct {
	line  string
	Words []Word
	plain bool // words came pre-split (buttons, modals): Rest joins them
}

func (a Args) Len() int { return len(a.Words) }

// At returns the i'th word, or an empty word.
func (a Args) At(i int) Word {
	if i < len(a.Words) {
		return a.Words[i]
	}
	return Word{Eq: -1}
}

// Rest returns the text from word i to the end of the line, decoded, with
// one pair of surrounding quotes removed.
func (a Args) Rest(i int) string {
	if i >= len(a.Words) {
		return ""
	}
	if a.plain {
		return strings.TrimSpace(strings.Join(Texts(a.Words[i:]), " "))
	}
	if i == len(a.Words)-1 && a.Words[i].Quoted && a.Words[i].Eq < 0 {
		return strings.TrimSpace(a.Words[i].Text)
	}
	return strings.TrimSpace(Decode(a.line[a.Words[i].Start:]))
}

func (a Args) From(i int) Args {
	if i > len(a.Words) {
		i = len(a.Words)
	}
	return Args{line: a.line, Words: a.Words[i:], plain: a.plain}
}

func Texts(ws []Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

// Plain makes Args from words that need no parsing (a button's value,
// a modal's fields): each is one word, taken as is.
func Plain(ss []string) Args {
	ws := make([]Word, len(ss))
	for i, s := range ss {
		s = strings.ToValidUTF8(s, "\uFFFD")
		ws[i] = Word{Text: s, Eq: strings.IndexByte(s, '=')}
	}
	return Args{Words: ws, plain: true}
}
