package ingest

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Profiles is the one way client profiles are written: each write puts
// what changed on the client's timeline through the Recorder, whoever
// writes (Slack and exec commands, the CSV import, rules to come), so that
// the timeline and the audit trail tell the same story.
//
// The profile is the record of truth and is written first; when its
// timeline entry cannot be stored after it, the methods return the write's
// result with an *UnrecordedError, and the entry can be recorded again
// (its id derives from the profile's version).
type Profiles struct {
	Clients  store.ClientStore
	Recorder *Recorder
	// Annotate, when set, completes each change's timeline entry before it
	// is recorded (a rule's name and summary, say).
	Annotate func(*store.Event)
}

// UnrecordedError says a profile write succeeded but its timeline entry
// was not stored.
type UnrecordedError struct{ Err error }

func (e *UnrecordedError) Error() string {
	return "saved, but the timeline could not be updated: " + store.ErrorMessage(e.Err)
}

func (e *UnrecordedError) Unwrap() error { return e.Err }

// Create adds a client and records "client added" with every field set.
// summary, when given, replaces the entry's generated summary.
func (p Profiles) Create(ctx context.Context, c *store.Client, actor, summary string) error {
	if err := p.Clients.CreateClient(ctx, c, actor); err != nil {
		return err
	}
	ev := store.ChangeEvent(c, store.Diff(&store.Client{}, c), actor)
	if summary != "" {
		ev.Summary = summary
	}
	return p.record(ctx, ev)
}

// Update changes a client (store.ClientStore.UpdateClient) and records the
// change, if any.
func (p Profiles) Update(ctx context.Context, id uuid.UUID, actor string, change func(*store.Client) error) (*store.Client, []store.Change, error) {
	c, changes, err := p.Clients.UpdateClient(ctx, id, actor, change)
	if err != nil || len(changes) == 0 {
		return c, changes, err
	}
	return c, changes, p.record(ctx, store.ChangeEvent(c, changes, actor))
}

// profileChunk is how many clients' entries are recorded at once.
const profileChunk = 500

// Import adds clients all or nothing (store.ClientStore.ImportClients) and
// records, on each client's timeline, that it was imported by actor from
// source.
func (p Profiles) Import(ctx context.Context, clients []*store.Client, actor, source string) error {
	if err := p.Clients.ImportClients(ctx, clients, actor); err != nil {
		return err
	}
	events := make([]*store.Event, len(clients))
	for i, c := range clients {
		events[i] = store.ChangeEvent(c, store.Diff(&store.Client{}, c), actor)
		events[i].Summary = fmt.Sprintf("client imported to %s from %s", c.Team, source)
	}
	for chunk := range slices.Chunk(events, profileChunk) {
		if err := p.Recorder.Record(ctx, chunk...); err != nil {
			return &UnrecordedError{err}
		}
	}
	return nil
}

func (p Profiles) record(ctx context.Context, e *store.Event) error {
	markStage(e)
	if p.Annotate != nil {
		p.Annotate(e)
	}
	if err := p.Recorder.Record(ctx, e); err != nil {
		return &UnrecordedError{err}
	}
	return nil
}

// markStage gives a profile change that moved the client to another
// lifecycle stage the stage_change signal, with the new stage, so that the
// rules that act on stages (workflows, digests) hear of it whoever moved
// it: a broker, the lifecycle rules or a workflow. A new client's first
// stage is no change.
func markStage(e *store.Event) {
	for _, ch := range e.Attrs.Change {
		if ch.Field == "stage" && ch.Old != "" && ch.New != "" && ch.New != ch.Old {
			e.Attrs.Extra = store.WithSignal(e.Attrs.Extra, store.SignalStageChange)
			e.Attrs.Extra["stage"] = ch.New
			e.Attrs.Extra["stage_from"] = ch.Old
		}
	}
}
