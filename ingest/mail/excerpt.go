package mail

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// excerpt keeps what the sender wrote in this message: quoted history,
// the signature after a "-- " line, mobile footers and legal disclaimers are
// left out. The result holds at most max runes; truncated reports a cut.
func excerpt(text string, max int) (string, bool) {
	// Work on no more text than the excerpt can show, however long the
	// quoted history: a few bytes per rune, and room for what is dropped.
	limit := 8*max + 1024
	s := tidy(dropDisclaimers(dropQuotesAndSignature(text, limit)))
	if s == "" {
		// Nothing of the sender's own, e.g. a bare forward: the full text
		// says more than an empty excerpt.
		s = tidy(text[:validCut(text, limit)])
	}
	return capRunes(s, max)
}

// validCut returns n, or less so as not to split a UTF-8 sequence, or len(s).
func validCut(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// dropQuotesAndSignature works line by line. Quoted lines ("> ") are
// dropped wherever they are, so that answers written between quotes
// survive; everything after a signature delimiter or an unprefixed quote
// (Outlook's header block, "-----Original Message-----") is dropped.
func dropQuotesAndSignature(text string, limit int) string {
	lines := strings.Split(text, "\n")
	kept := make([]string, 0, min(len(lines), 256))
	size := 0
	for i := 0; i < len(lines) && size <= limit; i++ {
		line := lines[i]
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, ">"):
			continue
		case line == "--" || line == "-- " || line == "--\u00a0":
			return strings.Join(kept, "\n")
		case isSeparator(t), isHeaderBlock(lines, i):
			return strings.Join(kept, "\n")
		case isRuler(t) && isHeaderBlock(lines, nextNonBlank(lines, i+1)):
			return strings.Join(kept, "\n")
		case len(t) <= maxFooter && mobileFooter.MatchString(t):
			continue
		}
		if n := attributionLines(lines, i); n > 0 {
			// "On Mon, ... wrote:" followed by "> " lines is dropped and
			// the quote after it goes too; if what follows is not marked
			// as quoted, it is the old message pasted below: stop.
			next := nextNonBlank(lines, i+n)
			if next < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[next]), ">") {
				i += n - 1
				continue
			}
			return strings.Join(kept, "\n")
		}
		if size+len(line) > limit {
			line = line[:validCut(line, limit-size)]
		}
		kept = append(kept, line)
		size += len(line) + 1
	}
	return strings.Join(kept, "\n")
}

