package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/store"
)

// Day counts (migrations/2000_timeline_days.cql). Cassandra's counters
// would count a retried write twice, so a day's counts are never
// incremented: they are counted again from the day's events, and written
// with a lightweight transaction conditional on the version read before
// those events were. Whichever count is written last was therefore read
// after every event whose append had finished writing when that count's
// read began, and an append counts its days only after writing its events:
// each finished append's events are counted, whatever the order, the
// retries or the clocks of the replicas. An append marks its days pending
// before writing events (markDays) and hands them to the dayCounter once
// its events are written; until they are counted, DayCounts counts pending
// days from their events, and a day whose count never comes (the process
// died, or the count failed) is counted for good by a reader after
// staleAfter.

const (
	selectDay    = `SELECT version, pending FROM timeline_days WHERE client_id = ? AND day = ?`
	selectDays   = `SELECT day, counts, pending, covered FROM timeline_days WHERE client_id = ? AND day >= ? AND day < ?`
	markDay      = `UPDATE timeline_days SET pending = ? WHERE client_id = ? AND day = ?`
	selectCounts = `SELECT time, kind, sentiment, attrs FROM events WHERE client_id = ? AND bucket = ? AND time >= ? AND time < ?`

	// staleAfter is how long a day may stay pending before a reader counts
	// it again for good: an append that marked it has died, or is stuck
	// far longer than its requests' timeouts.
	staleAfter = 5 * time.Minute
	// maxCountTries bounds the transactions of one recount that lose to
	// others counting the same day; between two, it waits up to twice as
	// long as before (at most 250ms), so that many appends to one day
	// do not keep each other from winning.
	maxCountTries = 30
)

// Days are stored as int; these are the days of minYear and maxYear.
var (
	minDay = store.DayNumber(time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC))
	maxDay = store.DayNumber(time.Date(maxYear+1, 1, 1, 0, 0, 0, 0, time.UTC))
)

// dayCount is one kind's counts in the counts column.
type dayCount struct {
	Kind   store.Kind `json:"k"`
	Events int        `json:"n"`
	Scored int        `json:"s,omitempty"`
	Sum    float64    `json:"m,omitempty"`
	Bought float64    `json:"b,omitempty"`
	Sold   float64    `json:"o,omitempty"`
}

type clientDay struct {
	client uuid.UUID
	day    int64
}

// markDays marks the days of rows pending for the append token (one batch
// per client: one partition each).
func (t *Timeline) markDays(ctx context.Context, days []clientDay, token gocql.UUID) error {
	batches := map[uuid.UUID][]gocql.BatchEntry{}
	var order []uuid.UUID
	for _, d := range days {
		if _, ok := batches[d.client]; !ok {
			order = append(order, d.client)
		}
		batches[d.client] = append(batches[d.client], entry(markDay, token, [16]byte(d.client), int(d.day)))
	}
	var groups [][]gocql.BatchEntry
	for _, c := range order {
		groups = append(groups, batches[c])
	}
	return t.run(ctx, groups)
}

// countDays counts each day again from its events, concurrently.
func (t *Timeline) countDays(ctx context.Context, days []clientDay) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, d := range days {
		g.Go(func() error { return t.countDay(gctx, d, nil) })
	}
	return g.Wait()
}

// countEvery is the least time between two rounds of the dayCounter.
const countEvery = 2 * time.Second

