package train

import (
	"bytes"
	"testing"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/features"
)

var toyRows = []dataset.Row{
	{Text: "shares surge after earnings beat", Class: dataset.Positive},
	{Text: "stock jumps on upgrade", Class: dataset.Positive},
	{Text: "analyst raises price target", Class: dataset.Positive},
	{Text: "shares plunge after earnings miss", Class: dataset.Negative},
	{Text: "stock falls on downgrade", Class: dataset.Negative},
	{Text: "analyst cuts price target", Class: dataset.Negative},
	{Text: "company to present at conference", Class: dataset.Neutral},
	{Text: "earnings call scheduled for tuesday", Class: dataset.Neutral},
	{Text: "board names new chief financial officer", Class: dataset.Neutral},
}

func toyConfig() Config {
	cfg := DefaultConfig()
	cfg.Extractor.Bits = 12
	cfg.Extractor.MovieDiv = 0
	return cfg
}

func TestTrainFitsAndIsDeterministic(t *testing.T) {
	cfg := toyConfig()
	a := Generate(toyRows, nil, cfg)
	b := Generate(toyRows, nil, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs on the same rows give different model files")
	}
	m := Train(toyRows, cfg)
	var sc features.Scratch
	for _, r := range toyRows {
		if got := Predict(m, r.Text, &sc); got != r.Class {
			t.Errorf("%q: predicted %s, want %s (a training row)", r.Text, got, r.Class)
		}
	}
}

func TestCrossValidateCoversEveryRow(t *testing.T) {
	logits := CrossValidate(toyRows, toyConfig(), 3)
	if len(logits) != len(toyRows) {
		t.Fatalf("got %d logits for %d rows", len(logits), len(toyRows))
	}
	for i, z := range logits {
		if z == [k]float64{} {
			t.Errorf("row %d has no out-of-fold logits", i)
		}
	}
}

func TestFoldConfusionsSplitLikeCrossValidate(t *testing.T) {
	// Logits that are right for rows 0, 3, 6 (fold 0) and wrong elsewhere.
	logits := make([][k]float64, len(toyRows))
	for i, r := range toyRows {
		c := int(r.Class)
		if i%3 != 0 {
			c = (c + 1) % k
		}
		logits[i][c] = 1
	}
	cms := FoldConfusions(toyRows, logits, [k]float64{}, 3)
	if len(cms) != 3 {
		t.Fatalf("got %d folds, want 3", len(cms))
	}
	for f, cm := range cms {
		want := 0.0
		if f == 0 {
			want = 1
		}
		if cm.Total() != 3 || cm.Accuracy() != want {
			t.Errorf("fold %d: %d rows, accuracy %.2f; want 3 rows, accuracy %.0f", f, cm.Total(), cm.Accuracy(), want)
		}
	}
}
