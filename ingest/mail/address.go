package mail

import (
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// addressList parses an address field with go-message and, when the
// strict parser fails, reads it leniently (looseAddresses): every address
// a person can see in it is kept. Display names are decoded also where
// RFC 2047 does not allow encoded words (inside quotes, as Outlook and
// many webmails write them) and lose the single quotes some mailers put
// around them.
func addressList(v, key string, w *walker) []Address {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	list, err := gomail.ParseAddressList(v)
	if err != nil {
		w.defect(LenientAddress, "malformed %s %q read leniently", key, clip(v))
		return looseAddresses(v)
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		if a.Address == "" {
			continue
		}
		out = append(out, Address{Name: displayName(a.Name), Email: cleanEmail(a.Address)})
	}
	return out
}

// displayName decodes what is left encoded of a name and drops the quotes
// around it.
func displayName(name string) string {
	name = strings.TrimSpace(name)
	if strings.Contains(name, "=?") {
		name = decodeWords(name)
	}
	name = cleanLine(name)
	for len(name) >= 2 {
		first, last := name[0], name[len(name)-1]
		if (first == '\'' && last == '\'') || (first == '"' && last == '"') {
			name = strings.TrimSpace(name[1 : len(name)-1])
			continue
		}
		break
	}
	return name
}

// addrToken is a lexical piece of an address field.
type addrToken struct {
	kind byte // 'w' word, 'q' quoted string, 'c' comment, 'a' angle address, ',' or ';' or ':'
	text string
	// glued: no space between this token and the one before it.
	glued bool
}

// tokenizeAddresses splits an address field into words, quoted strings,
// comments, <angle addresses> and separators. Unbalanced quotes, comments
// and brackets run to the end of the field.
func tokenizeAddresses(v string) []addrToken {
	var toks []addrToken
	glued := false
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			glued = false
			continue
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(v) && v[j] != '"'; j++ {
				if v[j] == '\\' && j+1 < len(v) {
					j++
				}
				b.WriteByte(v[j])
			}
			toks = append(toks, addrToken{'q', b.String(), glued})
			i = j + 1
		case c == '(':
			var b strings.Builder
			depth, j := 1, i+1
			for ; j < len(v) && depth > 0; j++ {
				switch v[j] {
				case '\\':
					if j+1 < len(v) {
						j++
					}
				case '(':
					depth++
				case ')':
					depth--
					if depth == 0 {
						continue
					}
				}
				b.WriteByte(v[j])
			}
			toks = append(toks, addrToken{'c', b.String(), glued})
			i = j
		case c == '<':
			end := strings.IndexByte(v[i+1:], '>')
			if end < 0 {
				end = len(v) - i - 1
			}
			toks = append(toks, addrToken{'a', v[i+1 : i+1+end], glued})
			i += end + 2
		case c == ',' || c == ';' || c == ':':
			toks = append(toks, addrToken{c, "", glued})
			i++
		default:
			j := i
			for j < len(v) && !strings.ContainsRune(" \t\r\n\"(<>,;:", rune(v[j])) {
				j++
			}
			if j == i { // a stray '>'
				i++
				continue
			}
			toks = append(toks, addrToken{'w', v[i:j], glued})
			i = j
		}
		glued = true
	}
	return toks
}

// looseAddresses reads an address field that breaks RFC 5322 the way a
// person reads it: bare addresses separated by spaces ("tim@x.com
// concierge@x.com"), a name before a bare address ("Big Bug bb@bug.com"),
// names with unquoted commas ("Dubois, Paul <p@x.fr>"), semicolons as
// separators, obsolete source routes ("<@a.net,@b.net:mary@example.net>")
// and comments, which name the address when nothing else does.
func looseAddresses(v string) []Address {
	toks := tokenizeAddresses(v)
	var out []Address
	var phrase []string // words of the display name read so far
	comment := ""
	emitted := false // an address since the last separator
	add := func(email string) {
		email = cleanEmail(email)
		if !plausibleEmail(email) {
			return
		}
		name := strings.Join(phrase, " ")
		if strings.TrimSpace(name) == "" {
			name = comment
		}
		out = append(out, Address{Name: displayName(name), Email: email})
		phrase, comment, emitted = nil, "", true
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case 'a':
			add(routeless(t.text))
		case 'w', 'q':
			// A local part and domain split by a comment or quotes
			// (pete(his account)@silly.test, "john smith"@x.com) join up.
			word := t.text
			for i+1 < len(toks) && toks[i+1].glued && (toks[i+1].kind == 'w' || toks[i+1].kind == 'q') &&
				(strings.HasPrefix(toks[i+1].text, "@") || strings.HasSuffix(word, "@")) {
				i++
				word += toks[i].text
			}
			if t.kind == 'w' && isBareAddress(word) && !followedByAngle(toks, i+1) {
				// A bare address: a comment right after it names it.
				if i+1 < len(toks) && toks[i+1].kind == 'c' && len(phrase) == 0 {
					comment = toks[i+1].text
					i++
				}
				add(word)
				continue
			}
			phrase = append(phrase, word)
		case 'c':
			if strings.TrimSpace(t.text) != "" && comment == "" {
				comment = t.text
			}
		case ',', ';':
			// A comma with no address before it belongs to the name
			// ("Dubois, Paul <p@x.fr>").
			if t.kind == ',' && !emitted && len(phrase) > 0 {
				phrase[len(phrase)-1] += ","
				continue
			}
			phrase, comment, emitted = nil, "", false
		case ':':
			// The display name of a group: not a person.
			phrase, comment, emitted = nil, "", false
		}
	}
	return out
}

// isBareAddress: a word that reads as an address outside angle brackets,
// with a dot in its domain ("Tom@Reyes Grain <t@x.com>" has a name
// with an '@' in it).
func isBareAddress(w string) bool {
	at := strings.LastIndexByte(w, '@')
	return at > 0 && strings.Contains(w[at+1:], ".")
}

func followedByAngle(toks []addrToken, i int) bool {
	for ; i < len(toks); i++ {
		switch toks[i].kind {
		case 'c':
			continue
		case 'a':
			return true
		}
		return false
	}
	return false
}

// routeless drops an obsolete source route ("@a.net,@b.net:") and comments
// from the inside of an angle address.
func routeless(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "@") {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			s = s[i+1:]
		}
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0 && r != '"' && r != ' ' && r != '\t':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plausibleEmail: one '@' with something on both sides and no space.
func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t,;<>()") && strings.Count(s, "@") == 1
}

func cleanEmail(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "<>\"'.,;: ")
	return strings.ToLower(cleanLine(s))
}

// earliestReceived returns the earliest date among the Received fields
// ("...; Tue, 4 Mar 2025 16:31:00 +0000"): the first server the mail
// passed wrote it before the mail was copied to its recipients, so it is
// the same in every mailbox. Zero if there is none.
func earliestReceived(h textproto.Header) time.Time {
	var first time.Time
	fields := h.Values("Received")
	for i, v := range fields {
		if i >= 50 {
			break
		}
		semi := strings.LastIndexByte(v, ';')
		if semi < 0 || len(v)-semi > maxDateField {
			continue
		}
		d, err := parseDate(v[semi+1:])
		if err != nil {
			continue
		}
		if first.IsZero() || d.Before(first) {
			first = d
		}
	}
	return first
}

func parseDate(v string) (time.Time, error) {
	return netmail.ParseDate(strings.TrimSpace(v))
}
