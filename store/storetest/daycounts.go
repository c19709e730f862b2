package storetest

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// wantCounts checks DayCounts over [since, until) against the events that
// Events returns for the whole days of that range, and against want
// (events per day and kind, "2025-04-01 chat": 2) when it is not nil.
func wantCounts(t *testing.T, s store.TimelineStore, client uuid.UUID, since, until time.Time, want map[string]int) {
	t.Helper()
	got, err := s.DayCounts(t.Context(), client, since, until)
	if err != nil {
		t.Fatalf("DayCounts: %v", err)
	}
	first, end := store.WholeDays(since, until)
	q := store.EventQuery{Limit: 1000}
	if first != math.MinInt64 {
		q.Since = store.DayFromNumber(first)
	}
	if end != math.MaxInt64 {
		q.Until = store.DayFromNumber(end)
	}
	expect := store.CountEvents(readAll(t, s, client, q))
	if len(got) != len(expect) {
		t.Fatalf("DayCounts(%v, %v) = %v\nthe events count %v", since, until, got, expect)
	}
	seen := map[string]int{}
	for i, g := range got {
		e := expect[i]
		if !g.Day.Equal(e.Day) || g.Kind != e.Kind || g.Events != e.Events || g.Scored != e.Scored ||
			!near(g.SentimentSum, e.SentimentSum) || !near(g.Bought, e.Bought) || !near(g.Sold, e.Sold) {
			t.Errorf("DayCounts[%d] = %+v, the events count %+v", i, g, e)
		}
		seen[g.Day.Format(time.DateOnly)+" "+string(g.Kind)] = g.Events
	}
	if want != nil && fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("DayCounts(%v, %v) count %v, want %v", since, until, seen, want)
	}
}

// testDayCounts: events are counted on their own day and kind, with their
// sentiment and notional, once however often they are appended; the range
// keeps whole days only.
func testDayCounts(t *testing.T, s store.TimelineStore) {
	c := newClient()
	day := func(d, h, m int) time.Time { return date(2025, 3, d, h, m, 0, 0) }
	var events []*store.Event
	add := func(kind store.Kind, at time.Time, score *float64, order *store.OrderAttrs) *store.Event {
		e := c.event(kind, at)
		if score != nil {
			e.Sentiment = &store.Sentiment{Score: *score, Label: "positive"}
		}
		e.Attrs.Order = order
		mustPrepare(t, e)
		events = append(events, e)
		return e
	}
	pos, neg := 0.5, -0.75
	add(store.KindEmail, day(30, 23, 59).Add(59*time.Second+999*time.Millisecond), &pos, nil)
	add(store.KindEmail, day(31, 0, 0), &neg, nil)
	add(store.KindChat, day(31, 12, 0), nil, nil)
	add(store.KindOrder, day(31, 13, 0), nil, &store.OrderAttrs{Side: "buy", Quantity: 5, Price: 450, Status: "filled"})
	add(store.KindOrder, day(31, 14, 0), nil, &store.OrderAttrs{Side: "sell", Quantity: -2, Price: 1000, Status: "filled"})
	// The next month, in another order than time.
	add(store.KindCall, date(2025, 4, 2, 9, 0, 0, 0), &pos, nil)
	appendAll(t, s, events[5], events[0])
	appendAll(t, s, events...)
	// Retried whole, in part, and many at once: each event counts once.
	appendAll(t, s, events...)
	appendAll(t, s, events[1], events[1], events[3])
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AppendEvents(t.Context(), events...); err != nil {
				t.Errorf("a concurrent repeat: %v", err)
			}
		}()
	}
	wg.Wait()
	// A late event, days older than the rest, on its own day.
	late := add(store.KindNote, day(2, 8, 0), nil, nil)
	appendAll(t, s, late)

	all := map[string]int{"2025-03-02 note": 1, "2025-03-30 email": 1, "2025-03-31 chat": 1, "2025-03-31 email": 1,
		"2025-03-31 order": 2, "2025-04-02 call": 1}
	wantCounts(t, s, c.id, time.Time{}, time.Time{}, all)
	got, err := s.DayCounts(t.Context(), c.id, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		switch {
		case g.Kind == store.KindOrder && (g.Bought != 2250 || g.Sold != 2000):
			t.Errorf("orders of 31 March: bought %v sold %v, want 2250 and 2000", g.Bought, g.Sold)
		case g.Kind == store.KindEmail && g.Day.Day() == 31 && (g.Scored != 1 || g.SentimentSum != -0.75):
			t.Errorf("emails of 31 March: %d scored, sum %v; want 1 and -0.75", g.Scored, g.SentimentSum)
		}
	}
	// Only the days wholly in the range: 30 and 31 March, not the 29th
	// nor 1 April, which the range only touches.
	wantCounts(t, s, c.id, day(29, 6, 0), date(2025, 4, 1, 18, 0, 0, 0),
		map[string]int{"2025-03-30 email": 1, "2025-03-31 chat": 1, "2025-03-31 email": 1, "2025-03-31 order": 2})
	wantCounts(t, s, c.id, day(31, 0, 0), date(2025, 4, 1, 0, 0, 0, 0),
		map[string]int{"2025-03-31 chat": 1, "2025-03-31 email": 1, "2025-03-31 order": 2})
	wantCounts(t, s, c.id, day(31, 0, 1), date(2025, 4, 1, 0, 0, 0, 0), map[string]int{})
	wantCounts(t, s, c.id, date(2025, 4, 2, 0, 0, 0, 0), time.Time{}, map[string]int{"2025-04-02 call": 1})
	wantCounts(t, s, uuid.New(), time.Time{}, time.Time{}, map[string]int{})
}

