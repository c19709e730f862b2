// Package features turns a piece of text into the sparse feature vector that
// the finance model is trained on and scored with. The generator and the
// runtime scorer both use this package, so a text is seen identically in
// training and in production.
package features

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholder tokens. Tickers, amounts and links carry no sentiment of their
// own, and keeping them verbatim would let the model memorise that "$TSLA" was
// bearish last year.
const (
	TokTicker  = "<tkr>"
	TokUser    = "<usr>"
	TokLink    = "<url>"
	TokNumber  = "<num>"
	TokMoney   = "<money>"
	TokPercent = "<pct>"
	TokPctUp   = "<pct+>" // "+4.2%": the sign is the sentiment in headlines
	TokPctDown = "<pct->"
	TokUpIcon  = "<up>" // 📈 🚀 and friends
	TokDownIcn = "<down>"
)

// Token is a lowercased word, a placeholder, or a punctuation mark. Punct
// tokens end negation scope and are never part of a bigram.
type Token struct {
	Text  string
	Punct bool
}

// icons maps the few emoji that finance posts use as words.
var icons = map[rune]string{
	'📈': TokUpIcon, '🚀': TokUpIcon, '🟢': TokUpIcon, '💰': TokUpIcon, '🔥': TokUpIcon,
	'📉': TokDownIcn, '🔻': TokDownIcn, '🔴': TokDownIcn, '💩': TokDownIcn,
}

// Tokenize splits s into tokens, appending to dst. It lowercases, folds
// curly apostrophes, and replaces links, tickers, handles, amounts and
// percentages by placeholders.
func Tokenize(s string, dst []Token) []Token {
	s = lower(s)
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
		case hasLinkPrefix(s[i:]):
			dst = append(dst, Token{Text: TokLink})
			i = skipNonSpace(s, i)
		case r == '$' && i+1 < len(s) && isASCIILetter(s[i+1]):
			dst = append(dst, Token{Text: TokTicker})
			i = skipWhile(s, i+1, func(b byte) bool { return isASCIILetter(b) || b == '.' || b == '_' })
		case r == '@' && i+1 < len(s) && isWordByte(s[i+1]):
			dst = append(dst, Token{Text: TokUser})
			i = skipWhile(s, i+1, isWordByte)
		case r == '$' || r == '€' || r == '£':
			// Currency amount: "$52", "$1.38 billion".
			j := skipWhile(s, i+size, func(b byte) bool { return b == ' ' })
			if j < len(s) && isDigit(s[j]) {
				dst = append(dst, Token{Text: TokMoney})
				i = skipNumber(s, j)
			} else {
				i += size
			}
		case isDigit(byte(r)) && r < utf8.RuneSelf,
			(r == '+' || r == '-') && i+1 < len(s) && isDigit(s[i+1]) && (i == 0 || !isWordByte(s[i-1])):
			sign := byte(0)
			if r == '+' || r == '-' {
				sign = byte(r)
				i++
			}
			j := skipNumber(s, i)
			tok := TokNumber
			if j < len(s) && s[j] == '%' {
				j++
				switch sign {
				case '+':
					tok = TokPctUp
				case '-':
					tok = TokPctDown
				default:
					tok = TokPercent
				}
			}
			dst = append(dst, Token{Text: tok})
			i = j
		case r == '\'' && strings.HasPrefix(s[i:], "'s") && (i+2 == len(s) || !isASCIILetter(s[i+2])):
			i += 2 // possessive after a handle or a ticker: "@jane's"
		case r == '\'' || r == '-' || r == '#' || r == '_' || r == '/' || r == '&' || r == '*' || r == '"' || r == '(' || r == ')':
			// Joiners and decoration: split words here, but they do not end a
			// clause ("all-time high", "#oil", "s&p").
			i += size
		case r == '.' || r == ',' || r == ';' || r == ':' || r == '!' || r == '?' || r == '|' || r == '…':
			dst = append(dst, Token{Text: s[i : i+size], Punct: true})
			i += size
		case unicode.IsLetter(r):
			j := i
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if unicode.IsLetter(r2) || (r2 < utf8.RuneSelf && isDigit(byte(r2))) {
					j += sz
					continue
				}
				// Keep the apostrophe of "don't", "isn't"; drop a possessive "'s".
				if r2 == '\'' && j+1 < len(s) && isASCIILetter(s[j+1]) {
					if s[j+1] == 's' && (j+2 == len(s) || !isASCIILetter(s[j+2])) {
						break
					}
					j += sz
					continue
				}
				break
			}
			dst = append(dst, Token{Text: s[i:j]})
			i = j
			if i < len(s) && s[i] == '\'' && i+1 < len(s) && s[i+1] == 's' {
				i += 2
			}
		default:
			if tok, ok := icons[r]; ok {
				dst = append(dst, Token{Text: tok})
			}
			i += size
		}
	}
	return dst
}

// lower lowercases s and folds typographic apostrophes and dashes to ASCII, so
// "don’t" is a negation like "don't". It allocates only when s changes.
func lower(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ToLower(s)
	if strings.ContainsAny(s, "’‘–—") {
		s = strings.NewReplacer("’", "'", "‘", "'", "–", "-", "—", "-").Replace(s)
	}
	return s
}

func hasLinkPrefix(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "www.")
}

func skipNonSpace(s string, i int) int {
	for i < len(s) && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r' {
		i++
	}
	return i
}

func skipWhile(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

// skipNumber skips "1,234.5", "4.52", "1.38b", "10k", "1q20" and returns the
// index after it.
func skipNumber(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case isDigit(c), isASCIILetter(c):
			i++
		case (c == '.' || c == ',') && i+1 < len(s) && isDigit(s[i+1]):
			i++
		default:
			return i
		}
	}
	return i
}

func isDigit(b byte) bool       { return '0' <= b && b <= '9' }
func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
func isWordByte(b byte) bool    { return isDigit(b) || isASCIILetter(b) || b == '_' }
