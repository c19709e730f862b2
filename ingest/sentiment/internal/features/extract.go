package features

import (
	"math"
	"strings"
)

// Dense feature slots. They come before the hashed space, so their weights
// can be read by name in the trained model.
const (
	LexPositive = iota // log(1 + positive lexicon valence)
	LexNegative        // log(1 + negative lexicon valence)
	Movie              // cdipaolo/sentiment's opinion, squashed to (-1, 1)
	NumDense
)

// Feature is one input of the linear model.
type Feature struct {
	Index uint32
	Value float32
}

// MovieScorer is the general-English opinion (cdipaolo/sentiment's naive
// Bayes): a log-odds of positive over negative, and whether it knew any
// word at all.
type MovieScorer interface {
	LogOdds(text string) (float64, bool)
}

// Extractor turns text into features. Its settings are part of the trained
// model: a model must be scored with the Extractor it was trained with.
//
// The features are: the two lexicon sums and cdipaolo's opinion (dense),
// then hashed indicators for each word (marked when negated), each pair of
// adjacent words, and each word's crude stem. Stopwords get no unigram of
// their own (see stopwords). The hashed part is scaled to unit length, so
// a long headline does not outvote a short one by its word count alone.
type Extractor struct {
	Bits     uint8       // size of the hashed space: 1<<Bits slots
	Movie    MovieScorer // nil leaves the Movie slot empty
	MovieDiv float64     // log-odds divisor before tanh
	Stems    bool        // add stems, so "downgraded" meets "downgrades"
}

// Scratch is reusable working memory for Extract; one per goroutine.
type Scratch struct {
	// Results of the last Extract besides the features: the client
	// lexicon's positive and negative valence, and whether the text
	// reads as a message to someone rather than a headline (see
	// isConversational).
	ClientPos, ClientNeg float32
	Conversational       bool
	// Downplayed: the text says a problem does not matter ("just a
	// warning with very little negative impact").
	Downplayed bool
	// Request: the text asks for something or gives an order ("sell 10
	// wheat if it drops below 5.50", "please call me", "can you..."), or
	// passes on what a report says ("according to", "per the"), so its
	// market words are not the writer's feelings.
	Request bool

	toks  []Token
	feats []Feature
	key   []byte
	span  uint32 // size of the hashed space
}

// add appends the hashed feature h.
func (sc *Scratch) add(h uint32) {
	sc.feats = append(sc.feats, Feature{Index: NumDense + h%sc.span})
}

// Dim is the number of input slots.
func (e *Extractor) Dim() int { return 1 << e.Bits }

// Extract returns the features of text. The slice belongs to sc and is
// valid until its next use.
func (e *Extractor) Extract(text string, sc *Scratch) []Feature {
	sc.toks = Tokenize(text, sc.toks[:0])
	sc.feats = sc.feats[:0]
	sc.span = uint32(e.Dim() - NumDense)
	toks := sc.toks

	var lm mass
	lm, sc.key = lexiconMass(toks, sc.key)
	sc.ClientPos, sc.ClientNeg = lm.clientPos, lm.clientNeg
	sc.Downplayed = lm.downplay
	sc.Request = isRequest(toks)
	sc.Conversational = isConversational(text, toks)
	if lm.pos > 0 {
		sc.feats = append(sc.feats, Feature{LexPositive, float32(math.Log1p(float64(lm.pos)))})
	}
	if lm.neg > 0 {
		sc.feats = append(sc.feats, Feature{LexNegative, float32(math.Log1p(float64(lm.neg)))})
	}
	if e.Movie != nil {
		if lo, ok := e.Movie.LogOdds(text); ok {
			sc.feats = append(sc.feats, Feature{Movie, float32(math.Tanh(lo / e.MovieDiv))})
		}
	}
	dense := len(sc.feats)

	negLeft := 0
	for i, t := range toks {
		if t.Punct {
			negLeft = 0
			continue
		}
		if contrast[t.Text] {
			negLeft = 0
		}
		ns := byte('u') // namespace: plain or negated word
		switch {
		case negLeft > 0 && negRaising[t.Text]:
			ns, negLeft = 'n', raisedSpan
		case negLeft > 0:
			ns = 'n'
			negLeft--
		}
		if !stopwords[t.Text] {
			sc.add(hashString(hashByte(offset, ns), t.Text))
			if st := stem(t.Text); e.Stems && len(st) != len(t.Text) {
				sc.add(hashString(hashByte(offset, ns+1), st))
			}
		}
		if negators[t.Text] {
			negLeft = negationSpan
		}
		if i+1 < len(toks) && !toks[i+1].Punct {
			h := hashString(hashByte(offset, 'b'), t.Text)
			sc.add(hashString(hashByte(h, ' '), toks[i+1].Text))
		}
	}

	if n := len(sc.feats) - dense; n > 0 {
		v := float32(1 / math.Sqrt(float64(n)))
		for i := dense; i < len(sc.feats); i++ {
			sc.feats[i].Value = v
		}
	}
	return sc.feats
}

