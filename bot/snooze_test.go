package bot_test

import (
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
)

// TestSnoozeUntilAcrossDST: "tomorrow 9:00" and "next week" are 09:00 on
// the broker's wall clock across the 2027 changes; "1 hour" is elapsed
// time.
func TestSnoozeUntilAcrossDST(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	london, _ := time.LoadLocation("Europe/London")
	for _, tc := range []struct {
		choice string
		now    time.Time
		want   time.Time
	}{
		// Sat 13 March 2027 in Chicago: the clocks go forward that night.
		{"tomorrow", time.Date(2027, 3, 13, 15, 0, 0, 0, chicago), time.Date(2027, 3, 14, 14, 0, 0, 0, time.UTC)},
		{"week", time.Date(2027, 3, 12, 15, 0, 0, 0, chicago), time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC)},
		{"1h", time.Date(2027, 3, 14, 1, 30, 0, 0, chicago), time.Date(2027, 3, 14, 3, 30, 0, 0, chicago)},
		// Sat 30 October 2027 in London: the clocks go back that night.
		{"tomorrow", time.Date(2027, 10, 30, 18, 0, 0, 0, london), time.Date(2027, 10, 31, 9, 0, 0, 0, time.UTC)},
		{"week", time.Date(2027, 10, 29, 18, 0, 0, 0, london), time.Date(2027, 11, 1, 9, 0, 0, 0, time.UTC)},
		// A Monday: next week is the Monday after.
		{"week", time.Date(2027, 3, 29, 10, 0, 0, 0, london), time.Date(2027, 4, 5, 8, 0, 0, 0, time.UTC)},
	} {
		loc := tc.now.Location()
		got, ok := bot.SnoozeUntil(tc.choice, tc.now, loc)
		if !ok || !got.Equal(tc.want) {
			t.Errorf("%s from %v: got %v, want %v", tc.choice, tc.now, got.In(loc), tc.want.In(loc))
		}
	}
	if _, ok := bot.SnoozeUntil("fortnight", time.Now(), time.UTC); ok {
		t.Error("an unknown choice was accepted")
	}
}
