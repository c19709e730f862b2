package reminders_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/segment"
)

// wfBackend is what workflows need of the records.
type wfBackend interface {
	store.ClientStore
	store.ReminderStore
	store.WorkflowStore
	store.TeamStore
	store.ContactStore
	store.StatsReader
	segment.Matcher
	segment.IDMatcher
	segment.Store
}

// wfEnv is a desk with two clients (acme, risk 8; beta, risk 3), a
// client of another desk (zed), a broker and a manager; workflows run on
// what its recorder records, as in the server.
type wfEnv struct {
	t        *testing.T
	db       wfBackend
	tl       store.TimelineStore
	rec      *ingest.Recorder
	wf       *reminders.Workflows
	clock    *testClock
	desk     string
	acme     *store.Client
	beta     *store.Client
	zed      *store.Client
	seq      int
	sfx      string
	profiles ingest.Profiles
}

const (
	wfBroker  = "UWFBROKER"
	wfManager = "UWFMANAGER"
)

func forEachWorkflowBackend(t *testing.T, fn func(t *testing.T, e *wfEnv)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t).(wfBackend)
			var tl store.TimelineStore
			if b.name == "postgres" {
				tl = backendtest.Cassandra(t)
			} else {
				tl = db.(*embedded.DB).Timeline()
			}
			fn(t, newWfEnv(t, db, tl))
		})
	}
}

func newWfEnv(t *testing.T, db wfBackend, tl store.TimelineStore) *wfEnv {
	ctx := t.Context()
	clock := &testClock{now: time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)}
	db.(interface{ SetClock(func() time.Time) }).SetClock(clock.Now)
	sfx := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	e := &wfEnv{t: t, db: db, tl: tl, clock: clock, desk: "grain-" + sfx, sfx: sfx}
	for _, m := range []store.Member{{SlackID: wfBroker, Desk: e.desk, Role: store.RoleBroker}, {SlackID: wfManager, Desk: e.desk, Role: store.RoleManager}} {
		m.AddedBy = "UADMIN"
		if err := db.AddMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, desk string, risk int) *store.Client {
		c := &store.Client{Handle: name + "-" + sfx, Name: strings.ToUpper(name[:1]) + name[1:] + " Co", Kind: store.Entity, Team: desk, Broker: wfBroker, Stage: store.Active}
		c.Risk.Tolerance = risk
		if err := db.CreateClient(ctx, c, wfBroker); err != nil {
			t.Fatal(err)
		}
		return c
	}
	e.acme, e.beta, e.zed = mk("acme", e.desk, 8), mk("beta", e.desk, 3), mk("zed", "other-"+sfx, 8)
	e.rec = &ingest.Recorder{Timeline: tl}
	e.wf = &reminders.Workflows{Catalogue: store.DefaultCatalogue(), Store: db, Reminders: db, Clients: db, Teams: db, Segments: db, Stats: db, Timeline: tl,
		Recorder: e.rec, CacheFor: -1, Now: clock.Now}
	e.rec.Subscribers = []ingest.Subscriber{ingest.ContactTracker{Contacts: db, Teams: db}, e.wf}
	e.profiles = ingest.Profiles{Clients: db, Recorder: e.rec}
	return e
}

