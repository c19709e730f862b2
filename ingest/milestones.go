package ingest

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// MilestoneActor is who the timeline names for milestones.
const MilestoneActor = "brokersync:milestones"

// Milestone is a milestone of a client that fell due: an anniversary, a
// review or KYC refresh due, a goal, a first notice or last trading day.
// Key names the occurrence ("milestone:anniversary:<client>:2026-03-10"):
// it is the event's source id, so an occurrence is one event however often
// it is recorded.
type Milestone struct {
	Client uuid.UUID
	Kind   string // reminders.Milestone* kinds
	Key    string
	At     time.Time
	Text   string
	Extra  map[string]string // more for the rules that act on it: date, contract, late
}

// Event returns the milestone's timeline event: kind event, source
// milestone, signal milestone with Extra["milestone"] the kind.
func (m Milestone) Event() *store.Event {
	summary, body := Summarize(m.Text)
	extra := maps.Clone(m.Extra)
	if extra == nil {
		extra = map[string]string{}
	}
	extra["milestone"], extra["occurrence"] = m.Kind, m.Key
	return &store.Event{
		ClientID: m.Client, Time: m.At, Kind: store.KindEvent,
		Source: store.SourceMilestone, SourceID: m.Key, Actor: MilestoneActor,
		Summary: summary, Body: body,
		Attrs: store.Attrs{Extra: store.WithSignal(extra, store.SignalMilestone)},
	}
}

// RecordMilestone puts a milestone on the client's timeline through r, so
// that its subscribers (workflows, digests) hear of it. An occurrence
// recorded already, with the same words or others (a catch-up retried
// after a crash, marked late the second time), is left as it is.
func RecordMilestone(ctx context.Context, r *Recorder, m Milestone) error {
	err := r.Record(ctx, m.Event())
	var conflict *store.EventConflict
	if errors.As(err, &conflict) {
		return nil
	}
	return err
}