// dayCounter counts the days of finished appends behind them: an append
// waits for its own writes only, and a day that many appends touch is
// counted once a round, not once an append (each count reads the whole
// day's events).
type dayCounter struct {
	t     *Timeline
	mu    sync.Mutex
	dirty map[clientDay][]gocql.UUID // the tokens of the appends that marked each day
	round sync.Mutex                 // one round at a time
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newDayCounter(t *Timeline) *dayCounter {
	c := &dayCounter{t: t, dirty: map[clientDay][]gocql.UUID{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// add hands over the days an append marked with token, once its events
// are written.
func (c *dayCounter) add(days []clientDay, token gocql.UUID) {
	c.mu.Lock()
	for _, d := range days {
		c.dirty[d] = append(c.dirty[d], token)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *dayCounter) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// A day whose count fails stays pending: readers count it.
		_ = c.flush(ctx)
		cancel()
		select {
		case <-c.stop:
			return
		case <-time.After(countEvery):
		}
	}
}

// flush counts every day handed over so far.
func (c *dayCounter) flush(ctx context.Context) error {
	c.round.Lock()
	defer c.round.Unlock()
	c.mu.Lock()
	days := c.dirty
	c.dirty = map[clientDay][]gocql.UUID{}
	c.mu.Unlock()
	var g errgroup.Group
	g.SetLimit(maxInFlight)
	for d, tokens := range days {
		g.Go(func() error { return c.t.countDay(ctx, d, tokens) })
	}
	return g.Wait()
}

// CountDays counts the days that appends have marked so far, without
// waiting for the counter's next round: what a reader that must not meet
// pending days (a benchmark of the timeline page) calls first. Close does
// it too.
func (t *Timeline) CountDays(ctx context.Context) error { return t.counter.flush(ctx) }

// close stops the rounds and counts what is left, for a few seconds at
// most: what is not counted by then stays pending.
func (c *dayCounter) close() {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.flush(ctx)
	})
}

// countDay counts a day from its events and writes the counts, conditional
// on the version read before the events. It sets covered to the day's
// pending token when that is one of tokens at that read: the events of the
// append that marked it last are counted then. The appends of tokens all
// finished writing their events before countDay began.
//
// A count that loses to another is not always needed again: when it lost,
// the day was at some version v, so the count that makes v+1 may have read
// the events before this append wrote them, but the one that makes v+2
// read version v+1 after the loss, and the events after that. Once the
// day is at v+2, this append's events are counted; until then it tries
// again itself, after a random wait that grows with each loss, so that
// many appends to one day settle.
func (t *Timeline) countDay(ctx context.Context, d clientDay, tokens []gocql.UUID) error {
	done := int64(math.MaxInt64) // the version that counts this append's events
	for try := range maxCountTries {
		var (
			version *int64
			pending *gocql.UUID
		)
		err := t.session.Query(selectDay, [16]byte(d.client), int(d.day)).ScanContext(ctx, &version, &pending)
		found := err == nil
		if err != nil && !errors.Is(err, gocql.ErrNotFound) {
			return err
		}
		mine := pending != nil && slices.Contains(tokens, *pending)
		if version != nil && *version >= done {
			if mine {
				// Counted by another: only covered is left to set, and
				// only while the day is still at that version.
				_, err := t.session.Query(`UPDATE timeline_days SET covered = ? WHERE client_id = ? AND day = ? IF version = ?`,
					*pending, [16]byte(d.client), int(d.day), *version).Idempotent(false).MapScanCASContext(ctx, map[string]any{})
				return err
			}
			return nil
		}
		counts, err := t.countEvents(ctx, d)
		if err != nil {
			return err
		}
		text, err := json.Marshal(counts)
		if err != nil {
			return err
		}
		next := int64(1)
		if version != nil {
			next = *version + 1
		}
		set, args := `version = ?, counts = ?`, []any{next, string(text)}
		if mine {
			set += `, covered = ?`
			args = append(args, *pending)
		}
		var q *gocql.Query
		if found {
			q = t.session.Query(`UPDATE timeline_days SET `+set+` WHERE client_id = ? AND day = ? IF version = ?`,
				append(args, [16]byte(d.client), int(d.day), version)...)
		} else {
			q = t.session.Query(`INSERT INTO timeline_days (client_id, day, version, counts) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
				[16]byte(d.client), int(d.day), next, string(text))
		}
		cur := map[string]any{}
		applied, err := q.Idempotent(false).MapScanCASContext(ctx, cur)
		if err != nil {
			return err
		}
		if applied {
			return nil
		}
		at, _ := cur["version"].(int64) // 0 while only marked
		done = min(done, at+2)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(min(2*time.Millisecond<<try, 250*time.Millisecond))))):
		}
	}
	return fmt.Errorf("count day %d of client %s: %d other counts won in turn", d.day, d.client, maxCountTries)
}

// countEvents counts the events of a day (which lies in one month's
// partition).
func (t *Timeline) countEvents(ctx context.Context, d clientDay) ([]dayCount, error) {
	start := store.DayFromNumber(d.day)
	iter := t.read(t.session.Query(selectCounts, [16]byte(d.client), BucketOf(start), start, start.Add(24*time.Hour))).
		PageSize(1000).IterContext(ctx)
	var (
		events         []*store.Event
		at             time.Time
		kind, s, attrs string
	)
	for iter.Scan(&at, &kind, &s, &attrs) {
		e := &store.Event{Time: at, Kind: store.Kind(kind)}
		if s != "" {
			e.Sentiment = new(store.Sentiment)
			_ = json.Unmarshal([]byte(s), e.Sentiment)
		}
		if strings.Contains(attrs, `"order"`) {
			_ = json.Unmarshal([]byte(attrs), &e.Attrs)
		}
		events = append(events, e)
	}
	if err := iter.Close(); err != nil {
		return nil, err
	}
	var out []dayCount
	for _, c := range store.CountEvents(events) {
		out = append(out, dayCount{Kind: c.Kind, Events: c.Events, Scored: c.Scored, Sum: c.SentimentSum, Bought: c.Bought, Sold: c.Sold})
	}
	return out, nil
}

// DayCounts implements store.TimelineStore: the client's rows of
// timeline_days, and for a day still pending the counts of its events.
func (t *Timeline) DayCounts(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]store.DayCount, error) {
	first, end := store.WholeDays(since, until)
	first, end = max(first, minDay), min(end, maxDay)
	if first >= end {
		return nil, nil
	}
	iter := t.read(t.session.Query(selectDays, [16]byte(clientID), int(first), int(end))).PageSize(1000).IterContext(ctx)
	var (
		out       []store.DayCount
		pendingAt = map[int64]gocql.UUID{}
		day       int
		text      string
		pending   *gocql.UUID
		covered   *gocql.UUID
	)
	for iter.Scan(&day, &text, &pending, &covered) {
		if pending != nil && (covered == nil || *pending != *covered) {
			pendingAt[int64(day)] = *pending
			continue
		}
		var counts []dayCount
		if err := json.Unmarshal([]byte(text), &counts); text != "" && err != nil {
			iter.Close()
			return nil, store.Internal("cassandra: bad day counts", err)
		}
		out = appendCounts(out, int64(day), counts)
	}
	if err := iter.Close(); err != nil {
		return nil, mapErr("read day counts", err)
	}
	if len(pendingAt) > 0 {
		var mu sync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(maxInFlight)
		for day, token := range pendingAt {
			g.Go(func() error {
				d := clientDay{clientID, day}
				counts, err := t.countEvents(gctx, d)
				if err != nil {
					return err
				}
				if time.Since(token.Time()) > staleAfter {
					// The append that marked it is gone: count it for good.
					// Its counts are what was just read, so a failure here
					// only leaves the day to be counted again next time.
					_ = t.countDay(gctx, d, []gocql.UUID{token})
				}
				mu.Lock()
				out = appendCounts(out, day, counts)
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, mapErr("count pending days", err)
		}
		store.SortDayCounts(out)
	}
	return out, nil
}

func appendCounts(out []store.DayCount, day int64, counts []dayCount) []store.DayCount {
	for _, c := range counts {
		if c.Events > 0 {
			out = append(out, store.DayCount{Day: store.DayFromNumber(day), Kind: c.Kind, Events: c.Events,
				Scored: c.Scored, SentimentSum: c.Sum, Bought: c.Bought, Sold: c.Sold})
		}
	}
	return out
}
