package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// MembershipSegments is what Membership needs of the store.
type MembershipSegments interface {
	segment.Matcher
	segment.IDMatcher
	segment.Store
	segment.MembershipStore
}

// Membership keeps who is in each saved segment and puts every entry and
// exit on the client's timeline ("entered segment at-risk", with
// store.SignalSegmentEntered or store.SignalSegmentLeft and
// Extra["segment"]), where reminders, workflows and digests hear of it as
// Recorder subscribers.
//
// It looks again at a saved segment's clients in two ways: as a
// Subscriber it notes the clients whose events arrived and, within
// TouchedEvery, checks just those against every saved segment (after the
// statistics their events feed are counted); and every SweepEvery it
// checks every client, which catches what time alone changes
// (last.contact>30d) and anything a crash left unchecked.
//
// A change is first recorded in the store (members and a numbered change,
// in one transaction that only one of several replicas can make), then put
// on the timeline as an event named by segment, client and change number,
// then marked recorded. A crash between the steps leaves the change queued
// and the next pass records the same event: nothing is lost or doubled.
type Membership struct {
	Segments  MembershipSegments
	Catalogue *store.Catalogue // parses filters when Resolve is nil
	Recorder  *Recorder
	// Resolve says what a saved segment holds: its filter resolved, and
	// the desks whose clients it may hold (nil for every desk). Default:
	// the filter with segment: terms read from the store, on every desk.
	Resolve func(ctx context.Context, s segment.Saved) (*segment.Filter, []string, error)
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger

	mu      sync.Mutex
	touched map[uuid.UUID]bool
}

// Default intervals of Run.
const (
	DefaultMembershipSweep   = 2 * time.Minute
	DefaultMembershipTouched = 2 * time.Second
)

// changeBatch is how many queued changes are put on the timeline at once.
const changeBatch = 500

// EventsStored implements Subscriber: it notes the clients of the events
// for the next CheckTouched. Segment changes themselves are left out.
func (m *Membership) EventsStored(_ context.Context, events []*store.Event) error {
	ids := make([]uuid.UUID, 0, len(events))
	for _, e := range events {
		if e.Source != store.SourceSegment {
			ids = append(ids, e.ClientID)
		}
	}
	m.note(ids)
	return nil
}

// note marks the clients for the next CheckTouched.
func (m *Membership) note(ids []uuid.UUID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if id == uuid.Nil {
			continue
		}
		if m.touched == nil {
			m.touched = map[uuid.UUID]bool{}
		}
		m.touched[id] = true
	}
}

// CheckTouched checks the clients noted since the last call against every
// saved segment and records the changes. Clients not checked because of an
// error are noted again.
func (m *Membership) CheckTouched(ctx context.Context) ([]segment.Change, error) {
	m.mu.Lock()
	ids := make([]uuid.UUID, 0, len(m.touched))
	for id := range m.touched {
		ids = append(ids, id)
	}
	m.touched = nil
	m.mu.Unlock()
	if len(ids) == 0 {
		return nil, nil
	}
	var done []segment.Change
	for start := 0; start < len(ids); start += segment.MaxLimit {
		part := ids[start:min(start+segment.MaxLimit, len(ids))]
		ch, err := m.check(ctx, part)
		done = append(done, ch...)
		if err != nil {
			m.note(ids[start:])
			return done, err
		}
	}
	return done, nil
}

// Sweep checks every client against every saved segment, as of now, and
// records the changes, first those an earlier pass left unrecorded.
func (m *Membership) Sweep(ctx context.Context) ([]segment.Change, error) {
	return m.check(ctx, nil)
}

