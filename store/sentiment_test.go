package store_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
)

func TestSentimentReadsWithoutContradiction(t *testing.T) {
	for _, tc := range []struct {
		s    store.Sentiment
		want string
	}{
		{store.Sentiment{Label: "positive", Score: 0.62}, "positive +0.62"},
		{store.Sentiment{Label: "negative", Score: -0.48}, "negative -0.48"},
		{store.Sentiment{Label: "neutral", Score: 0}, "neutral"},
		// Scores of an earlier model: a neutral text's lean, and a label
		// the lean disagreed with. The word stands alone.
		{store.Sentiment{Label: "neutral", Score: -0.03}, "neutral"},
		{store.Sentiment{Label: "negative", Score: 0.02}, "negative"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
	for mean, want := range map[float64]string{0.42: "positive +0.42", 0.05: "neutral +0.05", -0.2: "negative -0.20", -0.001: "neutral 0.00"} {
		if got := store.DescribeMeanSentiment(mean); got != want {
			t.Errorf("mean %v: %q, want %q", mean, got, want)
		}
	}
}
