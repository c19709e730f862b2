package sentiment

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
)

// RunLines scores each line of r, in order, and writes "label<TAB>score"
// for it to w, the score with three decimals. An empty line is neutral, so
// output line n always answers input line n.
func RunLines(r io.Reader, w io.Writer, s Scorer) error {
	in := bufio.NewReaderSize(r, 64<<10)
	out := bufio.NewWriterSize(w, 64<<10)
	var buf []byte
	for {
		line, err := in.ReadString('\n')
		if len(line) > 0 {
			res := s.Score(strings.TrimRight(line, "\r\n"))
			buf = append(buf[:0], res.Label...)
			buf = append(buf, '\t')
			buf = strconv.AppendFloat(buf, round3(res.Score), 'f', 3, 64)
			buf = append(buf, '\n')
			if _, werr := out.Write(buf); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return out.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// round3 rounds to the printed precision, turning a tiny negative score
// into 0.000 rather than -0.000.
func round3(v float64) float64 {
	v = math.Round(v*1000) / 1000
	if v == 0 {
		return 0
	}
	return v
}

// Report is how a scorer did on a labelled file.
type Report struct {
	Rows     int
	Accuracy float64
	MacroF1  float64 // mean of the three classes' F1
	Classes  [3]ClassReport
	// Confusion counts rows by [actual][predicted] label, both in the
	// order negative, neutral, positive.
	Confusion [3][3]int
}

// ClassReport is one label's precision, recall and F1; Support is the
// number of rows that carry it.
type ClassReport struct {
	Label                 Label
	Precision, Recall, F1 float64
	Support               int
}

// Evaluate scores every row of a CSV shaped like twitter-financial-news
// valid.csv (header "text,label"; labels 0 bearish, 1 bullish, 2 neutral,
// or negative/neutral/positive) and compares with the labels. A malformed
// row is an error that names its line.
func Evaluate(r io.Reader, s Scorer) (Report, error) {
	rows, err := dataset.Read(r)
	if err != nil {
		return Report{}, err
	}
	var cm dataset.Confusion
	for _, row := range rows {
		cm.Add(row.Class, classOf(s.Score(row.Text).Label))
	}
	rep := Report{Rows: len(rows), Accuracy: cm.Accuracy(), MacroF1: cm.MacroF1(), Confusion: cm}
	for c := range rep.Classes {
		p, rc, f1 := cm.PRF(dataset.Class(c))
		support := 0
		for _, n := range cm[c] {
			support += n
		}
		rep.Classes[c] = ClassReport{Label: labels[c], Precision: p, Recall: rc, F1: f1, Support: support}
	}
	return rep, nil
}

func classOf(l Label) dataset.Class {
	switch l {
	case Negative:
		return dataset.Negative
	case Positive:
		return dataset.Positive
	}
	return dataset.Neutral
}

// String renders the report as a plain-text table.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows      %d\naccuracy  %.4f\nmacro-F1  %.4f\n\n", r.Rows, r.Accuracy, r.MacroF1)
	fmt.Fprintf(&b, "%-10s %9s %7s %7s %8s\n", "label", "precision", "recall", "F1", "support")
	for _, c := range r.Classes {
		fmt.Fprintf(&b, "%-10s %9.4f %7.4f %7.4f %8d\n", c.Label, c.Precision, c.Recall, c.F1, c.Support)
	}
	fmt.Fprintf(&b, "\nconfusion (rows: actual, columns: predicted)\n%-10s", "")
	for _, l := range labels {
		fmt.Fprintf(&b, " %9s", l)
	}
	b.WriteByte('\n')
	for a, row := range r.Confusion {
		fmt.Fprintf(&b, "%-10s", labels[a])
		for _, n := range row {
			fmt.Fprintf(&b, " %9d", n)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