// check compares the clients (nil for all) with the saved segments and
// records the changes.
func (m *Membership) check(ctx context.Context, clients []uuid.UUID) ([]segment.Change, error) {
	if err := m.recordQueued(ctx); err != nil {
		return nil, err
	}
	saved, err := m.Segments.Segments(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	var done []segment.Change
	for _, s := range saved {
		ch, err := m.compare(ctx, s, clients, now)
		if err != nil {
			return done, fmt.Errorf("segment %s: %w", s.Name, err)
		}
		done = append(done, ch...)
	}
	return done, m.recordQueued(ctx)
}

func (m *Membership) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// compare records who entered and left one saved segment among clients
// (nil for all).
func (m *Membership) compare(ctx context.Context, s segment.Saved, clients []uuid.UUID, now time.Time) ([]segment.Change, error) {
	f, teams, err := m.resolve(ctx, s)
	if err != nil {
		// A segment whose filter no longer works (a segment it names was
		// deleted) keeps its members until it is fixed.
		if m.Logger != nil {
			m.Logger.Warn("segment not checked", slog.String("segment", s.Name), slog.Any("err", err))
		}
		return nil, nil
	}
	ids, err := m.Segments.MatchClientIDs(ctx, segment.Query{Filter: f, Teams: teams, Now: now, Clients: clients})
	if err != nil {
		return nil, err
	}
	in := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	members, err := m.Segments.SegmentMembers(ctx, s.Name, clients)
	if err != nil {
		return nil, err
	}
	var left []uuid.UUID
	for _, mb := range members {
		if in[mb.ClientID] {
			delete(in, mb.ClientID)
		} else {
			left = append(left, mb.ClientID)
		}
	}
	entered := make([]uuid.UUID, 0, len(in))
	for id := range in {
		entered = append(entered, id)
	}
	if len(entered) == 0 && len(left) == 0 {
		return nil, nil
	}
	ch, err := m.Segments.ChangeMembership(ctx, s.Name, now, entered, left)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, nil // deleted meanwhile
	}
	return ch, err
}

func (m *Membership) resolve(ctx context.Context, s segment.Saved) (*segment.Filter, []string, error) {
	if m.Resolve != nil {
		return m.Resolve(ctx, s)
	}
	f, err := segment.Parse(s.Filter, m.Catalogue)
	if err != nil {
		return nil, nil, err
	}
	f, err = segment.Resolve(ctx, f, segment.Lookup{Segment: func(ctx context.Context, name string) (string, error) {
		s, err := m.Segments.Segment(ctx, name)
		return s.Filter, err
	}})
	return f, nil, err
}

// recordQueued puts the changes not yet on the timeline there.
func (m *Membership) recordQueued(ctx context.Context) error {
	for {
		queued, err := m.Segments.UnrecordedChanges(ctx, changeBatch)
		if err != nil || len(queued) == 0 {
			return err
		}
		events := make([]*store.Event, len(queued))
		seqs := make([]int64, len(queued))
		for i, c := range queued {
			events[i], seqs[i] = ChangeEvent(c), c.Seq
		}
		if err := m.Recorder.Record(ctx, events...); err != nil {
			return err
		}
		if err := m.Segments.MarkChangesRecorded(ctx, seqs...); err != nil {
			return err
		}
		if m.Logger != nil {
			m.Logger.Info("segment changes recorded", slog.Int("count", len(queued)))
		}
		if len(queued) < changeBatch {
			return nil
		}
	}
}

// MembershipActor is who segment change events name.
const MembershipActor = "brokersync:segments"

// ChangeEvent is the timeline event of a change: the same for the same
// change, however often it is made.
func ChangeEvent(c segment.Change) *store.Event {
	verb, sig := "left", store.SignalSegmentLeft
	if c.Entered {
		verb, sig = "entered", store.SignalSegmentEntered
	}
	return &store.Event{
		ClientID: c.ClientID,
		Time:     c.At,
		Kind:     store.KindEvent,
		Source:   store.SourceSegment,
		SourceID: fmt.Sprintf("%s/%s/%d", c.Segment, c.ClientID, c.Seq),
		Actor:    MembershipActor,
		Summary:  fmt.Sprintf("%s segment %s", verb, c.Segment),
		Attrs:    store.Attrs{Extra: store.WithSignal(map[string]string{"segment": c.Segment}, sig)},
	}
}

// Run checks the clients of new events every touchedEvery and every client
// every sweepEvery (defaults when 0) until ctx ends; a failed pass is
// logged and the next one tries again.
func (m *Membership) Run(ctx context.Context, sweepEvery, touchedEvery time.Duration) error {
	if sweepEvery <= 0 {
		sweepEvery = DefaultMembershipSweep
	}
	if touchedEvery <= 0 {
		touchedEvery = DefaultMembershipTouched
	}
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	touched := time.NewTicker(touchedEvery)
	defer touched.Stop()
	warn := func(what string, err error) {
		if err != nil && ctx.Err() == nil && m.Logger != nil {
			m.Logger.Warn(what, slog.Any("err", err))
		}
	}
	_, err := m.Sweep(ctx)
	warn("segment sweep failed", err)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sweep.C:
			_, err := m.Sweep(ctx)
			warn("segment sweep failed", err)
		case <-touched.C:
			_, err := m.CheckTouched(ctx)
			warn("segment check failed", err)
		}
	}
}