// testDayCountsFollowRecord: a repeat with another time keeps the first
// day; a revision replaces its version's part (its sentiment, its kind);
// a refused append counts nothing.
func testDayCountsFollowRecord(t *testing.T, s store.TimelineStore) {
	c := newClient()
	at := date(2025, 6, 10, 15, 0, 0, 0)
	msg := c.event(store.KindChat, at)
	msg.Sentiment = &store.Sentiment{Score: -0.5, Label: "negative"}
	mustPrepare(t, msg)
	appendAll(t, s, msg)

	again := *msg
	again.Time = at.Add(48 * time.Hour)
	appendAll(t, s, &again)
	wantCounts(t, s, c.id, time.Time{}, time.Time{}, map[string]int{"2025-06-10 chat": 1})

	edit := *msg
	edit.Summary, edit.Sentiment = "edited: all good now", &store.Sentiment{Score: 0.75, Label: "positive"}
	edit.Time = at.Add(24 * time.Hour)
	edit.Fingerprint, edit.Replaces = "", msg.Fingerprint
	mustPrepare(t, &edit)
	appendAll(t, s, &edit)
	appendAll(t, s, &edit)
	wantCounts(t, s, c.id, time.Time{}, time.Time{}, map[string]int{"2025-06-10 chat": 1})
	got, err := s.DayCounts(t.Context(), c.id, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Scored != 1 || got[0].SentimentSum != 0.75 {
		t.Errorf("after the revision: %+v, want one scored chat with sum 0.75", got)
	}

	other := *msg
	other.Summary, other.Fingerprint = "other content, same id", ""
	fresh := c.event(store.KindCall, at)
	wantCode(t, "other content under a used id", s.AppendEvents(t.Context(), fresh, &other), store.ECONFLICT)
	wantCounts(t, s, c.id, time.Time{}, time.Time{}, map[string]int{"2025-06-10 chat": 1})
}

// testDayCountsConcurrent: many appends to one day at once, as a busy
// desk logs to one client, each counted.
func testDayCountsConcurrent(t *testing.T, s store.TimelineStore) {
	c := newClient()
	const n = 64
	events := make([]*store.Event, n)
	for i := range events {
		events[i] = c.event(store.KindNote, date(2025, 8, 8, 9, i, 0, 0))
	}
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Go(func() {
			if err := s.AppendEvents(t.Context(), e); err != nil {
				t.Errorf("append: %v", err)
			}
		})
	}
	wg.Wait()
	wantCounts(t, s, c.id, time.Time{}, time.Time{}, map[string]int{"2025-08-08 note": n})
}