// add stores an enabled workflow of the desk.
func (e *wfEnv) add(name, def string) *store.Workflow {
	e.t.Helper()
	w := &store.Workflow{Name: name + "-" + e.sfx, Desk: e.desk, Definition: def, Enabled: true, UpdatedBy: wfBroker, UpdatedAt: e.clock.Now()}
	if _, err := e.db.PutWorkflow(e.t.Context(), w); err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *wfEnv) record(evs ...*store.Event) {
	e.t.Helper()
	if err := e.rec.Record(e.t.Context(), evs...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *wfEnv) event(c *store.Client, kind store.Kind, source store.Source, summary string) *store.Event {
	e.seq++
	return &store.Event{ClientID: c.ID, Kind: kind, Source: source, SourceID: fmt.Sprintf("%s-%s-%d", e.t.Name(), e.sfx, e.seq),
		Time: e.clock.Now(), Actor: "someone", Summary: summary}
}

func (e *wfEnv) order(c *store.Client, status string) *store.Event {
	ev := e.event(c, store.KindOrder, store.SourceOrders, status+" 5 ZCZ6")
	ev.Attrs.Order = &store.OrderAttrs{OrderID: ev.SourceID, Status: status, Commodity: "corn", Side: "buy", Quantity: 5}
	return ev
}

func (e *wfEnv) signal(c *store.Client, source store.Source, s store.Signal, extra map[string]string, summary string) *store.Event {
	ev := e.event(c, store.KindEvent, source, summary)
	ev.Attrs.Extra = store.WithSignal(extra, s)
	return ev
}

// reminders lists the open reminders of a client, as "recipient|channel|text".
func (e *wfEnv) reminders(c *store.Client) []string {
	e.t.Helper()
	rs, err := e.db.ListReminders(e.t.Context(), store.ReminderFilter{ClientID: c.ID, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Broker+"|"+r.Channel+"|"+r.Text)
	}
	slices.Sort(out)
	return out
}

// firings lists the workflow entries of a client's timeline, oldest first.
func (e *wfEnv) firings(c *store.Client) []*store.Event {
	e.t.Helper()
	page, err := e.tl.Events(e.t.Context(), c.ID, store.EventQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*store.Event
	for _, ev := range slices.Backward(page.Events) {
		if ev.Source == store.SourceWorkflow {
			out = append(out, ev)
		}
	}
	return out
}

func (e *wfEnv) client(c *store.Client) *store.Client {
	e.t.Helper()
	got, err := e.db.Client(e.t.Context(), c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// TestWorkflowEveryTrigger: each trigger fires its workflow, only for the
// desk's clients who match the condition, once per event.
func TestWorkflowEveryTrigger(t *testing.T) {
	forEachWorkflowBackend(t, func(t *testing.T, e *wfEnv) {
		ctx := t.Context()
		seg := "watch-" + e.sfx
		if _, err := e.db.SaveSegment(ctx, segment.Saved{Name: seg, Filter: "risk>=5", UpdatedBy: wfBroker}); err != nil {
			t.Fatal(err)
		}
		triggers := []struct {
			name, trigger string
			event         func(c *store.Client) *store.Event
		}{
			{"fill", "fill", func(c *store.Client) *store.Event { return e.order(c, "filled") }},
			{"placed", "order placed", func(c *store.Client) *store.Event { return e.order(c, "placed") }},
			{"cancelled", "order cancelled", func(c *store.Client) *store.Event { return e.order(c, "cancelled") }},
			{"rejected", "order rejected", func(c *store.Client) *store.Event { return e.order(c, "rejected") }},
			{"market", "market move", func(c *store.Client) *store.Event {
				return e.signal(c, store.SourceMarket, store.SignalMarketMove, map[string]string{"commodity": "corn"}, "corn down 4%")
			}},
			{"email", "inbound email", func(c *store.Client) *store.Event {
				ev := e.event(c, store.KindEmail, store.SourceEmail, "Question about Dec corn")
				ev.Attrs.Email = &store.EmailAttrs{Subject: "Dec corn", From: "x@acme.example", Direction: "inbound"}
				return ev
			}},
			{"call", "inbound call", func(c *store.Client) *store.Event {
				ev := e.event(c, store.KindCall, store.SourceCalls, "Called in")
				ev.Attrs.Call = &store.CallAttrs{Direction: "inbound", Duration: time.Minute}
				return ev
			}},
			{"chat", "inbound chat", func(c *store.Client) *store.Event {
				ev := e.event(c, store.KindChat, store.SourceSlack, "hello from the client")
				ev.Actor = "UCLIENTX"
				return ev
			}},
			{"drop", "sentiment drop", func(c *store.Client) *store.Event {
				return e.signal(c, store.SourceSentiment, store.SignalSentimentDrop, nil, "sentiment dropped")
			}},
			{"entered", "entered segment " + seg, func(c *store.Client) *store.Event {
				return e.signal(c, store.SourceSegment, store.SignalSegmentEntered, map[string]string{"segment": seg}, "entered "+seg)
			}},
			{"left", "left segment " + seg, func(c *store.Client) *store.Event {
				return e.signal(c, store.SourceSegment, store.SignalSegmentLeft, map[string]string{"segment": seg}, "left "+seg)
			}},
			{"milestone", "milestone anniversary", func(c *store.Client) *store.Event {
				return e.signal(c, store.SourceMilestone, store.SignalMilestone, map[string]string{"milestone": "anniversary"}, "5 years with the desk")
			}},
		}
		for _, tr := range triggers {
			e.add(tr.name, `when `+tr.trigger+` if risk>=7 then remind "{{.Workflow}} for {{.Name}}: {{.Event}}"`)
		}
		e.add("stage", `when stage change to dormant if risk>=7 then remind "{{.Workflow}} for {{.Name}}: {{.Stage}}"`)
		var want []string
		for _, tr := range triggers {
			for _, c := range []*store.Client{e.acme, e.beta, e.zed} {
				ev := tr.event(c)
				e.record(ev)
				e.record(ev) // delivered again: nothing more
				if c == e.acme {
					want = append(want, wfBroker+"||"+tr.name+"-"+e.sfx+" for Acme Co: "+ev.Summary)
				}
			}
			// Nothing that is not its event fires it: a segment the
			// workflow does not name, a milestone of another kind.
		}
		e.record(e.signal(e.acme, store.SourceSegment, store.SignalSegmentEntered, map[string]string{"segment": "other"}, "entered other"),
			e.signal(e.acme, store.SourceMilestone, store.SignalMilestone, map[string]string{"milestone": "kyc_refresh"}, "KYC due"),
			e.order(e.acme, "partially_filled_not"))
		// A stage change, made by a broker: the profile change carries the
		// signal; a move to another stage does not fire.
		for _, c := range []*store.Client{e.acme, e.beta} {
			if _, _, err := e.profiles.Update(ctx, c.ID, wfBroker, func(cl *store.Client) error { cl.Stage = store.Dormant; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := e.profiles.Update(ctx, e.acme.ID, wfBroker, func(cl *store.Client) error { cl.Stage = store.Active; return nil }); err != nil {
			t.Fatal(err)
		}
		want = append(want, wfBroker+"||stage-"+e.sfx+" for Acme Co: dormant")
		slices.Sort(want)
		if got := e.reminders(e.acme); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("acme's reminders:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := e.reminders(e.beta); len(got) != 0 {
			t.Errorf("beta (risk 3) got %v", got)
		}
		if got := e.reminders(e.zed); len(got) != 0 {
			t.Errorf("zed (another desk) got %v", got)
		}
		fs := e.firings(e.acme)
		if len(fs) != len(want) {
			t.Errorf("%d firings on acme's timeline, want %d", len(fs), len(want))
		}
		for _, f := range fs {
			if f.Attrs.Extra["workflow_name"] == "" || !strings.Contains(f.Summary, "workflow "+f.Attrs.Extra["workflow_name"]+" fired") {
				t.Errorf("firing entry: %s %v", f.Summary, f.Attrs.Extra)
			}
		}
	})
}

// TestWorkflowNoContact: "no contact for N days" fires once per quiet
// spell, however often it is looked for; a contact starts a new spell.
func TestWorkflowNoContact(t *testing.T) {
	forEachWorkflowBackend(t, func(t *testing.T, e *wfEnv) {
		e.add("quiet", `when no contact for 30 days if risk>=7 then notify managers "{{.Name}} is quiet"`)
		email := func(c *store.Client) {
			ev := e.event(c, store.KindEmail, store.SourceEmail, "hi")
			ev.Attrs.Email = &store.EmailAttrs{Subject: "hi", From: "x@y.example", Direction: "outbound"}
			e.record(ev)
		}
		email(e.acme)
		email(e.beta)
		tick := func() int {
			n, err := e.wf.Tick(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		e.clock.Set(e.clock.Now().Add(29 * 24 * time.Hour))
		if n := tick(); n != 0 {
			t.Errorf("29 days on: %d firings", n)
		}
		e.clock.Set(e.clock.Now().Add(2 * 24 * time.Hour))
		if n := tick(); n != 1 {
			t.Errorf("31 days on: %d firings, want 1 (acme)", n)
		}
		for range 3 {
			if n := tick(); n != 0 {
				t.Errorf("looked for again: %d firings", n)
			}
		}
		email(e.acme)
		e.clock.Set(e.clock.Now().Add(31 * 24 * time.Hour))
		if n := tick(); n != 1 {
			t.Errorf("a new quiet spell: %d firings, want 1", n)
		}
		got := e.reminders(e.acme)
		if len(got) != 2 || got[0] != wfManager+"||Acme Co is quiet" {
			t.Errorf("acme's reminders: %v", got)
		}
		if got := e.reminders(e.beta); len(got) != 0 {
			t.Errorf("beta: %v", got)
		}
	})
}

// TestWorkflowEveryAction: remind, post, tag, untag, set stage, notify
// managers; tag and stage changes are on the timeline with the workflow;
// a delayed change waits for Tick.
func TestWorkflowEveryAction(t *testing.T) {
	forEachWorkflowBackend(t, func(t *testing.T, e *wfEnv) {
		ctx := t.Context()
		e.add("remind", `when fill then remind "Call {{.Name}} ({{.Handle}})" after 2h`)
		e.add("post", `when fill then post <#C0DESK123> "{{.Name}} filled: {{.Event}}"`)
		e.add("tag", `when fill then tag filled`)
		e.add("untag", `when order placed then untag filled`)
		e.add("stage", `when order rejected then set stage dormant after 1h`)
		e.add("managers", `when order cancelled then notify managers "{{.Name}} cancelled"`)
		t0 := e.clock.Now()
		fill := e.order(e.acme, "filled")
		e.record(fill)
		rs, err := e.db.ListReminders(ctx, store.ReminderFilter{ClientID: e.acme.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, fmt.Sprintf("%s|%s|%s|+%v", r.Broker, r.Channel, r.Text, r.Due.Sub(t0)))
		}
		want := []string{
			wfBroker + "|C0DESK123|Acme Co filled: filled 5 ZCZ6|+0s",
			wfBroker + "||Call Acme Co (" + e.acme.Handle + ")|+2h0m0s",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("reminders:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if c := e.client(e.acme); !slices.Contains(c.Tags, "filled") {
			t.Errorf("tags after the fill: %v", c.Tags)
		}
		e.clock.Set(t0.Add(time.Minute))
		e.record(e.order(e.acme, "placed"))
		if c := e.client(e.acme); slices.Contains(c.Tags, "filled") {
			t.Errorf("tags after an order: %v", c.Tags)
		}
		e.clock.Set(t0.Add(2 * time.Minute))
		e.record(e.order(e.acme, "cancelled"))
		if got := e.reminders(e.acme); !slices.Contains(got, wfManager+"||Acme Co cancelled") {
			t.Errorf("managers not told: %v", got)
		}
		e.clock.Set(t0.Add(3 * time.Minute))
		e.record(e.order(e.acme, "rejected"))
		if c := e.client(e.acme); c.Stage != store.Active {
			t.Errorf("stage set before its delay: %s", c.Stage)
		}
		e.clock.Set(t0.Add(30 * time.Minute))
		if n, err := e.wf.Tick(ctx); err != nil || n != 0 {
			t.Errorf("tick before the delay: %d %v", n, err)
		}
		e.clock.Set(t0.Add(64 * time.Minute))
		if n, err := e.wf.Tick(ctx); err != nil || n != 1 {
			t.Errorf("tick after the delay: %d %v", n, err)
		}
		if n, err := e.wf.Tick(ctx); err != nil || n != 0 {
			t.Errorf("tick again: %d %v", n, err)
		}
		if c := e.client(e.acme); c.Stage != store.Dormant {
			t.Errorf("stage after its delay: %s", c.Stage)
		}
		// The timeline: each profile change names its workflow; each
		// firing is recorded once.
		page, err := e.tl.Events(ctx, e.acme.ID, store.EventQuery{Kinds: []store.Kind{store.KindEvent}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var changes, firings []string
		for _, ev := range slices.Backward(page.Events) {
			switch ev.Source {
			case store.SourceProfile:
				changes = append(changes, ev.Summary+" ["+ev.Attrs.Extra["workflow"]+"]")
			case store.SourceWorkflow:
				firings = append(firings, strings.TrimSuffix(ev.Attrs.Extra["workflow_name"], "-"+e.sfx))
			}
		}
		wantChanges := []string{
			"workflow tag-" + e.sfx + ": profile changed: tags (none) -> filled [tag-" + e.sfx + "]",
			"workflow untag-" + e.sfx + ": profile changed: tags filled -> (none) [untag-" + e.sfx + "]",
			"workflow stage-" + e.sfx + ": profile changed: stage active -> dormant [stage-" + e.sfx + "]",
		}
		if strings.Join(changes, "\n") != strings.Join(wantChanges, "\n") {
			t.Errorf("profile changes:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
		}
		slices.Sort(firings)
		if got := strings.Join(firings, " "); got != "managers post remind stage tag untag" {
			t.Errorf("firings: %s", got)
		}
	})
}

// TestWorkflowOncePerEvent: an event delivered again, by the recorder or
// straight to the subscriber, and a firing a crash cut off after it was
// recorded, make one reminder and one timeline entry.
func TestWorkflowOncePerEvent(t *testing.T) {
	forEachWorkflowBackend(t, func(t *testing.T, e *wfEnv) {
		ctx := t.Context()
		w := e.add("once", `when fill then remind "Call {{.Name}}"`)
		e.add("tagonce", `when fill then tag once`)
		fill := e.order(e.acme, "filled")
		for range 3 {
			e.record(fill)
			if err := e.wf.EventsStored(ctx, []*store.Event{fill}); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.reminders(e.acme); len(got) != 1 {
			t.Errorf("reminders after 6 deliveries: %v", got)
		}
		if got := e.firings(e.acme); len(got) != 2 {
			t.Errorf("firings after 6 deliveries: %d", len(got))
		}
		// A crash after the firing was recorded, before its action: the
		// event delivered again takes it up, once.
		crashed := e.order(e.acme, "filled")
		if err := crashed.Prepare(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.db.BeginWorkflowFirings(ctx, &store.WorkflowFiring{Workflow: w.Name, ClientID: e.acme.ID, Key: crashed.ID.String(),
			EventID: crashed.ID, FiredAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		e.record(crashed)
		e.record(crashed)
		if got := e.reminders(e.acme); len(got) != 2 {
			t.Errorf("reminders after the crashed firing was taken up: %v", got)
		}
		// One cut off and never delivered again: Tick finishes it, once,
		// after a grace minute.
		lost := e.order(e.acme, "filled")
		e.record(lost) // stored, and fired…
		if err := lost.Prepare(); err != nil {
			t.Fatal(err)
		}
		lost2 := e.order(e.beta, "filled")
		if err := lost2.Prepare(); err != nil {
			t.Fatal(err)
		}
		if err := e.tl.AppendEvents(ctx, lost2); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.db.BeginWorkflowFirings(ctx, &store.WorkflowFiring{Workflow: w.Name, ClientID: e.beta.ID, Key: lost2.ID.String(),
			EventID: lost2.ID, FiredAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.wf.Tick(ctx); err != nil || n != 0 {
			t.Errorf("tick within the grace: %d %v", n, err)
		}
		e.clock.Set(e.clock.Now().Add(2 * time.Minute))
		if n, err := e.wf.Tick(ctx); err != nil || n != 1 {
			t.Errorf("tick after the grace: %d %v", n, err)
		}
		if n, err := e.wf.Tick(ctx); err != nil || n != 0 {
			t.Errorf("tick again: %d %v", n, err)
		}
		if got := e.reminders(e.beta); len(got) != 1 || got[0] != wfBroker+"||Call Beta Co" {
			t.Errorf("beta's reminder from the cut-off firing: %v", got)
		}
	})
}

// TestWorkflowLoopGuard: two workflows that undo each other's stage
// change stop after one round, each fired once; after the cool-down a
// new change sets them off again, once more.
func TestWorkflowLoopGuard(t *testing.T) {
	forEachWorkflowBackend(t, func(t *testing.T, e *wfEnv) {
		ctx := t.Context()
		e.add("wake", `when stage change to dormant then set stage active`)
		e.add("sleep", `when stage change to active then set stage dormant`)
		// One that tags on every stage change, whoever made it: the
		// guard keeps it to its own loops only.
		e.add("count", `when stage change then tag moved`)
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if _, _, err := e.profiles.Update(ctx, e.acme.ID, wfBroker, func(cl *store.Client) error { cl.Stage = store.Dormant; return nil }); err != nil {
			t.Fatal(err)
		}
		count := func() map[string]int {
			out := map[string]int{}
			for _, f := range e.firings(e.acme) {
				out[strings.TrimSuffix(f.Attrs.Extra["workflow_name"], "-"+e.sfx)]++
			}
			return out
		}
		got := count()
		if got["wake"] != 1 || got["sleep"] != 1 {
			t.Errorf("firings after a broker's change: %v", got)
		}
		// dormant (broker) → active (wake) → dormant (sleep); wake is
		// not fired again by sleep's change within its cool-down.
		if c := e.client(e.acme); c.Stage != store.Dormant {
			t.Errorf("stage: %s", c.Stage)
		}
		// Within the cool-down, a broker's own change still fires them:
		// the guard holds only for what the workflows caused.
		e.clock.Set(e.clock.Now().Add(10 * time.Minute))
		if _, _, err := e.profiles.Update(ctx, e.acme.ID, wfBroker, func(cl *store.Client) error { cl.Stage = store.Active; return nil }); err != nil {
			t.Fatal(err)
		}
		got = count()
		if got["wake"] != 2 || got["sleep"] != 2 {
			t.Errorf("firings after the broker's second change: %v", got)
		}
		if c := e.client(e.acme); c.Stage != store.Active {
			t.Errorf("stage: %s", c.Stage)
		}
	})
}

// TestWorkflowDryRunMatchesFiring: /workflow test's dry run lists the
// firings that then happen when the same events arrive with the workflow
// enabled, and does nothing itself.
func TestWorkflowDryRunMatchesFiring(t *testing.T) {
	forEachWorkflowBackend(t, func(t *testing.T, e *wfEnv) {
		ctx := t.Context()
		w := e.add("dry", `when fill if risk>=7 then tag big`)
		w.Enabled = false
		if _, err := e.db.PutWorkflow(ctx, w); err != nil {
			t.Fatal(err)
		}
		t0 := e.clock.Now()
		var events []*store.Event
		for i, c := range []*store.Client{e.acme, e.beta, e.zed, e.acme} {
			e.clock.Set(t0.Add(time.Duration(i) * time.Hour))
			for _, status := range []string{"filled", "placed"} {
				ev := e.order(c, status)
				e.record(ev)
				events = append(events, ev)
			}
		}
		old := e.order(e.acme, "filled")
		old.Time = t0.Add(-40 * 24 * time.Hour) // older than the 30 days looked at
		e.record(old)
		e.clock.Set(t0.Add(5 * time.Hour))
		dry, err := e.wf.DryRun(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		var wantKeys []string
		for _, f := range dry {
			wantKeys = append(wantKeys, f.Client.Handle+"/"+f.Key)
		}
		if len(dry) != 2 || dry[0].Client.ID != e.acme.ID || dry[1].Client.ID != e.acme.ID || !dry[0].At.Before(dry[1].At) {
			t.Errorf("dry run: %v", wantKeys)
		}
		if c := e.client(e.acme); slices.Contains(c.Tags, "big") || len(e.firings(e.acme)) != 0 {
			t.Errorf("the dry run did something: %v", c.Tags)
		}
		// Enabled, the same events delivered again fire it on exactly
		// what the dry run listed.
		w.Enabled = true
		if _, err := e.db.PutWorkflow(ctx, w); err != nil {
			t.Fatal(err)
		}
		if err := e.wf.EventsStored(ctx, append(events, old)); err != nil {
			t.Fatal(err)
		}
		var gotKeys []string
		for _, c := range []*store.Client{e.acme, e.beta, e.zed} {
			for _, f := range e.firings(c) {
				gotKeys = append(gotKeys, c.Handle+"/"+f.Attrs.Extra["event_id"])
			}
		}
		// The old fill fires too when delivered now; the dry run looks
		// back 30 days only.
		oldKey := e.acme.Handle + "/" + old.ID.String()
		gotKeys = slices.DeleteFunc(gotKeys, func(k string) bool { return k == oldKey })
		slices.Sort(gotKeys)
		slices.Sort(wantKeys)
		if strings.Join(gotKeys, " ") != strings.Join(wantKeys, " ") {
			t.Errorf("fired on\n%v\ndry run said\n%v", gotKeys, wantKeys)
		}
	})
}
