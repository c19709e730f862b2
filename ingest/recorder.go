// Package ingest turns raw inputs (IMAP messages, Slack messages, call and
// order events, profile changes) into timeline events: matching them to
// clients, scoring their sentiment and deriving idempotency keys.
package ingest

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/store"
)

// Scorer scores the sentiment of a text.
type Scorer interface {
	Score(text string) sentiment.Result
}

// scoredKinds are the kinds whose text is the client's own words (or a record
// of them), so their sentiment says how the client feels. Internal notes and
// orders are not scored.
var scoredKinds = map[store.Kind]bool{
	store.KindEmail:    true,
	store.KindChat:     true,
	store.KindCall:     true,
	store.KindMeeting:  true,
	store.KindFeedback: true,
}

// Recorder is the one way events reach the timeline: it scores sentiment,
// prepares each event (id, excerpt), appends them, keeps each client's
// rolling sentiment, marking a drop on the timeline, and tells its
// subscribers (ContactTracker keeps the clients' last real contacts).
type Recorder struct {
	Timeline    store.TimelineStore
	Scorer      Scorer
	Sentiment   store.SentimentStore // optional
	Subscribers []Subscriber         // told of every event stored, in order
}

// Subscriber hears of the events the Recorder stored: the rules that act on
// what happens to a client (follow-up triggers, segment statistics,
// workflows, digests) listen here rather than in each input.
//
// Delivery is at least once. EventsStored is called after the events are
// durably on the timeline and before Record returns, and Record fails if it
// fails; every input is acknowledged to its sender (a webhook's 200, a
// Slack delivery marked done, a mailbox checkpoint) only after Record
// returned, so an input cut off by a crash between the store and its
// subscribers is delivered again by its sender, and its events, stored
// already, are handed to the subscribers again. A subscriber must therefore
// be idempotent by event id. Repeats carry the content of the delivery, the
// stored first copy stands (store.TimelineStore.AppendEvents); marks the
// Recorder adds (a sentiment drop) come after the events they follow.
type Subscriber interface {
	EventsStored(ctx context.Context, events []*store.Event) error
}

// SubscriberFunc is a function as a Subscriber.
type SubscriberFunc func(ctx context.Context, events []*store.Event) error

// EventsStored implements Subscriber.
func (f SubscriberFunc) EventsStored(ctx context.Context, events []*store.Event) error {
	return f(ctx, events)
}

// Record scores and stores events. It is safe to call again with the same
// events after an error: ids derive from the source, so nothing duplicates.
// An id recorded already with other content refuses the whole call with a
// *store.EventConflict (see store.TimelineStore.AppendEvents).
func (r *Recorder) Record(ctx context.Context, events ...*store.Event) error {
	// One mail to several clients is one text: scored once.
	scored := map[string]store.Sentiment{}
	for _, e := range events {
		r.score(e, scored)
		if err := e.Prepare(); err != nil {
			return err
		}
	}
	if err := r.Timeline.AppendEvents(ctx, events...); err != nil {
		return err
	}
	drops, err := r.track(ctx, events)
	if err != nil {
		return err
	}
	for _, sub := range r.Subscribers {
		if err := sub.EventsStored(ctx, append(events[:len(events):len(events)], drops...)); err != nil {
			return err
		}
	}
	return nil
}

// ContactTracker is the Subscriber that keeps each client's real contacts
// (store.ContactOf) for the statistics. Teams tells a broker's Slack
// message to a client (outbound) from the client's own (inbound); without
// it every Slack message counts as inbound. Recording a contact again
// changes nothing, as a Subscriber needs.
type ContactTracker struct {
	Contacts store.ContactStore
	Teams    store.TeamStore
}

// EventsStored implements Subscriber.
func (t ContactTracker) EventsStored(ctx context.Context, events []*store.Event) error {
	var cs []store.Contact
	isDesk := DeskMembers(ctx, t.Teams)
	for _, e := range events {
		if c, ok := store.ContactOf(e, isDesk); ok {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil
	}
	_, err := t.Contacts.RecordContacts(ctx, cs...)
	return err
}

// DeskMembers returns a function that tells whether a Slack user is on a
// desk, asking teams once per user; nil when teams is nil. A user whose
// memberships cannot be read counts as not on a desk.
func DeskMembers(ctx context.Context, teams store.TeamStore) func(string) bool {
	if teams == nil {
		return nil
	}
	seen := map[string]bool{}
	return func(actor string) bool {
		on, ok := seen[actor]
		if !ok {
			ms, err := teams.Memberships(ctx, actor)
			on = err == nil && len(ms) > 0
			seen[actor] = on
		}
		return on
	}
}

// RecordFirst records events through r for sources whose first copy
// stands (mail): events whose ids are recorded already with other content
// are left out, and the others are stored. It returns the ones left out.
func RecordFirst(ctx context.Context, r interface {
	Record(context.Context, ...*store.Event) error
}, events ...*store.Event) ([]*store.Event, error) {
	// Within the call, too, the first copy of an id stands.
	var left []*store.Event
	first := make(map[uuid.UUID]*store.Event, len(events))
	kept := make([]*store.Event, 0, len(events))
	for _, e := range events {
		if err := e.Prepare(); err != nil {
			return nil, err
		}
		f, seen := first[e.ID]
		switch {
		case !seen:
			first[e.ID] = e
			kept = append(kept, e)
		case e.Against(f.ClientID, f.Fingerprint) != store.RepeatSame:
			left = append(left, e)
		}
	}
	events = kept
	for len(events) > 0 {
		err := r.Record(ctx, events...)
		var c *store.EventConflict
		if !errors.As(err, &c) {
			return left, err
		}
		out := make(map[uuid.UUID]bool, len(c.Events))
		for _, ref := range c.Events {
			out[ref.ID] = true
		}
		rest := events[:0:0]
		for _, e := range events {
			if out[e.ID] {
				left = append(left, e)
			} else {
				rest = append(rest, e)
			}
		}
		if len(rest) == len(events) {
			return left, err // nothing named was ours: do not loop
		}
		events = rest
	}
	return left, nil
}

// score sets e's sentiment, reusing what scored holds for the same text.
func (r *Recorder) score(e *store.Event, scored map[string]store.Sentiment) {
	if e.Sentiment != nil || r.Scorer == nil || !scoredKinds[e.Kind] {
		return
	}
	text := e.Body
	if strings.TrimSpace(text) == "" {
		text = e.Summary
	}
	if strings.TrimSpace(text) == "" {
		return
	}
	s, ok := scored[text]
	if !ok {
		res := r.Scorer.Score(text)
		s = store.Sentiment{Score: res.Score, Label: string(res.Label)}
		scored[text] = s
	}
	e.Sentiment = &s
}