var (
	// Reply separators of Outlook, Apple Mail, Android and their translations.
	originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|forwarded message|weitergeleitete nachricht)\s*-{2,}$|^(begin forwarded message|anfang der weitergeleiteten nachricht):$`)
	mobileFooter    = regexp.MustCompile(`(?i)^((sent from my [\w ]{1,40}|sent from (outlook|mail) for \w+|get outlook for \w+|von meinem [\w ]{1,40} gesendet|envoyé de mon \w+)\.?\s*(<[^>]*>)?|please consider the environment before printing.*)$`)
	// The first line of an attribution; it may wrap onto the next lines.
	attributionStart = regexp.MustCompile(`^(On|Am|Le|El|Il|Op) `)
	attributionEnd   = regexp.MustCompile(`(?i)((wrote|a écrit|escribió|ha scritto|schreef)\s?|schrieb( [^:]{0,80})?):$`)
	// Field names of the header block above a quoted message, in the
	// languages our clients' Outlook speaks.
	fromFields = map[string]bool{"from": true, "von": true, "de": true, "da": true, "van": true}
	sentFields = map[string]bool{"sent": true, "date": true, "gesendet": true, "datum": true, "envoyé": true,
		"enviado": true, "fecha": true, "inviato": true, "data": true, "verzonden": true}
)

// isSeparator matches "-----Original Message-----" and its kin.
func isSeparator(t string) bool {
	return (strings.HasPrefix(t, "--") || strings.HasSuffix(t, ":")) && originalMessage.MatchString(t)
}

// Footers are short; longer lines need not be matched against them.
const maxFooter = 120

// Attribution lines are short; checking only those keeps a megabyte-long
// line from costing a regexp scan per line.
const maxAttribution = 400

func mayEndAttribution(t string) bool {
	return len(t) <= maxAttribution && strings.HasSuffix(t, ":") && attributionEnd.MatchString(t)
}

// attributionLines reports how many lines (1 to 3) starting at i make up
// an attribution such as "On Mon, 3 Mar 2025, Hans Müller <h@x.de> wrote:",
// or 0 if line i does not start one. A bare "Name wrote:" counts only when
// quoted lines follow, which the caller checks.
func attributionLines(lines []string, i int) int {
	t := strings.TrimSpace(lines[i])
	if t == "" {
		return 0
	}
	if mayEndAttribution(t) && (isDatedAttribution(t) || isQuoted(lines, i+1)) {
		return 1
	}
	if !isDatedAttribution(t) {
		return 0
	}
	joined := t
	for n := 2; n <= 3 && i+n-1 < len(lines); n++ {
		next := strings.TrimSpace(lines[i+n-1])
		if next == "" {
			return 0
		}
		joined += " " + next
		if mayEndAttribution(joined) {
			return n
		}
	}
	return 0
}

// isDatedAttribution: every mail client's "On <date>, <name> wrote:" has a
// digit in it, which "On Friday I wrote:" in a sentence usually has not.
func isDatedAttribution(t string) bool {
	return len(t) <= maxAttribution && attributionStart.MatchString(t) && strings.ContainsAny(t, "0123456789")
}

func isQuoted(lines []string, i int) bool {
	j := nextNonBlank(lines, i)
	return j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), ">")
}

// isHeaderBlock recognises the header block Outlook and others put above
// the message being replied to or forwarded: "From: ..." followed within a
// few lines by "Sent: ..." or "Date: ...".
func isHeaderBlock(lines []string, i int) bool {
	if i >= len(lines) || !fromFields[fieldName(lines[i])] {
		return false
	}
	for j, seen := i+1, 0; j < len(lines) && seen < 4; j++ {
		if strings.TrimSpace(lines[j]) == "" {
			continue
		}
		if sentFields[fieldName(lines[j])] {
			return true
		}
		seen++
	}
	return false
}

// fieldName returns the lower-cased name of a "Name: value" line, also
// when bold in plain text ("*From:* Anna"), or "".
func fieldName(line string) string {
	t := strings.TrimLeft(line, " \t*")
	i := strings.IndexByte(t, ':')
	if i <= 0 || i > 12 {
		return ""
	}
	return strings.ToLower(strings.TrimRight(t[:i], " *"))
}

// isRuler matches the line of underscores Outlook draws above a reply.
func isRuler(t string) bool {
	return len(t) >= 10 && strings.Trim(t, "_") == ""
}

func nextNonBlank(lines []string, i int) int {
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	return i
}

var (
	// A paragraph opening with one of these is a disclaimer whatever its length.
	disclaimerOpening = regexp.MustCompile(`(?i)^\W*(disclaimer|confidentiality( notice)?|legal notice|important notice|risk disclosure|privileged (and|&) confidential|this (e-?mail|message|communication)( and any (files|attachments?)( transmitted with it)?)? (is|are|may be|contains?) (confidential|privileged|intended)|the information (contained )?in this (e-?mail|message|communication))`)
	// A long paragraph with several of these reads as legal boilerplate.
	disclaimerTerms = []string{
		"confidential", "intended recipient", "privileged", "disclaim", "unauthori",
		"prohibited", "not an offer", "solicitation", "substantial risk", "past performance",
		"liability", "viruses", "notify the sender", "delete this", "legally",
	}
)

const disclaimerMinRunes = 200

// dropDisclaimers drops everything from the first disclaimer paragraph on:
// legal footers come last, often in several paragraphs.
func dropDisclaimers(text string) string {
	paras := strings.Split(text, "\n\n")
	for i, p := range paras {
		if i > 0 && isDisclaimer(p) {
			return strings.Join(paras[:i], "\n\n")
		}
	}
	return text
}

func isDisclaimer(p string) bool {
	p = strings.TrimSpace(p)
	if disclaimerOpening.MatchString(p) {
		return true
	}
	if utf8.RuneCountInString(p) < disclaimerMinRunes {
		return false
	}
	lower := strings.ToLower(p)
	hits := 0
	for _, term := range disclaimerTerms {
		if strings.Contains(lower, term) {
			hits++
		}
	}
	return hits >= 3
}

// tidy trims trailing space from lines, keeps at most one blank line in a
// row and trims blank lines at both ends.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// capRunes cuts s to at most max runes, at a word boundary when one is near,
// and marks the cut with an ellipsis.
func capRunes(s string, max int) (string, bool) {
	if utf8.RuneCountInString(s) <= max {
		return s, false
	}
	if max <= 1 {
		return "…", true
	}
	end, n := 0, 0
	for end = range s {
		if n == max-1 {
			break
		}
		n++
	}
	r := []rune(s[:end])
	cut := len(r)
	for i := len(r) - 1; i >= len(r)*4/5; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + "…", true
}
