package duetime_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/reminders/duetime"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

const layout = "Mon 2006-01-02 15:04 MST"

// The 2027 changes: America/Chicago springs forward on Sun 14 Mar and falls
// back on Sun 7 Nov; Europe/London on Sun 28 Mar and Sun 31 Oct.
func TestParseAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		zone, now, phrase, want string
	}{
		// Chicago, spring: Friday before the change.
		{"America/Chicago", "2027-03-12 10:30", "in 2 minutes", "Fri 2027-03-12 10:32 CST"},
		{"America/Chicago", "2027-03-12 10:30", "in 3 hours", "Fri 2027-03-12 13:30 CST"},
		{"America/Chicago", "2027-03-12 10:30", "tomorrow 9am", "Sat 2027-03-13 09:00 CST"},
		{"America/Chicago", "2027-03-12 10:30", "in 2 days", "Sun 2027-03-14 10:30 CDT"},
		{"America/Chicago", "2027-03-12 10:30", "in 3 days", "Mon 2027-03-15 10:30 CDT"},
		{"America/Chicago", "2027-03-12 10:30", "next monday", "Mon 2027-03-15 09:00 CDT"},
		{"America/Chicago", "2027-03-12 10:30", "friday afternoon", "Fri 2027-03-19 15:00 CDT"},
		{"America/Chicago", "2027-03-12 10:30", "in 3 months", "Sat 2027-06-12 10:30 CDT"},
		{"America/Chicago", "2027-03-12 10:30", "in 10 months", "Wed 2028-01-12 10:30 CST"},
		{"America/Chicago", "2027-03-12 10:30", "dec 15 2pm", "Wed 2027-12-15 14:00 CST"},
		{"America/Chicago", "2027-03-12 10:30", "2027-12-15 14:00", "Wed 2027-12-15 14:00 CST"},
		{"America/Chicago", "2027-03-12 10:30", "In 2  Weeks", "Fri 2027-03-26 10:30 CDT"},
		// The night of the change: hours are elapsed time, days are calendar days.
		{"America/Chicago", "2027-03-13 23:30", "in 3 hours", "Sun 2027-03-14 03:30 CDT"},
		{"America/Chicago", "2027-03-13 23:30", "tomorrow 9am", "Sun 2027-03-14 09:00 CDT"},
		// Chicago, autumn.
		{"America/Chicago", "2027-11-05 10:30", "tomorrow 9am", "Sat 2027-11-06 09:00 CDT"},
		{"America/Chicago", "2027-11-05 10:30", "in 3 days", "Mon 2027-11-08 10:30 CST"},
		{"America/Chicago", "2027-11-05 10:30", "next monday", "Mon 2027-11-08 09:00 CST"},
		{"America/Chicago", "2027-11-06 23:00", "tomorrow 9am", "Sun 2027-11-07 09:00 CST"},
		{"America/Chicago", "2027-11-06 23:00", "in 3 hours", "Sun 2027-11-07 01:00 CST"},
		// London, spring and autumn.
		{"Europe/London", "2027-03-26 10:30", "tomorrow 9am", "Sat 2027-03-27 09:00 GMT"},
		{"Europe/London", "2027-03-26 10:30", "in 3 days", "Mon 2027-03-29 10:30 BST"},
		{"Europe/London", "2027-03-26 10:30", "next monday", "Mon 2027-03-29 09:00 BST"},
		{"Europe/London", "2027-03-27 22:00", "tomorrow 9am", "Sun 2027-03-28 09:00 BST"},
		{"Europe/London", "2027-10-29 10:30", "tomorrow 9am", "Sat 2027-10-30 09:00 BST"},
		{"Europe/London", "2027-10-29 10:30", "in 3 days", "Mon 2027-11-01 10:30 GMT"},
		{"Europe/London", "2027-10-29 10:30", "next monday", "Mon 2027-11-01 09:00 GMT"},
		{"Europe/London", "2027-10-30 22:00", "tomorrow 9am", "Sun 2027-10-31 09:00 GMT"},
		// Past readings roll forward where the phrase allows it.
		{"America/Chicago", "2026-12-20 10:00", "dec 15 2pm", "Wed 2027-12-15 14:00 CST"},
		{"America/Chicago", "2026-12-20 10:00", "9am", "Mon 2026-12-21 09:00 CST"},
		{"America/Chicago", "2026-12-20 10:00", "tomorrow", "Mon 2026-12-21 09:00 CST"},
		// Month ends are kept.
		{"America/Chicago", "2027-01-31 10:00", "in 1 month", "Sun 2027-02-28 10:00 CST"},
	}
	for _, tc := range tests {
		t.Run(tc.zone+" "+tc.now+" "+tc.phrase, func(t *testing.T) {
			loc := zone(t, tc.zone)
			now, err := time.ParseInLocation("2006-01-02 15:04", tc.now, loc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := duetime.Parse(tc.phrase, now, loc)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.phrase, err)
			}
			if s := got.In(loc).Format(layout); s != tc.want {
				t.Errorf("Parse(%q) at %s = %s, want %s", tc.phrase, tc.now, s, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	loc := zone(t, "America/Chicago")
	now := time.Date(2026, 12, 20, 10, 0, 0, 0, loc)
	for phrase, want := range map[string]error{
		"blah":                   duetime.ErrUnknown,
		"":                       duetime.ErrUnknown,
		"2026-02-30":             duetime.ErrUnknown,
		"2026-12-15 14:00":       duetime.ErrPast,
		"tomorrow 9am call back": duetime.ErrUnknown,
		"in 0 days":              duetime.ErrUnknown,
	} {
		if _, err := duetime.Parse(phrase, now, loc); !errors.Is(err, want) {
			t.Errorf("Parse(%q): got %v, want %v", phrase, err, want)
		}
	}
}

func TestSplitFindsTheLongestTimeAtTheStart(t *testing.T) {
	loc := zone(t, "America/Chicago")
	now := time.Date(2026, 12, 10, 8, 0, 0, 0, loc)
	for _, tc := range []struct {
		text string
		next int
		want string
	}{
		{"in 2 minutes call back about Dec corn", 3, "Thu 2026-12-10 08:02 CST"},
		{"tomorrow 9am send the recap", 2, "Fri 2026-12-11 09:00 CST"},
		{"friday afternoon check fills", 2, "Fri 2026-12-11 15:00 CST"},
		{"dec 15 2pm basis call", 3, "Tue 2026-12-15 14:00 CST"},
		{"2026-12-15 14:00 roll the hedge", 2, "Tue 2026-12-15 14:00 CST"},
		{"next monday ask about the spread", 2, "Mon 2026-12-14 09:00 CST"},
	} {
		got, next, err := duetime.Split(strings.Fields(tc.text), now, loc)
		if err != nil {
			t.Errorf("Split(%q): %v", tc.text, err)
			continue
		}
		if next != tc.next || got.Format(layout) != tc.want {
			t.Errorf("Split(%q) = %s, %d; want %s, %d", tc.text, got.Format(layout), next, tc.want, tc.next)
		}
	}
	if _, _, err := duetime.Split(strings.Fields("whenever you like call"), now, loc); !errors.Is(err, duetime.ErrUnknown) {
		t.Errorf("no time: got %v, want ErrUnknown", err)
	}
}
