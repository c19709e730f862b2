package sentiment_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"regexp"
	"strings"
	"testing"

	cdipaolo "github.com/cdipaolo/sentiment"

	"github.com/brokersync/brokersync/ingest/sentiment"
)

const validCSV = "testdata/twitter-financial-news/valid.csv"

type labelled struct{ text, label string }

func validRows(tb testing.TB) []labelled {
	tb.Helper()
	f, err := os.Open(validCSV)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var rows []labelled
	for _, r := range recs[1:] {
		rows = append(rows, labelled{r[0], r[1]})
	}
	return rows
}

// alwaysNeutral is the majority-class baseline.
type alwaysNeutral struct{}

func (alwaysNeutral) Score(string) sentiment.Result {
	return sentiment.Result{Label: sentiment.Neutral}
}

// cdipaoloAlone is the library by itself, as it ships: sentiment.Restore()
// and Predict, 0 read as negative and 1 as positive. It never says neutral.
type cdipaoloAlone struct{ models cdipaolo.Models }

func (c cdipaoloAlone) Score(text string) sentiment.Result {
	if c.models.SentimentAnalysis(text, cdipaolo.English).Score == 1 {
		return sentiment.Result{Label: sentiment.Positive, Score: 1}
	}
	return sentiment.Result{Label: sentiment.Negative, Score: -1}
}

