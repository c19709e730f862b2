package ingest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// A client's sentiment has dropped at a scored message when, over the
// messages of the 30 days up to it (itself included), there are at least
// dropMinEvents, their mean is negative, and it has fallen by dropTrend or
// more against the 30 days before. The first such message of a UTC day
// carries the day's drop mark.
//
// Marks are a function of the client's scored messages and nothing else:
// the same messages recorded in any order, in any batches, with or without
// a crash between two of them, end with the same marks. Recording a
// message recomputes the marks of every day whose windows hold it (that
// day and the 60 after it); a mark that no longer holds, because a message
// arrived late, is withdrawn (revised to say so, since the timeline keeps
// what it once said) and one now due is added.
const (
	dropMinEvents = 3
	dropTrend     = -0.4
	dropWindow    = 30 * 24 * time.Hour
	day           = 24 * time.Hour
)

// withdrawnKey marks, in Attrs.Extra, a drop mark that no longer holds.
const withdrawnKey = "withdrawn"

// dropMark is a drop as it should stand: at message at, with the figures
// of the windows up to it.
type dropMark struct {
	at          store.Score
	mean, prior float64
	count       int
}

// dropMarks returns the drops of the days in [from, to), from a client's
// scores of [from-2×dropWindow, to) in order. Each message's windows are
// summed afresh, in the scores' order, so that its figures do not depend on
// where the scores read began.
func dropMarks(scores []store.Score, from, to time.Time) []dropMark {
	var marks []dropMark
	var marked time.Time // the last day with a mark
	// after returns the index of the first score later than t.
	after := func(t time.Time) int {
		i, _ := slices.BinarySearchFunc(scores, t, func(s store.Score, t time.Time) int {
			if s.At.After(t) {
				return 1
			}
			return -1
		})
		return i
	}
	for _, s := range scores {
		d := s.At.UTC().Truncate(day)
		if s.At.Before(from) || !s.At.Before(to) || d.Equal(marked) {
			continue
		}
		// The windows of s: (At-60d, At-30d] and (At-30d, At], ties with
		// s included whatever their order.
		lo, mid, hi := after(s.At.Add(-2*dropWindow)), after(s.At.Add(-dropWindow)), after(s.At)
		n, np := hi-mid, mid-lo
		if n < dropMinEvents || np == 0 {
			continue
		}
		mean, prior := meanScore(scores[mid:hi]), meanScore(scores[lo:mid])
		if mean >= 0 || mean-prior > dropTrend {
			continue
		}
		marked = d
		marks = append(marks, dropMark{at: s, mean: mean, prior: prior, count: n})
	}
	return marks
}

func meanScore(scores []store.Score) float64 {
	var sum float64
	for _, s := range scores {
		sum += s.Score
	}
	return sum / float64(len(scores))
}

// event is the timeline entry of the mark.
func (m dropMark) event(client uuid.UUID) *store.Event {
	return &store.Event{
		ClientID: client,
		Time:     m.at.At,
		Kind:     store.KindEvent,
		Source:   store.SourceSentiment,
		SourceID: fmt.Sprintf("%s/drop/%s", client, m.at.EventID),
		Actor:    "brokersync",
		Summary:  fmt.Sprintf("sentiment dropped: 30-day mean %+.2f -> %+.2f over %s", m.prior, m.mean, store.Count(m.count, "message")),
		Attrs:    store.Attrs{Extra: store.WithSignal(map[string]string{"trend": fmt.Sprintf("%.2f", m.mean-m.prior)}, store.SignalSentimentDrop)},
	}
}

// withdrawn is the revision of a stored mark that no longer holds.
func withdrawn(stored *store.Event) *store.Event {
	e := *stored
	e.Replaces = stored.Fingerprint
	e.ID, e.Fingerprint = uuid.Nil, ""
	e.Summary = "sentiment drop withdrawn: messages that arrived later changed the 30-day figures"
	e.Body = ""
	e.Attrs = store.Attrs{Extra: map[string]string{withdrawnKey: "true"}}
	return &e
}

// isDropMark reports whether e is a drop mark, standing or withdrawn.
func isDropMark(e *store.Event) bool {
	return e.Source == store.SourceSentiment && e.Kind == store.KindEvent
}

