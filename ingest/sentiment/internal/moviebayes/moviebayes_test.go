package moviebayes_test

import (
	"encoding/csv"
	"os"
	"testing"

	cdipaolo "github.com/cdipaolo/sentiment"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/moviebayes"
)

// The re-encoded model must be the library's model: same class for every
// text of valid.csv and a log-odds whose sign is that class.
func TestLoadMatchesLibrary(t *testing.T) {
	lib, err := cdipaolo.Restore()
	if err != nil {
		t.Fatal(err)
	}
	nb := lib[cdipaolo.English]
	words, err := moviebayes.Words(nb)
	if err != nil {
		t.Fatal(err)
	}
	if len(words) < 100000 {
		t.Fatalf("only %d words in the library model", len(words))
	}
	data, err := moviebayes.Export(nb, words)
	if err != nil {
		t.Fatal(err)
	}
	m, err := moviebayes.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/twitter-financial-news/valid.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"I love this", "terrible fill", "", "Great results, shares soar"}
	for _, r := range recs[1:] {
		texts = append(texts, r[0])
	}
	for _, text := range texts {
		want := nb.Predict(text)
		if got := m.NB.Predict(text); got != want {
			t.Fatalf("%q: reloaded model predicts %d, library %d", text, got, want)
		}
		lo, ok := m.LogOdds(text)
		if ok && (lo > 0) != (want == 1) && lo != 0 {
			t.Errorf("%q: log-odds %.3f but library class %d", text, lo, want)
		}
	}
}

func TestLoadRejectsCorruptData(t *testing.T) {
	for _, data := range []string{"", "not a model", "cdipaolo-nb/1\n\x05", "cdipaolo-nb/1\n\x01\x01\x02\x02\x05\x03ab"} {
		if _, err := moviebayes.Load([]byte(data)); err == nil {
			t.Errorf("Load(%q) succeeded", data)
		}
	}
}

// BenchmarkLoad and BenchmarkLibraryRestore compare loading the re-encoded
// model with the library's own Restore (gunzip and JSON).
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("../../cdipaolo.model")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := moviebayes.Load(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLibraryRestore(b *testing.B) {
	for b.Loop() {
		if _, err := cdipaolo.Restore(); err != nil {
			b.Fatal(err)
		}
	}
}
