package mail

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// excerpt keeps what the sender wrote in this message, from own (the
// message's text without the footers of lists and gateways; ownDone if
// ownText was applied to it already): quoted
// history, the signature after a "-- " line, mobile footers and legal
// disclaimers are left out. The result holds at most max runes; truncated
// reports a cut.
func excerpt(own, text string, max int, ownDone bool) (string, bool) {
	limit := excerptLimit(max)
	s := own
	if !ownDone {
		s = ownText(own, limit)
	}
	if s == "" {
		// Nothing of the sender's own, e.g. a bare forward: the full text
		// says more than an empty excerpt.
		s = tidy(text[:validCut(text, limit)])
	}
	return capRunes(s, max)
}

// excerptLimit: the excerpt works on no more text than it can show,
// however long the quoted history: a few bytes per rune, and room for
// what is dropped.
func excerptLimit(max int) int { return 8*max + 1024 }

// ownText is text without quoted history, signature, footers and
// disclaimers, from at most about limit bytes of it.
func ownText(text string, limit int) string {
	return tidy(dropDisclaimers(dropQuotesAndSignature(text, limit)))
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
		case isRuler(t) && isListFooter(lines, i+1):
			return strings.Join(kept, "\n")
		case len(t) <= maxFooter && mobileFooter.MatchString(t):
			continue
		}
		if before, n, ok := midLineAttribution(lines, i); ok {
			// "Sent from Yahoo Mail on Android On Thu, ... wrote:": what
			// precedes the attribution on its line is kept, less footers.
			before = trailingFooter.ReplaceAllString(before, "")
			if b := strings.TrimSpace(before); b != "" && !(len(b) <= maxFooter && mobileFooter.MatchString(b)) {
				kept = append(kept, before)
				size += len(before) + 1
			}
			next := nextNonBlank(lines, i+n)
			if n > 0 && next < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[next]), ">") {
				i += n - 1
				continue
			}
			return strings.Join(kept, "\n")
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
	originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original|messaggio originale|oorspronkelijk bericht|원본 메시지|forwarded message|weitergeleitete nachricht)\s*-{2,}$|^(begin forwarded message|anfang der weitergeleiteten nachricht):$`)
	mobileFooter    = regexp.MustCompile(`(?i)^((sent from my [\w ]{1,40}|sent from (outlook|mail|yahoo mail|aol mail) (for|on) [\w ]{1,20}|sent from yahoo mail\b[\w ]{0,20}|get outlook for \w+|von meinem [\w ]{1,40} gesendet|envoyé de mon \w+|enviado desde mi [\w ]{1,40}|enviado do meu [\w ]{1,40})\.?\s*(<[^>]*>)?|please consider the environment before printing.*)$`)
	// The first line of an attribution; it may wrap onto the next lines.
	attributionStart = regexp.MustCompile(`^(On|Am|Le|El|Il|Op|Em|\d{4}년) `)
	attributionEnd   = regexp.MustCompile(`(?i)((wrote|a écrit|escribió|escreveu|ha scritto|schreef)\s?|schrieb( [^:]{0,80})?|작성):$`)
	// An attribution that starts mid-line, after other text (Yahoo's
	// mobile footer), and may have the quoted text after it on its line.
	midAttribution = regexp.MustCompile(`(^|\s)(On|Am|Le|El|Em) [^:\n]{0,200}\d[^\n]{0,200}?(\bwrote|a écrit|escribió|escreveu|schrieb[^:\n]{0,80}):`)
	// A mobile footer at the end of a line, before a mid-line attribution.
	trailingFooter = regexp.MustCompile(`(?i)\s*(sent from (my|yahoo mail|outlook|aol mail)\b[\w ]{0,40}|get outlook for \w+|von meinem [\w ]{1,40} gesendet|envoyé de mon \w+|enviado desde mi [\w ]{1,40}|enviado do meu [\w ]{1,40})\.?\s*$`)
	// A mid-line attribution has a time of day or a year in it.
	dateish = regexp.MustCompile(`\b\d{1,2}:\d{2}\b|\b(19|20)\d{2}\b`)
	// Field names of the header block above a quoted message, in the
	// languages our clients' Outlook speaks: English, German, French,
	// Spanish, Portuguese, Italian, Dutch, Korean, Japanese and Chinese.
	fromFields = map[string]bool{"from": true, "von": true, "de": true, "da": true, "van": true,
		"보낸 사람": true, "보낸사람": true, "差出人": true, "发件人": true, "寄件者": true}
	sentFields = map[string]bool{"sent": true, "date": true, "gesendet": true, "datum": true, "envoyé": true,
		"enviado": true, "enviado el": true, "enviada": true, "enviada em": true, "enviado em": true, "fecha": true,
		"inviato": true, "data": true, "verzonden": true,
		"보낸 날짜": true, "날짜": true, "送信日時": true, "发送时间": true, "時間": true}
	// The header block's Subject, which Outlook variants without a Sent
	// field still have.
	subjectFields = map[string]bool{"subject": true, "betreff": true, "objet": true, "asunto": true, "assunto": true,
		"oggetto": true, "onderwerp": true, "제목": true, "件名": true, "主题": true, "主旨": true}
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
// few lines by "Sent: ...", "Date: ..." or "Subject: ...", in the languages
// of fromFields.
func isHeaderBlock(lines []string, i int) bool {
	if i >= len(lines) || !fromFields[fieldName(lines[i])] {
		return false
	}
	for j, seen := i+1, 0; j < len(lines) && seen < 4; j++ {
		if strings.TrimSpace(lines[j]) == "" {
			continue
		}
		if name := fieldName(lines[j]); sentFields[name] || subjectFields[name] {
			return true
		}
		seen++
	}
	return false
}

// fieldName returns the lower-cased name of a "Name: value" line, also
// when bold in plain text ("*From:* Anna") or spaced ("De\u00a0: Anna"), or "".
func fieldName(line string) string {
	t := strings.TrimLeft(line, " \t*")
	i := strings.IndexByte(t, ':')
	if i <= 0 || i > 16 { // "보낸 날짜" is 13 bytes
		return ""
	}
	// French typography puts a (no-break) space before the colon.
	return strings.ToLower(strings.TrimRightFunc(t[:i], func(r rune) bool { return r == '*' || isHTMLSpace(r) }))
}

// midLineAttribution finds an attribution that starts after other text
// on line i ("Sent from Yahoo Mail on Android On Thu, 5 Mar 2025 at 9:14,
// Anna <a@x> wrote:"), possibly wrapped onto the next line and possibly
// followed by the quoted text. It returns the text before it and the
// number of lines the attribution takes if nothing follows it on its last
// line (0 if the quoted text follows on the same line).
func midLineAttribution(lines []string, i int) (before string, n int, ok bool) {
	line := lines[i]
	if len(line) > 4*maxAttribution || !strings.ContainsAny(line, "0123456789") {
		return "", 0, false
	}
	// The regexp only runs where the attribution's last word is.
	if !hasAttributionVerb(line) && (i+1 >= len(lines) || !hasAttributionVerb(lines[i+1])) {
		return "", 0, false
	}
	window := line
	for n = 1; ; n++ {
		if loc := midAttribution.FindStringSubmatchIndex(window); loc != nil && loc[4] < len(line) &&
			dateish.MatchString(window[loc[4]:loc[1]]) {
			before, after := line[:loc[4]], strings.TrimSpace(window[loc[1]:])
			if strings.TrimSpace(before) == "" && after == "" {
				return "", 0, false // a whole attribution: attributionLines' case
			}
			if after != "" {
				n = 0 // the quoted text follows on the same line
			}
			return strings.TrimRightFunc(before, unicode.IsSpace), n, true
		}
		if n == 2 || i+n >= len(lines) || strings.TrimSpace(lines[i+n]) == "" || len(lines[i+n]) > maxAttribution {
			return "", 0, false
		}
		window += " " + strings.TrimSpace(lines[i+n])
	}
}

var attributionVerbs = []string{"wrote", "a écrit", "escribió", "escreveu", "schrieb"}

func hasAttributionVerb(s string) bool {
	if len(s) > 4*maxAttribution {
		return false
	}
	for _, v := range attributionVerbs {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// isListFooter: after a ruler, a mailing list's footer ("Grain-desk
// mailing list", ".../mailman/listinfo/...") up to the end of the text.
func isListFooter(lines []string, i int) bool {
	rest := lines[i:]
	if len(rest) > 8 {
		return false
	}
	return listFooter.MatchString(strings.Join(rest, "\n"))
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
	disclaimerOpening = regexp.MustCompile(`(?i)^\W*(disclaimer|confidentiality( notice)?|legal notice|important notice|risk disclosure|privileged (and|&) confidential|this (e-?mail|message|communication)( and any (files|attachments?)( transmitted with it)?)? (is|are|may be|contains?) (confidential|privileged|intended)|the information (contained )?in this (e-?mail|message|communication)|this (e-?mail|message)( and (any|its) attachments?)? (has|have) been (scanned|checked|filtered))`)
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

var (
	// listFooter: what Mailman, Google Groups, Listserv and their kin put
	// below a ruler at the end of list mail.
	listFooter = regexp.MustCompile(`(?i)mailing list|listinfo|unsubscribe|list-?serv|you received this message because you are subscribed|mailman|abmelden|désinscri|darse de baja`)
	// gatewayFooter: what mail gateways and scanners add.
	gatewayFooter = regexp.MustCompile(`(?i)^\W*(this (e-?mail|message)( and (any|its) attachments?)? (has|have) been (scanned|checked|filtered)|scanned (for viruses )?by |virus-free\b|this message was scanned|checked by \w+ (anti-?virus|antivirus)|external (e-?mail|sender)\b|caution: this (e-?mail|message) originated)`)
)

// Footers added as parts of their own are short.
const maxFooterPart = 1500

// isFooterPart recognises a text part that a mailing list or a mail
// gateway added after the sender's message: short, and either a ruler
// followed by list information (Mailman's "____" block) or a gateway's
// notice ("This email has been scanned ...").
func isFooterPart(text string) bool {
	if len(text) > maxFooterPart {
		return false
	}
	t := strings.TrimSpace(text)
	first, rest, _ := strings.Cut(t, "\n")
	first = strings.TrimSpace(first)
	if isRuler(first) || (len(first) >= 10 && strings.Trim(first, "-=*") == "") {
		return listFooter.MatchString(rest) || gatewayFooter.MatchString(strings.TrimSpace(rest))
	}
	return gatewayFooter.MatchString(t)
}

// maxStubWords: a plain version with more words is no stub.
const maxStubWords = 40

// cleaner reports whether the HTML version of a message gives a cleaner
// excerpt than its plain text version. h and p are the text each leaves
// once quoted history, signature and footers are dropped; marked says
// whether the HTML's markup marks quoted history. Measured in words
// (lower-cased, letters and digits), the HTML is cleaner when
//   - it is the plain version less what its markup marks as quoted
//     history: marked, at least 90% of h's words are in p, and p has at
//     least 8 and at least 20% more words than h; or
//   - the plain version is a stub ("This message is in HTML format"): it
//     has at most maxStubWords words, fewer than h, and fewer than a
//     third of them are in h.
//
// Otherwise the plain version, which the sender's client wrote itself,
// stands.
func cleaner(h, p string, marked bool) bool {
	hw, pw := wordsOf(h), wordsOf(p)
	if len(hw) == 0 {
		return false
	}
	if len(pw) == 0 {
		return true
	}
	inP := bag(pw)
	shared := 0 // words in both, counted with their multiplicity
	for _, w := range hw {
		if inP[w] > 0 {
			inP[w]--
			shared++
		}
	}
	if marked && shared*10 >= len(hw)*9 && len(pw) >= len(hw)+8 && len(pw)*10 >= len(hw)*12 {
		return true
	}
	return len(pw) <= maxStubWords && len(pw) < len(hw) && shared*3 < len(pw)
}

func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func bag(words []string) map[string]int {
	m := make(map[string]int, len(words))
	for _, w := range words {
		m[w]++
	}
	return m
}
