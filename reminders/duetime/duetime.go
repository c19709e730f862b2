// Package duetime reads when a reminder is due from what a broker typed
// ("in 2 minutes", "tomorrow 9am", "next monday", "friday afternoon",
// "in 3 months", "2026-12-15 14:00", "dec 15 2pm"), in the broker's own
// time zone.
//
// Phrases are read by github.com/olebedev/when, wrapped so that day, week,
// month and year arithmetic is calendar arithmetic on the broker's wall
// clock: "tomorrow 9am" is 09:00 the next day also across a daylight-saving
// change (when alone adds 24 hours and lands at 10:00 or 08:00), and
// "in 10 months" is in next year's calendar (when alone wraps into the
// current year). Minutes and hours are elapsed time.
package duetime

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/olebedev/when"
	"github.com/olebedev/when/rules/common"
	"github.com/olebedev/when/rules/en"
)

// DefaultHour is the time of day of a phrase that names only a day
// ("tomorrow", "next monday", "dec 15").
const DefaultHour = 9

// MaxWords is the longest phrase Split looks for.
const MaxWords = 6

// Examples are shown to a broker whose phrase was not understood.
var Examples = []string{"in 2 minutes", "in 3 hours", "tomorrow 9am", "next monday", "friday afternoon", "in 3 months", "2026-12-15 14:00", "dec 15 2pm"}

// ErrUnknown is a phrase that is not a time.
var ErrUnknown = errors.New("not a time BrokerSync understands")

// ErrPast is a time that has already gone.
var ErrPast = errors.New("that time has passed")

var parser = func() *when.Parser {
	w := when.New(nil)
	w.Add(en.All...)
	w.Add(common.All...)
	return w
}()

var (
	relativeRE = regexp.MustCompile(`^in\s+(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)$`)
	isoRE      = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:[ t](\d{1,2}):(\d{2}))?$`)
	timeWordRE = regexp.MustCompile(`\d\s*(?:am|pm|a\.m\.|p\.m\.)|\d:\d\d|\bnoon\b|\bmidnight\b|\bmorning\b|\bafternoon\b|\bevening\b|\bnight\b`)
	yearRE     = regexp.MustCompile(`\b\d{4}\b`)
	monthRE    = regexp.MustCompile(`\b` + en.MONTH_OFFSET_PATTERN)
	words      = map[string]int{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
		"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
)

// Parse reads phrase as a time after now, in loc. The whole phrase must be a
// time. ErrUnknown, ErrPast.
func Parse(phrase string, now time.Time, loc *time.Location) (time.Time, error) {
	p := strings.ToLower(strings.Join(strings.Fields(phrase), " "))
	if p == "" {
		return time.Time{}, ErrUnknown
	}
	now = now.In(loc)
	if m := relativeRE.FindStringSubmatch(p); m != nil {
		return relative(m[1], m[2], now)
	}
	if m := isoRE.FindStringSubmatch(p); m != nil {
		return iso(m, now, loc)
	}
	// when reads the broker's wall clock given as UTC, which has no
	// daylight-saving changes: its day arithmetic is then calendar
	// arithmetic, and the wall time it finds is placed in loc afterwards.
	wall := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), 0, time.UTC)
	r, err := parser.Parse(p, wall)
	if err != nil || r == nil || r.Index != 0 || strings.TrimSpace(r.Text) != p {
		return time.Time{}, ErrUnknown
	}
	w := r.Time
	hasTime := timeWordRE.MatchString(p)
	if !hasTime {
		w = time.Date(w.Year(), w.Month(), w.Day(), DefaultHour, 0, 0, 0, time.UTC)
	}
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
	if !t.After(now) {
		onlyTime := hasTime && w.Year() == wall.Year() && w.YearDay() == wall.YearDay() && !strings.Contains(p, "today")
		switch {
		case onlyTime: // "9am" said at 10:30 means tomorrow's
			t = time.Date(w.Year(), w.Month(), w.Day()+1, w.Hour(), w.Minute(), 0, 0, loc)
		case monthRE.MatchString(p) && !yearRE.MatchString(p): // "dec 15" said on Dec 20 is next December's
			t = time.Date(w.Year()+1, w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
		}
		if !t.After(now) {
			return time.Time{}, ErrPast
		}
	}
	return t, nil
}

func relative(n, unit string, now time.Time) (time.Time, error) {
	k, ok := words[n]
	if !ok {
		var err error
		if k, err = strconv.Atoi(n); err != nil || k <= 0 || k > 100000 {
			return time.Time{}, ErrUnknown
		}
	}
	y, mo, d := now.Date()
	h, mi, s := now.Clock()
	switch strings.TrimSuffix(unit, "s") {
	case "minute", "min":
		return now.Add(time.Duration(k) * time.Minute), nil
	case "hour", "hr":
		return now.Add(time.Duration(k) * time.Hour), nil
	case "day":
		return time.Date(y, mo, d+k, h, mi, s, 0, now.Location()), nil
	case "week":
		return time.Date(y, mo, d+7*k, h, mi, s, 0, now.Location()), nil
	case "month":
		return addMonths(now, k), nil
	case "year":
		return addMonths(now, 12*k), nil
	}
	return time.Time{}, ErrUnknown
}

// addMonths keeps the day of the month, or the month's last day when it is
// shorter: Jan 31 + 1 month is Feb 28 (29), not Mar 3.
func addMonths(t time.Time, k int) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	first := time.Date(y, mo+time.Month(k), 1, h, mi, s, 0, t.Location())
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), h, mi, s, 0, t.Location())
}

func iso(m []string, now time.Time, loc *time.Location) (time.Time, error) {
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	h, mi := DefaultHour, 0
	if m[4] != "" {
		h, _ = strconv.Atoi(m[4])
		mi, _ = strconv.Atoi(m[5])
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 {
		return time.Time{}, ErrUnknown
	}
	t := time.Date(y, time.Month(mo), d, h, mi, 0, 0, loc)
	if t.Day() != d { // Feb 30
		return time.Time{}, ErrUnknown
	}
	if !t.After(now) {
		return time.Time{}, ErrPast
	}
	return t, nil
}

// Split finds the longest run of words at the start of args that is a time
// and returns it and the index of the first word after it. ok is false when
// no start of args is a time; err is ErrPast when the only reading is past.
func Split(args []string, now time.Time, loc *time.Location) (t time.Time, next int, err error) {
	err = ErrUnknown
	for n := min(len(args), MaxWords); n >= 1; n-- {
		got, perr := Parse(strings.Join(args[:n], " "), now, loc)
		if perr == nil {
			return got, n, nil
		}
		if perr == ErrPast && err == ErrUnknown {
			err = ErrPast
		}
	}
	return time.Time{}, 0, err
}
