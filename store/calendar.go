package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// An exchange calendar says which days an exchange does business: Monday to
// Friday, less the holidays the catalogue file lists under "holidays" (by
// calendar name: CME, ICE-US, ICE-EU, LME). Contract date rules count on
// the calendar their commodity names.

// DateRule is how a contract's first notice day or last trading day
// follows from its contract month, on its exchange's business days:
//
//   - Month is the month the rule counts in, from the contract month: 0 the
//     contract month itself, -1 the month before, -2 the second month before.
//   - Last set: the Last-th last business day of that month (1 the last).
//   - Day set: Before business days before calendar day Day of that month;
//     with Roll, counting starts from the last business day on or before
//     Day when Day is not a business day itself (NYMEX WTI: 3 business days
//     before the 25th, 4 when the 25th is a holiday or weekend).
//
// CBOT corn, first notice day: {"month": -1, "last": 1}; last trading day:
// {"month": 0, "day": 15, "before": 1}.
type DateRule struct {
	Month  int  `json:"month"`
	Last   int  `json:"last,omitempty"`
	Day    int  `json:"day,omitempty"`
	Before int  `json:"before,omitempty"`
	Roll   bool `json:"roll,omitempty"`
}

func (r *DateRule) check() error {
	switch {
	case r.Month < -12 || r.Month > 12:
		return fmt.Errorf("month %d: an offset from the contract month between -12 and 12", r.Month)
	case (r.Last > 0) == (r.Day > 0):
		return fmt.Errorf("give either last (the n-th last business day) or day (a calendar day)")
	case r.Last < 0 || r.Last > 20:
		return fmt.Errorf("last %d: between 1 and 20", r.Last)
	case r.Day < 0 || r.Day > 31:
		return fmt.Errorf("day %d: a day of the month", r.Day)
	case r.Before < 0 || r.Before > 20 || (r.Last > 0 && (r.Before > 0 || r.Roll)):
		return fmt.Errorf("before counts business days back from day, between 0 and 20")
	}
	return nil
}

// checkDateRules checks the date rules of a catalogue entry: they need a
// calendar.
func (c Commodity) checkDateRules(cals map[string]*ExchangeCalendar) error {
	if c.FirstNotice == nil && c.LastTrading == nil {
		return nil
	}
	if c.Calendar == "" {
		return fmt.Errorf("calendar: required with first_notice or last_trading, e.g. CME")
	}
	if _, ok := cals[calendarName(c.Calendar)]; !ok {
		return fmt.Errorf("calendar %q: not in the catalogue's holidays (CME, ICE-US, ICE-EU, LME)", c.Calendar)
	}
	for name, r := range map[string]*DateRule{"first_notice": c.FirstNotice, "last_trading": c.LastTrading} {
		if r == nil {
			continue
		}
		if err := r.check(); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}

// ExchangeCalendar is an exchange's business days.
type ExchangeCalendar struct {
	Name     string
	holidays map[Date]bool
	first    Date // the first and last years listed: beyond them only
	last     Date // weekends are known
}

// IsBusinessDay reports whether the exchange does business on d: a weekday
// that is not a listed holiday.
func (c *ExchangeCalendar) IsBusinessDay(d Date) bool {
	if wd := d.Time().Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.holidays[d]
}

// Covers reports whether the calendar lists the holidays of d's year.
func (c *ExchangeCalendar) Covers(d Date) bool {
	return c.first.Year <= d.Year && d.Year <= c.last.Year
}

// Holidays lists the calendar's holidays, in order.
func (c *ExchangeCalendar) Holidays() []Date {
	out := make([]Date, 0, len(c.holidays))
	for d := range c.holidays {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Date) int { return a.Time().Compare(b.Time()) })
	return out
}

