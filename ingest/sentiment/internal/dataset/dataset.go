// Package dataset reads labelled CSV files shaped like twitter-financial-news
// valid.csv: a header "text,label", then one row per text.
package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Class indexes the three sentiment classes in the order every table in
// this module uses.
type Class int

const (
	Negative Class = iota
	Neutral
	Positive
	NumClasses
)

var classNames = [NumClasses]string{"negative", "neutral", "positive"}

func (c Class) String() string { return classNames[c] }

// Row is one labelled text; Line is where it starts in the file.
type Row struct {
	Text  string
	Class Class
	Line  int
}

// ParseLabel accepts the dataset's codes (0 bearish, 1 bullish, 2 neutral)
// and the names a person labelling by hand would write.
func ParseLabel(s string) (Class, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "negative", "bearish", "neg":
		return Negative, true
	case "1", "positive", "bullish", "pos":
		return Positive, true
	case "2", "neutral", "neu":
		return Neutral, true
	}
	return 0, false
}

// Read parses a labelled CSV. Texts may hold quoted newlines. A header row
// must name the columns text and label (in any order); the first bad row
// is reported with its line number.
func Read(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: want a header line \"text,label\"")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	textCol, labelCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "text":
			textCol = i
		case "label":
			labelCol = i
		}
	}
	if textCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("line 1: header %q: want columns text and label", strings.Join(header, ","))
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			// csv.ParseError already names the line.
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("line %d: %d fields, want %d", line, len(rec), len(header))
		}
		c, ok := ParseLabel(rec[labelCol])
		if !ok {
			return nil, fmt.Errorf("line %d: label %q: want 0 (bearish), 1 (bullish), 2 (neutral) or negative/neutral/positive", line, rec[labelCol])
		}
		rows = append(rows, Row{Text: rec[textCol], Class: c, Line: line})
	}
}
