// Package moviebayes carries cdipaolo/sentiment's English model into the
// binary in a form that loads fast.
//
// sentiment.Restore() gunzips and JSON-decodes the library's 117,000-word
// model, which takes 240-450 ms on our machines: most of the 500 ms load
// budget. The generator exports the same word counts once (Export), and the
// runtime rebuilds the library's own *text.NaiveBayes from them in about
// 70 ms (Load). Predictions are the library's: moviebayes_test.go checks
// that they equal those of sentiment.Restore() on every line of valid.csv.
package moviebayes

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/cdipaolo/goml/base"
	"github.com/cdipaolo/goml/text"
)

// magic starts an exported model; the digit is the format version.
const magic = "cdipaolo-nb/1\n"

// Export writes nb's vocabulary counts in a deterministic binary form:
// header, then for each word (sorted) its length, bytes and two counts.
func Export(nb *text.NaiveBayes, words []string) ([]byte, error) {
	if len(nb.Count) != 2 {
		return nil, fmt.Errorf("moviebayes: model has %d classes, want 2", len(nb.Count))
	}
	words = slices.Clone(words)
	slices.Sort(words)
	var b bytes.Buffer
	b.WriteString(magic)
	put := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	put(nb.Count[0])
	put(nb.Count[1])
	put(nb.DocumentCount)
	put(nb.DictCount)
	put(uint64(len(words)))
	for _, w := range words {
		c, ok := nb.Words.Get(w)
		if !ok {
			return nil, fmt.Errorf("moviebayes: word %q not in model", w)
		}
		put(uint64(len(w)))
		b.WriteString(w)
		put(c.Count[0])
		put(c.Count[1])
	}
	return b.Bytes(), nil
}

// Model is cdipaolo/sentiment's English naive Bayes: class 0 negative,
// class 1 positive, trained on IMDB movie reviews.
type Model struct {
	NB *text.NaiveBayes
}

// Load rebuilds the library model from Export's output.
func Load(data []byte) (*Model, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, errors.New("moviebayes: not an exported cdipaolo model")
	}
	r := bufio.NewReader(bytes.NewReader(data[len(magic):]))
	var err error
	get := func() uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = binary.ReadUvarint(r)
		return v
	}
	nb := text.NewNaiveBayes(nil, 2, base.OnlyWords)
	nb.Count[0], nb.Count[1] = get(), get()
	nb.DocumentCount, nb.DictCount = get(), get()
	total := nb.Count[0] + nb.Count[1]
	if total > 0 {
		nb.Probabilities[0] = float64(nb.Count[0]) / float64(total)
		nb.Probabilities[1] = float64(nb.Count[1]) / float64(total)
	}
	n := get()
	// One backing array for all counts: 117k small slices would cost
	// as many allocations and most of the load time.
	counts := make([]uint64, 0, 2*n)
	buf := make([]byte, 0, 64)
	for i := uint64(0); i < n && err == nil; i++ {
		l := get()
		if err != nil || l > 1<<10 {
			break
		}
		buf = slices.Grow(buf[:0], int(l))[:l]
		if _, err = io.ReadFull(r, buf); err != nil {
			break
		}
		c0, c1 := get(), get()
		counts = append(counts, c0, c1)
		nb.Words.Set(string(buf), text.Word{Count: counts[len(counts)-2 : len(counts) : len(counts)], Seen: c0 + c1})
	}
	if err != nil {
		return nil, fmt.Errorf("moviebayes: corrupt model: %w", err)
	}
	return &Model{NB: nb}, nil
}

// LogOdds is the model's log-odds of positive over negative for text: the
// margin behind the library's Predict. Predict only answers 0 or 1, and a
// 0.51 answer should not weigh like a 0.99 one. It reads the library's
// Probability and falls back to Predict when a long text underflows it.
// ok is false when the model knows no word of text.
func (m *Model) LogOdds(s string) (float64, bool) {
	class, p := m.NB.Probability(s)
	if math.IsNaN(p) {
		// Every word unknown gives the prior, 0.5; NaN means the product
		// of word probabilities underflowed on a long text.
		if m.NB.Predict(s) == 1 {
			return maxLogOdds, true
		}
		return -maxLogOdds, true
	}
	if p == 0.5 && m.NB.Probabilities[0] == m.NB.Probabilities[1] {
		return 0, false
	}
	lo := float64(maxLogOdds)
	if p < 1 {
		lo = math.Min(math.Log(p/(1-p)), maxLogOdds)
	}
	if class == 0 {
		lo = -lo
	}
	return lo, true
}

// maxLogOdds caps the opinion of one text: naive Bayes is overconfident.
const maxLogOdds = 20.0

// Words lists the vocabulary of nb. The library keeps it in an unexported
// map; its JSON form is the only way to enumerate it.
func Words(nb *text.NaiveBayes) ([]string, error) {
	raw, err := nb.Words.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	words := make([]string, 0, len(m))
	for w := range m {
		words = append(words, w)
	}
	slices.Sort(words)
	return words, nil
}
