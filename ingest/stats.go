package ingest

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

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

// RecommendationOf returns the recommendation a recommendation event
// counts as in responsiveness: its commodity is the first word of its
// summary that names one in the catalogue (a key such as corn, or a code
// such as ZC or CME:CL) in cat. One that names none does not count.
func RecommendationOf(e *store.Event, cat *store.Catalogue) (store.Recommendation, bool) {
	if e.Kind != store.KindRecommendation || e.ClientID == uuid.Nil {
		return store.Recommendation{}, false
	}
	for _, w := range strings.Fields(e.Summary) {
		w = strings.Trim(w, ".,;:!?()[]\"'`*")
		if c, ok := cat.Lookup(w); ok && w != "" {
			return store.Recommendation{EventID: e.ID, ClientID: e.ClientID, At: e.Time.UTC().Truncate(time.Microsecond), Commodity: c.Key}, true
		}
	}
	return store.Recommendation{}, false
}

// RecommendationTracker is the Subscriber that keeps the recommendations
// responsiveness counts (RecommendationOf). Recording one again changes
// nothing, as a Subscriber needs.
type RecommendationTracker struct {
	Store     store.ResponsivenessStore
	Catalogue *store.Catalogue
}

// EventsStored implements Subscriber.
func (t RecommendationTracker) EventsStored(ctx context.Context, events []*store.Event) error {
	var rs []store.Recommendation
	for _, e := range events {
		if r, ok := RecommendationOf(e, t.Catalogue); ok {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	_, err := t.Store.RecordRecommendations(ctx, rs...)
	return err
}

// CountsOf recounts a client's statistics from its timeline events: fills,
// real contacts and the scores of the client's own words, as Recorder and
// Intake count them when the events arrive. isDesk is as for
// store.ContactOf; recommendations name commodities of cat.
func CountsOf(events []*store.Event, isDesk func(string) bool, cat *store.Catalogue) store.ClientCounts {
	var cc store.ClientCounts
	for _, e := range events {
		if f, ok := FillOf(e); ok {
			cc.Fills = append(cc.Fills, f)
		}
		if c, ok := store.ContactOf(e, isDesk); ok {
			cc.Contacts = append(cc.Contacts, c)
		}
		if r, ok := RecommendationOf(e, cat); ok {
			cc.Recommendations = append(cc.Recommendations, r)
		}
		if e.Sentiment != nil && scoredKinds[e.Kind] {
			cc.Scores = append(cc.Scores, store.Score{EventID: e.ID, At: e.Time, Score: e.Sentiment.Score})
		}
	}
	return cc
}

// StatsRebuild recounts every client's statistics from the timeline.
type StatsRebuild struct {
	Clients   store.ClientStore
	Timeline  store.TimelineStore
	Teams     store.TeamStore
	Stats     store.StatsRebuilder
	Catalogue *store.Catalogue
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
		events, err := allEvents(ctx, r.Timeline, c.ID, store.EventQuery{})
		if err != nil {
			return n, err
		}
		counts := CountsOf(events, isDesk, r.Catalogue)
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

// allEvents returns every event of the client's timeline that q selects,
// reading it a page at a time.
func allEvents(ctx context.Context, tl store.TimelineStore, client uuid.UUID, q store.EventQuery) ([]*store.Event, error) {
	var out []*store.Event
	q.Limit = 1000
	for {
		page, err := tl.Events(ctx, client, q)
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

// ResponsivenessRefresh recounts the responsiveness of clients whose
// recommendation windows ended: time alone turns an open recommendation
// into one not followed.
type ResponsivenessRefresh struct {
	Store  store.ResponsivenessStore
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
}

// Run refreshes every interval until ctx ends.
func (r ResponsivenessRefresh) Run(ctx context.Context, every time.Duration) error {
	return runEvery(ctx, every, r.Logger, "responsiveness refresh failed", func(ctx context.Context) error {
		now := time.Now()
		if r.Now != nil {
			now = r.Now()
		}
		_, err := r.Store.RefreshResponsiveness(ctx, now)
		return err
	})
}
