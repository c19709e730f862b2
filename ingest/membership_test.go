package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/segment"
)

type membershipStore interface {
	store.ClientStore
	store.ContactStore
	ingest.MembershipSegments
}

func TestMembershipEmbedded(t *testing.T) {
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	testMembership(t, db, db.Timeline())
}

func TestMembershipPostgres(t *testing.T) {
	testMembership(t, backendtest.Postgres(t), backendtest.Cassandra(t))
}

// failingTimeline fails its next appends, as a timeline that went away
// between a change and its event.
type failingTimeline struct {
	store.TimelineStore
	fail bool
}

func (f *failingTimeline) AppendEvents(ctx context.Context, events ...*store.Event) error {
	if f.fail {
		return errors.New("timeline unreachable")
	}
	return f.TimelineStore.AppendEvents(ctx, events...)
}

// unmarkable loses the note that changes are recorded, as a crash right
// after their events were appended.
type unmarkable struct{ ingest.MembershipSegments }

func (unmarkable) MarkChangesRecorded(context.Context, ...int64) error {
	return errors.New("crashed before the changes were marked")
}

// A client crosses last.contact>30d by the passage of time alone and
// leaves it by a new email; each entry and exit is one timeline event with
// its signal, heard by subscribers, however many sweeps run and whatever a
// crash interrupts.
func testMembership(t *testing.T, db membershipStore, tl store.TimelineStore) {
	ctx := context.Background()
	day := 24 * time.Hour
	base := time.Now().UTC().Truncate(time.Second)
	now := base
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }

	var heard []string
	var hmu sync.Mutex
	listener := ingest.SubscriberFunc(func(_ context.Context, events []*store.Event) error {
		hmu.Lock()
		defer hmu.Unlock()
		for _, e := range events {
			if s := e.Attrs.Signal(); s == store.SignalSegmentEntered || s == store.SignalSegmentLeft {
				heard = append(heard, e.ClientID.String()+" "+string(s))
			}
		}
		return nil
	})
	ftl := &failingTimeline{TimelineStore: tl}
	rec := &ingest.Recorder{Timeline: ftl}
	m := &ingest.Membership{Catalogue: store.DefaultCatalogue(), Segments: db, Recorder: rec, Now: clock}
	rec.Subscribers = []ingest.Subscriber{ingest.ContactTracker{Contacts: db}, listener, m}
	// restart is a new process on the same stores.
	restart := func() *ingest.Membership {
		m = &ingest.Membership{Catalogue: store.DefaultCatalogue(), Segments: db, Recorder: rec, Now: clock}
		rec.Subscribers[2] = m
		return m
	}

	sfx := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	desk := "desk-" + sfx
	ids := map[string]uuid.UUID{}
	for _, name := range []string{"quiet", "fresh"} {
		c := &store.Client{Handle: name + "-" + sfx, Name: name, Kind: store.Entity, Team: desk, Broker: "U1", Stage: store.Active}
		if err := db.CreateClient(ctx, c, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	n := 0
	email := func(name string, at time.Time) {
		t.Helper()
		n++
		e := &store.Event{ClientID: ids[name], Time: at, Kind: store.KindEmail, Source: store.SourceEmail, SourceID: sfx + "-" + string(rune('a'+n)),
			Actor: "client@example.com", Summary: "Re: prices", Attrs: store.Attrs{Email: &store.EmailAttrs{Direction: store.Inbound}}}
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	email("quiet", base.Add(-20*day))
	email("fresh", base.Add(-day))
	name := "at-risk-" + sfx
	if _, err := db.SaveSegment(ctx, segment.Saved{Name: name, Filter: "desk:" + desk + " last.contact>30d", UpdatedBy: "U1", UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	mine := func(cs []segment.Change) []string {
		var out []string
		for _, c := range cs {
			if c.Segment != name {
				continue
			}
			who := "quiet"
			if c.ClientID == ids["fresh"] {
				who = "fresh"
			}
			verb := "left"
			if c.Entered {
				verb = "entered"
			}
			out = append(out, who+" "+verb)
		}
		return out
	}
	sweep := func(want ...string) {
		t.Helper()
		got, err := m.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g := mine(got); strings.Join(g, ", ") != strings.Join(want, ", ") {
			t.Errorf("sweep at +%v: %v, want %v", clock().Sub(base)/day, g, want)
		}
	}
	events := func(who string) []string {
		t.Helper()
		page, err := tl.Events(ctx, ids[who], store.EventQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range page.Events {
			if e.Source == store.SourceSegment {
				if e.Attrs.Extra["segment"] != name {
					t.Errorf("event %q names segment %q", e.Summary, e.Attrs.Extra["segment"])
				}
				out = append([]string{e.Summary + " @" + e.Time.Sub(base).Round(day).String()}, out...) // oldest first
			}
		}
		return out
	}
	entered, left := "entered segment "+name, "left segment "+name

	sweep()                 // neither has been quiet for 30 days
	set(base.Add(11 * day)) // quiet's email is 31 days old
	// Three replicas sweeping at once record the entry once.
	var wg sync.WaitGroup
	var all []segment.Change
	var amu sync.Mutex
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &ingest.Membership{Catalogue: store.DefaultCatalogue(), Segments: db, Recorder: rec, Now: clock}
			got, err := r.Sweep(ctx)
			if err != nil {
				t.Error(err)
			}
			amu.Lock()
			all = append(all, got...)
			amu.Unlock()
		}()
	}
	wg.Wait()
	if g := mine(all); strings.Join(g, ", ") != "quiet entered" {
		t.Errorf("three sweeps at once: %v, want quiet entered once", g)
	}
	sweep()
	restart()
	sweep()
	if got, want := events("quiet"), []string{entered + " @264h0m0s"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("quiet's timeline: %q, want %q", got, want)
	}

	// A new email takes quiet out as soon as its clients are checked.
	set(base.Add(11*day + 2*time.Hour))
	email("quiet", clock())
	got, err := m.CheckTouched(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := mine(got); strings.Join(g, ",") != "quiet left" {
		t.Errorf("after the email: %v, want quiet left", g)
	}
	sweep()
	if got := events("quiet"); len(got) != 2 || !strings.HasPrefix(got[1], left+" @") {
		t.Errorf("quiet's timeline: %q, want entered then left", got)
	}

	// A crash between the change and its event: the change is kept, and
	// the next process records it, once.
	set(base.Add(35 * day)) // fresh's email is 36 days old, quiet's 24
	ftl.fail = true
	if _, err := m.Sweep(ctx); err == nil {
		t.Fatal("sweep with the timeline away: no error")
	}
	ftl.fail = false
	if got := events("fresh"); len(got) != 0 {
		t.Errorf("fresh's timeline before the retry: %q", got)
	}
	restart()
	sweep()
	sweep()
	if got := events("fresh"); len(got) != 1 || !strings.HasPrefix(got[0], entered+" @840h") {
		t.Errorf("fresh's timeline: %q, want one entry at +35 days", got)
	}

	// A crash after the event, before the change is marked recorded: the
	// retry records the same event again, which stores nothing new.
	set(base.Add(50 * day)) // quiet's last email is 39 days old
	m = &ingest.Membership{Catalogue: store.DefaultCatalogue(), Segments: unmarkable{db}, Recorder: rec, Now: clock}
	if _, err := m.Sweep(ctx); err == nil {
		t.Fatal("sweep that cannot mark: no error")
	}
	restart()
	sweep()
	sweep()
	if got := events("quiet"); len(got) != 3 || !strings.HasPrefix(got[2], entered+" @1200h") {
		t.Errorf("quiet's timeline: %q, want entered, left, entered", got)
	}
	members, err := db.SegmentMembers(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 {
		t.Errorf("%d members, want quiet and fresh", len(members))
	}

	// Subscribers heard each change at least once, in order per client.
	hmu.Lock()
	defer hmu.Unlock()
	var q []string
	for _, h := range heard {
		if id, sig, _ := strings.Cut(h, " "); id == ids["quiet"].String() && (len(q) == 0 || q[len(q)-1] != sig) {
			q = append(q, sig)
		}
	}
	if want := []string{"segment_entered", "segment_left", "segment_entered"}; strings.Join(q, " ") != strings.Join(want, " ") {
		t.Errorf("subscribers heard for quiet: %v, want %v", q, want)
	}
}
