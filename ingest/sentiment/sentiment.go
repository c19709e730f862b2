// Package sentiment scores what clients write to their brokers: negative,
// neutral or positive, with a score in [-1, 1].
//
// The scorer is a logistic regression trained on finance tweets
// (twitter-financial-news train.csv) over words, word pairs and stems, plus
// two kinds of prior knowledge that the tweets lack: a finance and
// brokerage lexicon whose rules handle negation, intensifiers and "but"
// ("never filled", "very unhappy"), and the opinion of cdipaolo/sentiment's
// general-English naive Bayes. Training learns how far to trust each. For
// messages (as opposed to headlines) the client part of the lexicon also
// adds its evidence directly, since the tweets cannot teach how clients
// talk. Long texts are scored sentence by sentence without their
// greetings, signatures and disclaimers.
//
// The models are built by go generate (see gen.go) and embedded, so New
// needs no files. See README.md for the figures and how to reproduce them.
package sentiment

import (
	"math"
	"sync"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/features"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/linear"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/moviebayes"
)

// Label is the sentiment class of a text.
type Label string

const (
	Negative Label = "negative"
	Neutral  Label = "neutral"
	Positive Label = "positive"
)

// labels is the class order of the model's outputs.
var labels = [3]Label{Negative, Neutral, Positive}

// Result is the sentiment of one text. Score is the model's confidence in
// Label, signed by it: +P(positive) for a positive text, -P(negative) for a
// negative one, and 0 for a neutral one. So the sign always says the label
// (a reader never sees "negative +0.02" or "neutral -0.40"), and the
// magnitude, at least 1/3 for a polar label, says how sure the model is. A
// mean of scores is how the client sounds on balance, neutral texts
// counting as 0.
type Result struct {
	Label Label
	Score float64
	// Polarity is P(positive) - P(negative): how far the text leans,
	// whatever its label. It ranks texts of one label; it is not shown to
	// readers, since a neutral text may lean either way.
	Polarity float64
}

// Scorer scores texts.
type Scorer interface {
	Score(text string) Result
}

// Model is the trained scorer. It is safe for concurrent use.
type Model struct {
	finance *linear.Model
	scratch sync.Pool // *features.Scratch
}

// New loads the embedded models.
func New() (*Model, error) {
	movie, err := moviebayes.Load(cdipaoloModel)
	if err != nil {
		return nil, err
	}
	fin, err := linear.Decode(financeModel)
	if err != nil {
		return nil, err
	}
	fin.Extractor.Movie = movie
	m := &Model{finance: fin}
	m.scratch.New = func() any { return new(features.Scratch) }
	return m, nil
}

// Score returns the sentiment of text. An empty text, or one that is only
// a greeting or a signature, is neutral with score 0.
func (m *Model) Score(text string) Result {
	segs := Segments(text)
	if len(segs) == 0 {
		return Result{Label: Neutral}
	}
	sc := m.scratch.Get().(*features.Scratch)
	defer m.scratch.Put(sc)
	if len(segs) == 1 {
		return result(m.probs(segs[0], sc))
	}
	// Weigh each sentence by how opinionated it is, |P(pos) - P(neg)|,
	// so that "Please confirm the fill." and "Call me." do not dilute
	// "I'm furious about the slippage." into neutral. The small floor
	// keeps a text of only neutral sentences neutral.
	var sum [3]float64
	var total float64
	for _, s := range segs {
		p := m.probs(s, sc)
		w := 0.05 + math.Abs(p[2]-p[0])
		for c := range sum {
			sum[c] += w * p[c]
		}
		total += w
	}
	for c := range sum {
		sum[c] /= total
	}
	return result(sum)
}

// probs are the class probabilities of one text or sentence.
func (m *Model) probs(text string, sc *features.Scratch) [3]float64 {
	z := m.finance.Logits(m.finance.Extractor.Extract(text, sc))
	if sc.Conversational {
		// The finance model learnt from headlines that one opinion word
		// rarely makes a text polar: 65% of train.csv is neutral and
		// "happy", "furious" or "slippage" hardly occur in it. A client
		// writing "I'm happy with the fill" to their broker means it. So
		// in a message (not a headline) the client lexicon also speaks
		// directly: each unit of its valence adds clientWeight to the
		// log-odds of its class. This is a prior, not learnt: there is no
		// labelled client data. clientWeight was set on hand-written
		// client messages (the tests'); it costs 0.002 of macro-F1 on
		// valid.csv (0.8119 without it), whose few message-like posts
		// it sometimes pushes off neutral.
		z[0] += clientWeight * float64(sc.ClientNeg)
		z[2] += clientWeight * float64(sc.ClientPos)
	}
	if sc.Conversational && sc.Request {
		// "Sell 10 wheat if it drops below 5.50": an order's market
		// words say what the market might do, not how the client feels.
		// Client-lexicon evidence (above) still wins: "please fix the
		// wrong fill" stays a complaint.
		z[1] += requestBias
	}
	if sc.Downplayed {
		// "It's just a warning with very little negative impact": the
		// words of the problem are there, but the writer says it does
		// not matter.
		z[1] += downplayBias
	}
	return linear.Softmax(z)
}

// requestBias is the log-odds of neutral added to a message that asks for
// something or gives an order (features.Scratch.Request).
const requestBias = 1.5

// downplayBias is the log-odds of neutral added when a text downplays a
// problem (features.Scratch.Downplayed).
const downplayBias = 2.5

// clientWeight is the log-odds added per unit of client-lexicon valence in
// a message (see probs).
const clientWeight = 2.0

func result(p [3]float64) Result {
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	r := Result{Label: labels[best], Polarity: p[2] - p[0]}
	switch r.Label {
	case Positive:
		r.Score = p[2]
	case Negative:
		r.Score = -p[0]
	}
	return r
}