// negationSpan is how many words a negator reaches: "never got filled",
// "not at all happy".
const negationSpan = 3

// raisedSpan is the reach of a negation passed on by a verb like "think":
// the rest of a short clause, "I don't think [your call was good]".
const raisedSpan = 8

// isConversational reports whether text reads as a message written to
// someone, as clients write to brokers, rather than a headline: it speaks
// in the first or second person (or says please or thanks), or it is a
// sentence, ending in a full stop, question or exclamation mark and not in
// title case, which headlines never are. A link, a $ticker or an @handle
// marks a post or a forwarded article, whose sentiment is the news's: the
// finance model's domain even when it quotes someone saying "we".
func isConversational(text string, toks []Token) bool {
	personal := false
	for _, t := range toks {
		switch {
		case t.Text == TokLink, t.Text == TokTicker, t.Text == TokUser:
			return false
		case personalWords[t.Text]:
			personal = true
		}
	}
	if isTitleCase(text) {
		return false // "What You Need to Know" is a headline
	}
	return personal || isSentence(text) || isChatLine(text)
}

// isTitleCase: at least four words longer than three letters, and at least
// 60% of them capitalised.
func isTitleCase(text string) bool {
	words, capital := longWords(text)
	return words >= 4 && capital*10 >= words*6
}

// longWords counts the space-separated words of text longer than three
// bytes, and how many of them start with a capital letter.
func longWords(text string) (words, capital int) {
	start := -1
	for i := 0; i <= len(text); i++ {
		if i < len(text) && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > 3 {
			words++
			if text[start] >= 'A' && text[start] <= 'Z' {
				capital++
			}
		}
		start = -1
	}
	return words, capital
}

// orderVerbs open an order or a request: "buy 5 lots", "roll the cattle".
var orderVerbs = map[string]bool{
	"buy": true, "sell": true, "roll": true, "cancel": true, "exit": true, "reduce": true, "book": true,
	"put": true, "set": true, "work": true, "move": true, "send": true, "hold": true, "add": true,
	"switch": true, "confirm": true, "check": true, "quote": true, "pls": true, "please": true, "plz": true,
	"register": true, "resend": true, "close": true, "cover": true, "liquidate": true, "flatten": true,
}

// requestPairs are two-word openers of a request or a reported figure.
var requestPairs = map[[2]string]bool{
	{"can", "you"}: true, {"could", "you"}: true, {"would", "you"}: true, {"can", "we"}: true,
	{"could", "we"}: true, {"according", "to"}: true, {"per", "the"}: true,
}

// isRequest reports whether toks give an order, ask for something or pass
// on a report (see Scratch.Request).
func isRequest(toks []Token) bool {
	first := true
	for i, t := range toks {
		if t.Punct {
			continue
		}
		if first && orderVerbs[t.Text] {
			return true
		}
		first = false
		if t.Text == "please" || t.Text == "pls" || t.Text == "plz" {
			return true
		}
		if i+1 < len(toks) && requestPairs[[2]string{t.Text, toks[i+1].Text}] {
			return true
		}
	}
	return false
}

// isChatLine: the text starts with a lower-case letter, as chat lines do
// ("the fees are ridiculous for this level of service") and headlines
// never do.
func isChatLine(text string) bool {
	t := strings.TrimLeft(text, " \t\r\n")
	return t != "" && t[0] >= 'a' && t[0] <= 'z'
}

// isSentence: ends in . ! or ? (perhaps before a quote or bracket) and
// fewer than 60% of its longer words are capitalised.
func isSentence(text string) bool {
	t := strings.TrimRight(text, " \t\r\n\"')")
	if t == "" || !strings.ContainsAny(t[len(t)-1:], ".!?") {
		return false
	}
	words, capital := 0, 0
	for _, w := range strings.Fields(t) {
		if len(w) <= 3 {
			continue
		}
		words++
		if w[0] >= 'A' && w[0] <= 'Z' {
			capital++
		}
	}
	return words > 0 && capital*10 < words*6
}

// stem strips common English inflections. It is not a real stemmer; it only
// has to map a word's forms to one key.
func stem(w string) string {
	for _, suf := range [...]string{"ings", "ing", "ied", "ies", "ed", "es", "s", "e", "ly"} {
		if len(w) > len(suf)+3 && w[len(w)-len(suf):] == suf {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// FNV-1a, inlined so hashing a token does not allocate.
const (
	offset = 2166136261
	prime  = 16777619
)

func hashByte(h uint32, b byte) uint32 { return (h ^ uint32(b)) * prime }

func hashString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * prime
	}
	return h
}
