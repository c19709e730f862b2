package ingest

import (
	"context"
	"strconv"
	"time"

	"github.com/brokersync/brokersync/store"
)

// FillOf returns the fill an order event on the timeline counts as, the
// same one Order.Fill gave when the event was recorded.
func FillOf(e *store.Event) (store.Fill, bool) {
	a := e.Attrs.Order
	if e.Kind != store.KindOrder || a == nil || (a.Status != StatusFilled && a.Status != StatusPartiallyFilled) {
		return store.Fill{}, false
	}
	qty, err := strconv.ParseFloat(e.Attrs.Extra["last_qty"], 64)
	if err != nil {
		qty = a.Quantity // recorded before executions carried their own quantity
	}
	f := store.Fill{
		EventID: e.ID, ClientID: e.ClientID, At: e.Time.UTC().Truncate(time.Millisecond),
		Commodity: a.Commodity, Contract: a.Contract, Side: a.Side, Quantity: qty, Price: a.Price,
	}
	if f.Validate() != nil {
		return store.Fill{}, false
	}
	return f, true
}

// CountsOf recounts a client's statistics from its timeline events: fills,
// real contacts and the scores of the client's own words, as Recorder and
// Intake count them when the events arrive. isDesk is as for
// store.ContactOf.
func CountsOf(events []*store.Event, isDesk func(string) bool) store.ClientCounts {
	var cc store.ClientCounts
	for _, e := range events {
		if f, ok := FillOf(e); ok {
			cc.Fills = append(cc.Fills, f)
		}
		if c, ok := store.ContactOf(e, isDesk); ok {
			cc.Contacts = append(cc.Contacts, c)
		}
		if e.Sentiment != nil && scoredKinds[e.Kind] {
			cc.Scores = append(cc.Scores, store.Score{EventID: e.ID, At: e.Time, Score: e.Sentiment.Score})
		}
	}
	return cc
}

// StatsRebuild recounts every client's statistics from the timeline.
type StatsRebuild struct {
	Clients  store.ClientStore
	Timeline store.TimelineStore
	Teams    store.TeamStore
	Stats    store.StatsRebuilder
	// Progress, when set, is told each client done, in handle order.
	Progress func(handle string, counts store.ClientCounts)
}

// Run rebuilds the statistics of every client whose handle sorts after
// after ("" for all), one client per transaction, in handle order: running
// it again gives the same result, and a run cut short resumes with after
// set to the last handle reported. It returns how many clients it rebuilt.
func (r *StatsRebuild) Run(ctx context.Context, after string) (int, error) {
	isDesk := DeskMembers(ctx, r.Teams)
	n := 0
	for c, err := range r.Clients.AllClients(ctx) {
		if err != nil {
			return n, err
		}
		if c.Handle <= after {
			continue
		}
		events, err := allEvents(ctx, r.Timeline, c)
		if err != nil {
			return n, err
		}
		counts := CountsOf(events, isDesk)
		if err := r.Stats.ReplaceClientStats(ctx, c.ID, counts); err != nil {
			return n, err
		}
		n++
		if r.Progress != nil {
			r.Progress(c.Handle, counts)
		}
	}
	return n, nil
}

func allEvents(ctx context.Context, tl store.TimelineStore, c *store.Client) ([]*store.Event, error) {
	var out []*store.Event
	q := store.EventQuery{Limit: 1000}
	for {
		page, err := tl.Events(ctx, c.ID, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Events...)
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}
