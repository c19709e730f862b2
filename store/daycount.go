package store

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// DayCount is what a client's timeline holds of one kind on one day (UTC):
// enough to draw a dense range of the timeline without reading its events.
// The stores keep them beside the events (TimelineStore.DayCounts).
type DayCount struct {
	Day          time.Time // midnight UTC
	Kind         Kind
	Events       int
	Scored       int     // events with a sentiment
	SentimentSum float64 // the sum of their scores
	// Bought and Sold are the notional (|quantity × price|) of the events
	// among them that carry an order, by side.
	Bought, Sold float64
}

// Day is the midnight (UTC) that begins t's day.
func Day(t time.Time) time.Time {
	return time.UnixMilli(DayNumber(t) * msPerDay).UTC()
}

const msPerDay = 24 * 60 * 60 * 1000

// DayNumber is t's UTC day counted from 1 January 1970 (negative before).
func DayNumber(t time.Time) int64 {
	ms := t.UnixMilli()
	d := ms / msPerDay
	if ms%msPerDay < 0 {
		d--
	}
	return d
}

// DayFromNumber is the midnight (UTC) of a DayNumber.
func DayFromNumber(n int64) time.Time { return time.UnixMilli(n * msPerDay).UTC() }

// WholeDays gives the DayNumbers [first, end) of the UTC days that lie
// wholly within [since, until); a zero bound is none (math.MinInt64 or
// math.MaxInt64).
func WholeDays(since, until time.Time) (first, end int64) {
	first, end = math.MinInt64, math.MaxInt64
	if !since.IsZero() {
		first = DayNumber(since)
		if !DayFromNumber(first).Equal(since) {
			first++
		}
	}
	if !until.IsZero() {
		end = DayNumber(until)
	}
	return first, end
}

// Add counts e in c, or takes it out again with sign -1 (a revised event's
// old version). c.Day and c.Kind are left as they are.
func (c *DayCount) Add(e *Event, sign int) {
	c.Events += sign
	if s := e.Sentiment; s != nil {
		c.Scored += sign
		c.SentimentSum += float64(sign) * s.Score
	}
	if o := e.Attrs.Order; o != nil {
		n := float64(sign) * math.Abs(o.Quantity*o.Price)
		if o.Side == "sell" {
			c.Sold += n
		} else {
			c.Bought += n
		}
	}
}

// CountEvents counts events by UTC day and kind, ordered by day then kind,
// as TimelineStore.DayCounts returns them.
func CountEvents(events []*Event) []DayCount {
	type key struct {
		day  int64
		kind Kind
	}
	byKey := map[key]*DayCount{}
	for _, e := range events {
		k := key{DayNumber(e.Time), e.Kind}
		c := byKey[k]
		if c == nil {
			c = &DayCount{Day: DayFromNumber(k.day), Kind: e.Kind}
			byKey[k] = c
		}
		c.Add(e, 1)
	}
	out := make([]DayCount, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, *c)
	}
	SortDayCounts(out)
	return out
}

// SortDayCounts orders counts by day, then kind.
func SortDayCounts(cs []DayCount) {
	slices.SortFunc(cs, func(a, b DayCount) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
}
