package reminders

import (
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Preferred contact times as words, in the client's zone.
var namedTimes = map[string][2]int{
	"morning":   {8 * 60, 12 * 60},
	"afternoon": {12 * 60, 17 * 60},
	"evening":   {17 * 60, 20 * 60},
}

// placementDays bounds the search for a time that suits broker and client.
const placementDays = 14

// WorkingTime returns the first instant at or after t, to the minute, that
// lies in the broker's working hours (Monday to Friday, set's hours, in
// the broker's zone) and, when the client has preferred contact times, in
// one of them in the client's zone. Days are calendar days in each zone, so
// 08:00 stays 08:00 across a daylight-saving change in either. When no
// time in the next two weeks suits both, the client's preference gives way.
func WorkingTime(t time.Time, set *store.FollowupSettings, broker *time.Location, prefs []string, client *time.Location) time.Time {
	windows := clientWindows(prefs)
	if client == nil {
		client = broker
	}
	if at, ok := place(t, set, broker, windows, client); ok {
		return at
	}
	at, _ := place(t, set, broker, nil, client)
	return at
}

func place(t time.Time, set *store.FollowupSettings, broker *time.Location, windows [][2]int, client *time.Location) (time.Time, bool) {
	local := t.In(broker)
	y, m, d := local.Date()
	for i := range placementDays + 1 {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, broker)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		start := clock(day, set.DayStart, broker)
		end := clock(day, set.DayEnd, broker)
		if start.Before(t) {
			start = t.Truncate(time.Minute)
			if start.Before(t) {
				start = start.Add(time.Minute)
			}
		}
		for at := start; at.Before(end); at = at.Add(time.Minute) {
			if len(windows) == 0 || inWindows(at.In(client), windows) {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

// clock is minutes after midnight on day's date in loc; a wall time that a
// spring-forward change skips is the instant after the gap.
func clock(day time.Time, minutes int, loc *time.Location) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, loc)
}

func inWindows(t time.Time, windows [][2]int) bool {
	m := t.Hour()*60 + t.Minute()
	for _, w := range windows {
		if m >= w[0] && m < w[1] {
			return true
		}
	}
	return false
}

func clientWindows(prefs []string) [][2]int {
	var out [][2]int
	for _, p := range prefs {
		p = strings.ToLower(strings.TrimSpace(p))
		if w, ok := namedTimes[p]; ok {
			out = append(out, w)
			continue
		}
		a, b, ok := strings.Cut(p, "-")
		if !ok {
			continue
		}
		s, ok1 := minutes(a)
		e, ok2 := minutes(b)
		if ok1 && ok2 && s < e {
			out = append(out, [2]int{s, e})
		}
	}
	return out
}

func minutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}