// track keeps the clients' scored messages and recomputes their drop marks
// for the days the events concern. It returns the marks it added, revised or
// withdrawn.
func (r *Recorder) track(ctx context.Context, events []*store.Event) ([]*store.Event, error) {
	if r.Sentiment == nil {
		return nil, nil
	}
	byClient := map[uuid.UUID][]store.Score{}
	var clients []uuid.UUID
	for _, e := range events {
		if e.Sentiment == nil || !scoredKinds[e.Kind] {
			continue
		}
		if _, ok := byClient[e.ClientID]; !ok {
			clients = append(clients, e.ClientID)
		}
		byClient[e.ClientID] = append(byClient[e.ClientID], store.Score{EventID: e.ID, At: e.Time, Score: e.Sentiment.Score})
	}
	var changed []*store.Event
	for _, client := range clients {
		scores := byClient[client]
		if err := r.Sentiment.RecordScores(ctx, client, scores...); err != nil {
			return nil, err
		}
		byTime := func(a, b store.Score) int { return a.At.Compare(b.At) }
		first, last := slices.MinFunc(scores, byTime).At, slices.MaxFunc(scores, byTime).At
		marks, err := r.remark(ctx, client, first, last)
		if err != nil {
			return nil, err
		}
		changed = append(changed, marks...)
	}
	return changed, nil
}

// remark brings the client's drop marks up to date with its scores, for the
// days whose windows hold a message of [first, last]: first's day to the
// day 60 days after last.
func (r *Recorder) remark(ctx context.Context, client uuid.UUID, first, last time.Time) ([]*store.Event, error) {
	from := first.UTC().Truncate(day)
	to := last.UTC().Truncate(day).Add(2*dropWindow + day)
	scores, err := r.Sentiment.Scores(ctx, client, from.Add(-2*dropWindow), to)
	if err != nil {
		return nil, err
	}
	// Marks are at messages: none after the client's last one in range.
	if n := len(scores); n == 0 || scores[n-1].At.Before(from) {
		to = from
	} else if end := scores[n-1].At.UTC().Truncate(day).Add(day); end.Before(to) {
		to = end
	}
	want := map[uuid.UUID]*store.Event{}
	for _, m := range dropMarks(scores, from, to) {
		e := m.event(client)
		if err := e.Prepare(); err != nil {
			return nil, err
		}
		want[e.ID] = e
	}
	stored, err := r.storedMarks(ctx, client, from, to)
	if err != nil {
		return nil, err
	}
	var writes []*store.Event
	for _, s := range stored {
		w, due := want[s.ID]
		delete(want, s.ID)
		if due && w.Fingerprint == s.Fingerprint || !due && s.Attrs.Signal() != store.SignalSentimentDrop {
			continue // stands as it should, or withdrawn already
		}
		if s.Fingerprint == "" { // a page of events may leave it out
			if s, err = r.Timeline.Event(ctx, client, s.ID); err != nil {
				return nil, err
			}
			if due && w.Fingerprint == s.Fingerprint {
				continue
			}
		}
		if !due {
			writes = append(writes, withdrawn(s))
			continue
		}
		w.Replaces = s.Fingerprint // new figures, or standing again
		w.ID, w.Fingerprint = uuid.Nil, ""
		writes = append(writes, w)
	}
	for _, w := range want {
		writes = append(writes, w)
	}
	if len(writes) == 0 {
		return nil, nil
	}
	slices.SortFunc(writes, func(a, b *store.Event) int { return a.Time.Compare(b.Time) })
	for _, w := range writes {
		if err := w.Prepare(); err != nil {
			return nil, err
		}
	}
	if err := r.Timeline.AppendEvents(ctx, writes...); err != nil {
		return nil, err
	}
	return writes, nil
}

// storedMarks returns the drop marks on the client's timeline in [from, to).
func (r *Recorder) storedMarks(ctx context.Context, client uuid.UUID, from, to time.Time) ([]*store.Event, error) {
	events, err := allEvents(ctx, r.Timeline, client, store.EventQuery{Kinds: []store.Kind{store.KindEvent}, Since: from, Until: to})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(events, func(e *store.Event) bool { return !isDropMark(e) }), nil
}
