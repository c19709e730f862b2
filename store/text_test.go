package store_test

import (
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "client", "1 client"},
		{0, "client", "0 clients"},
		{2, "client", "2 clients"},
		{1, "event", "1 event"},
		{3, "entry", "3 entries"},
		{2, "day", "2 days"},
		{2, "match", "2 matches"},
		{4, "feedback", "4 feedback"},
		{1, "membership", "1 membership"},
	} {
		if got := store.Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{45 * time.Second, "45s"},
		{10 * time.Minute, "10m"},
		{725 * time.Second, "12m 5s"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h 30m"},
		{10*time.Hour + 5*time.Minute + 9*time.Second, "10h 5m"},
		{1500 * time.Millisecond, "2s"},
	} {
		if got := store.FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
