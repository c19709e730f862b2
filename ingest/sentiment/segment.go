package sentiment

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// shortText is the length up to which a text is scored whole: the finance
// model was trained on tweets, which are at most 280 characters and often
// two sentences. Longer texts are scored sentence by sentence.
const shortText = 280

// Segments returns the parts of text that carry the writer's opinion, in
// order: the text itself when it is short, else its sentences. Greetings,
// sign-offs with the signature below them, legal disclaimers and quoted
// replies are dropped first, because "Thanks," above a name or a
// confidentiality notice says nothing about how the client feels.
func Segments(text string) []string {
	body := strings.TrimSpace(stripBoilerplate(text))
	if body == "" {
		return nil
	}
	if len(body) <= shortText {
		return []string{body}
	}
	return sentences(body)
}

// stripBoilerplate removes greeting lines, the sign-off and everything
// after it, disclaimer paragraphs and quoted replies. A message that is
// nothing but a thank-you and a name is kept as its thank-you.
func stripBoilerplate(text string) string {
	if !strings.ContainsAny(text, "\n\r") {
		// One line: the common case for chat, and the fast path.
		return stripGreeting(text)
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var paras []string
	var para []string
	var signOff string
	content := false
	flush := func() {
		if len(para) > 0 {
			p := strings.Join(para, " ")
			if !isDisclaimer(p) {
				paras = append(paras, p)
			}
			para = para[:0]
		}
	}
lines:
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
			continue
		case strings.HasPrefix(line, ">"):
			continue // quoted text of an earlier message
		case isReplyHeader(line), line == "--", line == "__":
			break lines
		case isSignOff(line):
			signOff = line
			break lines
		case strings.HasPrefix(strings.ToLower(line), "sent from my"):
			continue
		}
		if !content && len(para) == 0 {
			line = stripGreeting(line)
			if line == "" {
				continue
			}
		}
		// Hard-wrapped email lines join into one paragraph; list items
		// stay apart so each is its own sentence.
		if len(para) > 0 && isListItem(line) {
			flush()
		}
		para = append(para, line)
		content = true
	}
	flush()
	if len(paras) == 0 && strings.HasPrefix(strings.ToLower(signOff), "than") {
		return signOff
	}
	return strings.Join(paras, "\n\n")
}

var greetings = []string{"hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening",
	"greetings", "hiya", "howdy", "morning", "afternoon", "evening"}

// stripGreeting removes a leading salutation such as "Hi John," or
// "Good morning team!" and returns the rest of the line.
func stripGreeting(line string) string {
	for i, g := range greetings {
		if len(line) < len(g) || !strings.EqualFold(line[:len(g)], g) {
			continue
		}
		rest := line[len(g):]
		if rest != "" && isLetterOrDigit(rest) {
			continue // "Heyday", "Dearly"
		}
		// "Evening session was rough" is not a greeting: a bare time of
		// day greets only when punctuation follows it or a name.
		bare := i >= len(greetings)-3
		// The salutation ends at the first comma, colon, exclamation or
		// dash within two words, or at the end of a line of two words.
		end := strings.IndexAny(rest, ",:!-–")
		if end < 0 {
			if !bare && len(strings.Fields(rest)) <= 2 && !strings.ContainsAny(rest, ".?") {
				return ""
			}
			if bare && strings.TrimSpace(rest) == "" {
				return ""
			}
			return line
		}
		if len(strings.Fields(rest[:end])) > 2 {
			return line
		}
		return strings.TrimSpace(rest[end+1:])
	}
	return line
}

var signOffs = []string{"thanks", "thank you", "many thanks", "thanks again", "thx", "cheers", "best",
	"best regards", "regards", "kind regards", "warm regards", "warmest regards", "sincerely",
	"yours", "yours truly", "all the best", "talk soon", "speak soon", "rgds", "br", "tia",
	"thanks in advance", "with thanks", "respectfully", "take care", "have a good day",
	"have a great day", "have a nice day", "have a good weekend", "have a great weekend"}

// isSignOff reports whether line is a closing formula on its own line, like
// "Best regards," or "Thanks, Tom": the signature block starts there.
func isSignOff(line string) bool {
	l := strings.ToLower(strings.TrimRight(line, " ,.!-"))
	for _, s := range signOffs {
		if l == s {
			return true
		}
		if rest, ok := strings.CutPrefix(l, s+","); ok && len(strings.Fields(rest)) <= 2 {
			return true // "Thanks, Tom"
		}
	}
	return false
}

// isReplyHeader spots the line above a quoted earlier message.
func isReplyHeader(line string) bool {
	l := strings.ToLower(line)
	return strings.HasPrefix(l, "-----original message") ||
		(strings.HasPrefix(l, "on ") && strings.HasSuffix(l, "wrote:")) ||
		strings.HasPrefix(l, "from: ") && strings.Contains(l, "@")
}

// disclaimerMarkers are phrases found in email footers and regulatory
// boilerplate, never in a client's own opinion.
var disclaimerMarkers = []string{
	"confidentiality notice", "is confidential and", "confidential and/or privileged", "privileged and confidential",
	"strictly confidential", "legally privileged", "intended recipient", "intended only for", "intended solely for",
	"received this e-mail in error", "received this email in error", "received this message in error",
	"received this communication in error", "disclaimer", "not an offer", "solicitation to buy",
	"offer or solicitation", "past performance is not", "past performance does not", "involves substantial risk",
	"substantial risk of loss", "may not be suitable for", "unsubscribe", "do not reply to this",
	"this message and any attachments", "this email and any attachments", "this e-mail and any attachments",
	"all rights reserved", "for informational purposes only", "consider the environment before printing",
}

func isDisclaimer(para string) bool {
	l := strings.ToLower(para)
	for _, m := range disclaimerMarkers {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}

func isListItem(line string) bool {
	if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || strings.HasPrefix(line, "• ") {
		return true
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 0 && i < len(line) && (line[i] == '.' || line[i] == ')')
}

func isLetterOrDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// sentences splits a cleaned text at paragraph breaks and at ., ! or ?
// followed by a space and a capital or a quote. Lowercase or a digit after
// a period ("10 Dec. corn", "approx. 50") and decimals ("4.52") do not split.
func sentences(text string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n\n") {
		start := 0
		for i := 0; i < len(para); i++ {
			c := para[i]
			if c != '.' && c != '!' && c != '?' {
				continue
			}
			j := i + 1
			for j < len(para) && (para[j] == '.' || para[j] == '!' || para[j] == '?' || para[j] == '"' || para[j] == ')') {
				j++
			}
			if j == len(para) {
				break
			}
			if para[j] != ' ' {
				continue
			}
			k := j
			for k < len(para) && para[k] == ' ' {
				k++
			}
			if k < len(para) && !startsSentence(para[k:]) {
				continue
			}
			if s := strings.TrimSpace(para[start:j]); s != "" {
				out = append(out, s)
			}
			start, i = k, k-1
		}
		if s := strings.TrimSpace(para[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func startsSentence(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r) || r == '"' || r == '\'' || r == '$' || r == '(' || r == '-' || r == '*'
}