func evaluate(t *testing.T, s sentiment.Scorer) sentiment.Report {
	t.Helper()
	f, err := os.Open(validCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := sentiment.Evaluate(f, s)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestValidMacroF1 is the product's goal: macro-F1 of at least 0.80 on
// valid.csv, which no part of the model was trained or tuned on. It logs
// the full reports of the model and of both baselines:
//
//	go test -run TestValidMacroF1 -v ./ingest/sentiment/
func TestValidMacroF1(t *testing.T) {
	lib, err := cdipaolo.Restore()
	if err != nil {
		t.Fatal(err)
	}
	model := evaluate(t, load(t))
	neutral := evaluate(t, alwaysNeutral{})
	alone := evaluate(t, cdipaoloAlone{lib})
	t.Logf("BrokerSync scorer on %s:\n%s", validCSV, model)
	t.Logf("baseline, always neutral:\n%s", neutral)
	t.Logf("baseline, cdipaolo/sentiment alone:\n%s", alone)

	if model.MacroF1 < 0.80 {
		t.Errorf("macro-F1 %.4f, want at least 0.80", model.MacroF1)
	}
	// The baselines reproduce the figures in the dataset's README, which
	// checks this harness as much as the model.
	if neutral.Rows != 2388 || neutral.Confusion[1][1] != 1566 {
		t.Errorf("always-neutral baseline: %d rows, %d neutral; want 2388 and 1566", neutral.Rows, neutral.Confusion[1][1])
	}
	if alone.MacroF1 > 0.25 {
		t.Errorf("cdipaolo alone macro-F1 %.4f; the README measured 0.18", alone.MacroF1)
	}
}

func TestRunLines(t *testing.T) {
	in := "Thanks, great fill on the crude this morning.\n\nI'm not happy with the slippage.\r\nPlease send the specs"
	var out bytes.Buffer
	if err := sentiment.RunLines(strings.NewReader(in), &out, load(t)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d output lines for 4 input lines:\n%s", len(lines), out.String())
	}
	format := regexp.MustCompile(`^(negative|neutral|positive)\t-?[01]\.\d{3}$`)
	for i, l := range lines {
		if !format.MatchString(l) {
			t.Errorf("line %d %q is not label<TAB>score", i+1, l)
		}
	}
	for i, want := range []string{"positive", "neutral\t0.000", "negative", "neutral"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want it to start with %q", i+1, lines[i], want)
		}
	}
}

// fixed scores by a lookup table, so report arithmetic can be checked by hand.
type fixed map[string]sentiment.Label

func (f fixed) Score(text string) sentiment.Result { return sentiment.Result{Label: f[text]} }

func TestEvaluateReport(t *testing.T) {
	csvText := "text,label\n" +
		"a,0\nb,0\n" + // negative: one right, one called neutral
		"c,2\nd,2\n\"e\nwith a newline\",2\n" + // neutral: all right
		"f,1\n" // positive: called negative
	s := fixed{"a": sentiment.Negative, "b": sentiment.Neutral, "c": sentiment.Neutral, "d": sentiment.Neutral,
		"e\nwith a newline": sentiment.Neutral, "f": sentiment.Negative}
	rep, err := sentiment.Evaluate(strings.NewReader(csvText), s)
	if err != nil {
		t.Fatal(err)
	}
	want := `rows      6
accuracy  0.6667
macro-F1  0.4524

label      precision  recall      F1  support
negative      0.5000  0.5000  0.5000        2
neutral       0.7500  1.0000  0.8571        3
positive      0.0000  0.0000  0.0000        1

confusion (rows: actual, columns: predicted)
            negative   neutral  positive
negative           1         1         0
neutral            0         3         0
positive           1         0         0
`
	if got := rep.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

func TestEvaluateMalformedCSV(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"unknown label", "text,label\nfine,2\nalso fine,0\nbad,7\n", "line 4: label \"7\""},
		{"missing field", "text,label\nfine,2\nno label here\n", "line 3: 1 fields, want 2"},
		{"bare quote", "text,label\nfine,2\nit \"broke\" here,1\n", "line 3"},
		{"no header", "just a text,1\n", "line 1: header"},
		{"empty", "", "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sentiment.Evaluate(strings.NewReader(tc.csv), alwaysNeutral{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

const (
	deskCSV    = "testdata/desk.csv"
	deskDevCSV = "testdata/desk-dev.csv"
)

func evaluateFile(t *testing.T, path string, s sentiment.Scorer) sentiment.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := sentiment.Evaluate(f, s)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestDeskMacroF1 reports the model on the desk evaluation set, client
// messages written and labelled by testdata/DESK-GUIDELINE.md and never
// trained or tuned on. The floor is the figure recorded in the README, so a
// change that loses ground on how clients write fails here:
//
//	go test -run TestDeskMacroF1 -v ./ingest/sentiment/
func TestDeskMacroF1(t *testing.T) {
	rep := evaluateFile(t, deskCSV, load(t))
	t.Logf("BrokerSync scorer on %s:\n%s", deskCSV, rep)
	if rep.MacroF1 < deskFloor {
		t.Errorf("desk macro-F1 %.4f, want at least %.2f", rep.MacroF1, deskFloor)
	}
}

// deskFloor is the desk macro-F1 the README records, rounded down.
const deskFloor = 0.86

// TestDeskSetsAreBalancedAndDisjoint checks the desk files keep the shape
// the guideline promises: at least 300 evaluation rows, about a third per
// class, and no text shared between the evaluation set and the list rules
// are developed against (nor with any training file).
func TestDeskSetsAreBalancedAndDisjoint(t *testing.T) {
	read := func(path string) map[string]string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[string]string, len(recs))
		for _, r := range recs[1:] {
			key := strings.TrimSpace(strings.ToLower(r[0]))
			if _, dup := m[key]; dup && path != trainingFiles[0] {
				t.Errorf("%s: %q appears twice", path, r[0])
			}
			m[key] = r[1]
		}
		return m
	}
	desk := read(deskCSV)
	if len(desk) < 300 {
		t.Errorf("%s has %d rows, want at least 300", deskCSV, len(desk))
	}
	count := map[string]int{}
	for _, l := range desk {
		count[l]++
	}
	for _, l := range []string{"negative", "neutral", "positive"} {
		if share := float64(count[l]) / float64(len(desk)); share < 0.28 || share > 0.39 {
			t.Errorf("%s: %s is %.0f%% of the rows, want about a third", deskCSV, l, 100*share)
		}
	}
	for _, other := range append([]string{deskDevCSV}, trainingFiles...) {
		for text := range read(other) {
			if _, ok := desk[text]; ok {
				t.Errorf("%q is in both %s and %s", text, deskCSV, other)
			}
		}
	}
}

// trainingFiles are every labelled file the generator trains on.
var trainingFiles = []string{"testdata/twitter-financial-news/train.csv"}