// AddBusinessDays moves n business days from d: forward for n > 0, back
// for n < 0, d itself for 0. d need not be a business day: one business day
// before a Sunday is the Friday (when it is no holiday).
func (c *ExchangeCalendar) AddBusinessDays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if c.IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// OnOrBefore returns d when it is a business day, else the business day
// before it.
func (c *ExchangeCalendar) OnOrBefore(d Date) Date {
	for !c.IsBusinessDay(d) {
		d = d.AddDays(-1)
	}
	return d
}

// Apply returns the day r gives for the contract of year and month.
func (r DateRule) Apply(c *ExchangeCalendar, year int, month time.Month) Date {
	first := time.Date(year, month+time.Month(r.Month), 1, 0, 0, 0, 0, time.UTC)
	if r.Last > 0 {
		last := DateOf(first.AddDate(0, 1, -1))
		d := c.OnOrBefore(last)
		return c.AddBusinessDays(d, -(r.Last - 1))
	}
	day := r.Day
	if end := first.AddDate(0, 1, -1).Day(); day > end {
		day = end
	}
	anchor := Date{first.Year(), first.Month(), day}
	if r.Roll && !c.IsBusinessDay(anchor) {
		anchor = c.OnOrBefore(anchor)
	}
	return c.AddBusinessDays(anchor, -r.Before)
}

// AddDays returns the day n calendar days after d (before it for n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// ContractDates are the days a broker must not miss for a position in one
// contract. A zero Date is a day the catalogue has no rule for.
type ContractDates struct {
	FirstNotice Date
	LastTrading Date
	Calendar    *ExchangeCalendar
}

// ContractDates returns the first notice and last trading days of c's
// contract of year and month, from the catalogue's rules and the exchange's
// calendar. ok is false when c has no rule or its calendar is unknown.
func (cat *Catalogue) ContractDates(c Commodity, year int, month time.Month) (ContractDates, bool) {
	if c.FirstNotice == nil && c.LastTrading == nil {
		return ContractDates{}, false
	}
	cal, ok := cat.Calendar(c.Calendar)
	if !ok {
		return ContractDates{}, false
	}
	out := ContractDates{Calendar: cal}
	if c.FirstNotice != nil {
		out.FirstNotice = c.FirstNotice.Apply(cal, year, month)
	}
	if c.LastTrading != nil {
		out.LastTrading = c.LastTrading.Apply(cal, year, month)
	}
	return out, true
}

// calendarsFile is the part of the catalogue file that lists holidays.
type calendarsFile struct {
	Holidays map[string][]string `json:"holidays"`
}

func parseCalendars(data []byte, name string) (map[string]*ExchangeCalendar, error) {
	var f calendarsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, Invalid("catalogue", "%s: holidays: %v", name, err)
	}
	out := map[string]*ExchangeCalendar{}
	for cal, days := range f.Holidays {
		c := &ExchangeCalendar{Name: strings.ToUpper(cal), holidays: map[Date]bool{}}
		for _, s := range days {
			d, err := ParseDate(s)
			if err != nil {
				return nil, Invalid("catalogue", "%s: holidays of %s: %v", name, cal, err)
			}
			if wd := d.Time().Weekday(); wd == time.Saturday || wd == time.Sunday {
				return nil, Invalid("catalogue", "%s: holidays of %s: %s is a %s; list the weekday the exchange closes instead", name, cal, s, wd)
			}
			c.holidays[d] = true
			if c.first.IsZero() || d.Before(c.first) {
				c.first = d
			}
			if c.last.IsZero() || c.last.Before(d) {
				c.last = d
			}
		}
		out[c.Name] = c
	}
	return out, nil
}

// Calendar returns the exchange calendar named (CME, ICE-US, ICE-EU, LME),
// from the built-in catalogue file.
func (cat *Catalogue) Calendar(name string) (*ExchangeCalendar, bool) {
	c, ok := cat.calendars[calendarName(name)]
	return c, ok
}

func calendarName(name string) string { return strings.ToUpper(strings.TrimSpace(name)) }
