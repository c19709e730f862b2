package reminders_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

var (
	chicago = mustLoad("America/Chicago")
	london  = mustLoad("Europe/London")
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// testClock is a clock a test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

type trigEnv struct {
	t     *testing.T
	s     backend
	tl    store.TimelineStore
	trig  *reminders.Triggers
	clock *testClock
	c     *store.Client
	seq   int
}

func newTrigEnv(t *testing.T, s backend) *trigEnv {
	clock := &testClock{now: time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)} // Thu 09:00 Chicago
	s.(interface{ SetClock(func() time.Time) }).SetClock(clock.Now)
	tldb, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tldb.Close() })
	c := storetest.SimpleClient(1)
	c.Broker, c.TimeZone = "UJANE1", "Europe/London"
	if err := s.CreateClient(t.Context(), c, "UJANE1"); err != nil {
		t.Fatal(err)
	}
	e := &trigEnv{t: t, s: s, tl: tldb.Timeline(), clock: clock, c: c}
	e.trig = &reminders.Triggers{
		Reminders: s, Clients: s, Timeline: e.tl, Now: clock.Now,
		Zone: func(context.Context, string) (*time.Location, error) { return chicago, nil },
	}
	return e
}

func (e *trigEnv) deliver(evs ...*store.Event) {
	e.t.Helper()
	for _, ev := range evs {
		if err := ev.Prepare(); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.trig.EventsStored(e.t.Context(), evs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *trigEnv) event(kind store.Kind, source store.Source, at time.Time, summary string) *store.Event {
	e.seq++
	return &store.Event{ClientID: e.c.ID, Kind: kind, Source: source, SourceID: e.t.Name() + string(rune('a'+e.seq)),
		Time: at, Actor: "UJANE1", Summary: summary}
}

func (e *trigEnv) fill(at time.Time) *store.Event {
	ev := e.event(store.KindOrder, store.SourceOrders, at, "Filled 10 ZCH7 at 4.52")
	ev.Actor = "orders"
	ev.Attrs.Order = &store.OrderAttrs{Status: "filled", Commodity: "corn"}
	return ev
}

func (e *trigEnv) move(commodity string, at time.Time, summary string) *store.Event {
	ev := e.event(store.KindEvent, store.SourceMarket, at, summary)
	ev.Actor = "market"
	ev.Attrs.Extra = store.WithSignal(map[string]string{"commodity": commodity}, store.SignalMarketMove)
	return ev
}

func (e *trigEnv) open(source string) []*store.Reminder {
	e.t.Helper()
	rs, err := e.s.ListReminders(e.t.Context(), store.ReminderFilter{ClientID: e.c.ID,
		States: []store.ReminderState{store.ReminderPending, store.ReminderSnoozed, store.ReminderClaimed, store.ReminderPosted}})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*store.Reminder
	for _, r := range rs {
		if source == "" || r.Source == source {
			out = append(out, r)
		}
	}
	return out
}

// TestTriggers: fills, market moves and sentiment make follow-ups, one per
// client and reason, and a real contact resolves them, on both stores.
func TestTriggers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testTriggers(t, b.open(t)) })
	}
}

func testTriggers(t *testing.T, s backend) {
	e := newTrigEnv(t, s)
	t0 := e.clock.Now()

	// A fill: a follow-up 24 hours later, Friday 09:00 Chicago, in hours.
	fill := e.fill(t0)
	e.deliver(fill)
	e.deliver(fill) // delivered again: still one
	fills := e.open(reminders.SourceFill)
	if len(fills) != 1 || !fills[0].Due.Equal(t0.Add(24*time.Hour)) || fills[0].Broker != "UJANE1" || fills[0].Key != "fill" ||
		!strings.Contains(fills[0].Text, "Filled 10 ZCH7") {
		t.Fatalf("after a fill: %+v", fills)
	}

	// Market moves: one per commodity and day, carrying the latest move.
	e.clock.Set(t0.Add(5 * time.Minute))
	e.deliver(e.move("corn", t0.Add(5*time.Minute), "Market move: ZCH7 down 4.2%"))
	e.clock.Set(t0.Add(time.Hour))
	e.deliver(e.move("corn", t0.Add(time.Hour), "Market move: ZCH7 down 6.0%"), e.move("wheat", t0.Add(time.Hour), "Market move: ZWH7 up 3.1%"))
	moves := e.open(reminders.SourceMarketMove)
	if len(moves) != 2 {
		t.Fatalf("market follow-ups: %+v", moves)
	}
	for _, r := range moves {
		if strings.Contains(r.Key, "corn") && (r.Text != "Market move: ZCH7 down 6.0%" || r.Key != "market_move:corn:2026-12-10") {
			t.Errorf("corn follow-up %q %q: want the latest move, keyed by the day", r.Text, r.Key)
		}
	}

	// A sentiment drop, then another: one sentiment follow-up.
	drop := e.event(store.KindEvent, store.SourceSentiment, t0.Add(70*time.Minute), "Sentiment fell")
	drop.Attrs.Extra = store.WithSignal(nil, store.SignalSentimentDrop)
	e.deliver(drop)
	drop2 := e.event(store.KindEvent, store.SourceSentiment, t0.Add(71*time.Minute), "Sentiment fell again")
	drop2.Attrs.Extra = store.WithSignal(nil, store.SignalSentimentDrop)
	e.deliver(drop2)
	if got := e.open(reminders.SourceSentiment); len(got) != 1 || !strings.Contains(got[0].Text, "fell again") {
		t.Fatalf("sentiment follow-ups: %+v", got)
	}
	if n := len(e.open("")); n != 4 {
		t.Fatalf("%d open follow-ups, want 4", n)
	}

	// Jane logs a call at 11:05 her time: every follow-up created before
	// is resolved, and the timeline says how.
	callAt := time.Date(2026, 12, 10, 17, 5, 0, 0, time.UTC)
	e.clock.Set(callAt)
	e.deliver(e.event(store.KindCall, store.SourceCommand, callAt, "Spoke about the spread"))
	if open := e.open(""); len(open) != 0 {
		t.Fatalf("after the call, still open: %+v", open)
	}
	page, err := e.tl.Events(t.Context(), e.c.ID, store.EventQuery{Kinds: []store.Kind{store.KindReminder}})
	if err != nil || len(page.Events) != 4 {
		t.Fatalf("resolutions on the timeline: %d %v", len(page.Events), err)
	}
	if s := page.Events[0].Summary; !strings.Contains(s, "Follow-up resolved: call logged by <@UJANE1> at 11:05") {
		t.Errorf("resolution %q", s)
	}

	// An inbound negative email: a real contact (nothing left to resolve)
	// and a new sentiment follow-up; a drop after it updates that one.
	mailAt := callAt.Add(25 * time.Minute)
	e.clock.Set(mailAt)
	mail := e.event(store.KindEmail, store.SourceEmail, mailAt, "This fill was a disaster")
	mail.Actor = "tom@client1.example.com"
	mail.Attrs.Email = &store.EmailAttrs{Direction: "inbound", From: "tom@client1.example.com"}
	mail.Sentiment = &store.Sentiment{Score: -0.8, Label: "negative"}
	e.deliver(mail)
	drop3 := e.event(store.KindEvent, store.SourceSentiment, mailAt.Add(time.Minute), "Sentiment fell")
	drop3.Attrs.Extra = store.WithSignal(nil, store.SignalSentimentDrop)
	e.deliver(drop3)
	if got := e.open(reminders.SourceSentiment); len(got) != 1 {
		t.Fatalf("after the negative email and a drop: %+v", got)
	}
	// An outbound email is a contact too: it resolves that one, and being
	// outbound it triggers nothing.
	e.clock.Set(mailAt.Add(time.Hour))
	out := e.event(store.KindEmail, store.SourceEmail, mailAt.Add(time.Hour), "Sorry about the fill")
	out.Attrs.Email = &store.EmailAttrs{Direction: "outbound"}
	out.Sentiment = &store.Sentiment{Score: -0.5, Label: "negative"}
	e.deliver(out)
	if got := e.open(""); len(got) != 0 {
		t.Fatalf("after the reply: %+v", got)
	}
	page, _ = e.tl.Events(t.Context(), e.c.ID, store.EventQuery{Kinds: []store.Kind{store.KindReminder}, Limit: 1})
	if s := page.Events[0].Summary; !strings.Contains(s, "email logged by <@UJANE1> at 12:30") {
		t.Errorf("resolution by email %q", s)
	}
}

// TestTriggersWaitForWorkingHours: a triggered follow-up waits for the
// broker's hours and the client's preferred times, on both stores.
func TestTriggersWaitForWorkingHours(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			e := newTrigEnv(t, s)
			if _, _, err := s.UpdateClient(t.Context(), e.c.ID, "UJANE1", func(c *store.Client) error {
				c.Contact.Times = []string{"14:00-16:00"} // London: 08:00-10:00 Chicago in winter
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// Friday 17:30 Chicago: in Jane's hours, but 23:30 in London.
			at := time.Date(2026, 12, 11, 23, 30, 0, 0, time.UTC)
			e.clock.Set(at)
			e.deliver(e.move("corn", at, "Market move: ZCH7 down 5%"))
			got := e.open(reminders.SourceMarketMove)
			if want := time.Date(2026, 12, 14, 8, 0, 0, 0, chicago); len(got) != 1 || !got[0].Due.Equal(want) {
				t.Fatalf("due %v, want Monday 08:00 Chicago (14:00 London)", got)
			}
			// Jane's own hours, changed.
			if err := s.SetFollowupSettings(t.Context(), &store.FollowupSettings{Broker: "UJANE1", DayStart: 9 * 60, DayEnd: 17 * 60}); err != nil {
				t.Fatal(err)
			}
			e.deliver(e.move("wheat", at, "Market move: ZWH7 up 5%"))
			for _, r := range e.open(reminders.SourceMarketMove) {
				if strings.Contains(r.Key, "wheat") && !r.Due.Equal(time.Date(2026, 12, 14, 9, 0, 0, 0, chicago)) {
					t.Errorf("with hours 09:00-17:00: due %v", r.Due.In(chicago))
				}
			}
		})
	}
}

// TestWorkingTimeAcrossDST: working hours and client times stay on the
// wall clock in each zone across the 2027 changes (Chicago 14 March and
// 7 November, London 28 March and 31 October).
func TestWorkingTimeAcrossDST(t *testing.T) {
	def := store.DefaultFollowupSettings("U1")
	for _, tc := range []struct {
		name           string
		from           time.Time
		broker, client *time.Location
		prefs          []string
		want           time.Time
	}{
		// A fill on Friday 12 March 16:00 CST, followed up 24 h later: the
		// weekend, then Monday 08:00 CDT, after the spring change.
		{"fill over the spring weekend", time.Date(2027, 3, 12, 16, 0, 0, 0, chicago).Add(24 * time.Hour), chicago, nil, nil,
			time.Date(2027, 3, 15, 13, 0, 0, 0, time.UTC)},
		// London 14:00-16:00 before either change, between them, after both.
		{"both on winter time", time.Date(2027, 3, 8, 12, 0, 0, 0, time.UTC), chicago, london, []string{"14:00-16:00"},
			time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)},
		{"Chicago on summer time, London not", time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC), chicago, london, []string{"14:00-16:00"},
			time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC)},
		{"both on summer time", time.Date(2027, 3, 29, 12, 0, 0, 0, time.UTC), chicago, london, []string{"14:00-16:00"},
			time.Date(2027, 3, 29, 13, 0, 0, 0, time.UTC)},
		// A London broker after the autumn change in London, a Chicago
		// client on summer time still, then on winter time.
		{"London back on GMT, Chicago not", time.Date(2027, 10, 29, 17, 0, 0, 0, london).Add(24 * time.Hour), london, chicago, []string{"morning"},
			time.Date(2027, 11, 1, 13, 0, 0, 0, time.UTC)},
		{"both on winter time in November", time.Date(2027, 11, 8, 7, 0, 0, 0, time.UTC), london, chicago, []string{"morning"},
			time.Date(2027, 11, 8, 14, 0, 0, 0, time.UTC)},
		// Sunday 7 November, the Chicago change: Monday 08:00 CST.
		{"Chicago autumn change", time.Date(2027, 11, 7, 1, 30, 0, 0, chicago), chicago, nil, nil,
			time.Date(2027, 11, 8, 14, 0, 0, 0, time.UTC)},
		// Within hours: now.
		{"in hours", time.Date(2027, 3, 16, 10, 17, 30, 0, chicago), chicago, nil, nil,
			time.Date(2027, 3, 16, 10, 18, 0, 0, chicago)},
		// Preferences no time of the broker's meets: the broker's hours.
		{"no common time", time.Date(2027, 3, 16, 4, 0, 0, 0, chicago), chicago, london, []string{"02:00-03:00"},
			time.Date(2027, 3, 16, 8, 0, 0, 0, chicago)},
	} {
		got := reminders.WorkingTime(tc.from, def, tc.broker, tc.prefs, tc.client)
		if !got.Equal(tc.want) {
			t.Errorf("%s: got %v (%v), want %v", tc.name, got.UTC(), got.In(tc.broker), tc.want.UTC())
		}
	}
}

// TestCadence: no real contact within the client's frequency raises a
// warning, at 1.5 times it the warning turns overdue, each once per
// silence; a contact resolves it and restarts the clock. Both stores.
func TestCadence(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			e := newTrigEnv(t, s)
			t0 := e.clock.Now()
			if _, _, err := s.UpdateClient(t.Context(), e.c.ID, "UJANE1", func(c *store.Client) error {
				c.Contact.Frequency = store.Weekly
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			call := e.event(store.KindCall, store.SourceCommand, t0, "Weekly catch-up")
			if err := call.Prepare(); err != nil {
				t.Fatal(err)
			}
			if err := e.tl.AppendEvents(t.Context(), call); err != nil {
				t.Fatal(err)
			}
			check := func(at time.Time) []*store.Reminder {
				t.Helper()
				e.clock.Set(at)
				if _, err := e.trig.CheckCadence(t.Context()); err != nil {
					t.Fatal(err)
				}
				return e.open(reminders.SourceCadence)
			}
			if got := check(t0.Add(6 * 24 * time.Hour)); len(got) != 0 {
				t.Fatalf("after 6 days: %+v", got)
			}
			warn := check(t0.Add(7*24*time.Hour + time.Hour))
			if len(warn) != 1 || !strings.HasPrefix(warn[0].Text, "No contact for 7 days") {
				t.Fatalf("after 7 days: %+v", warn)
			}
			if got := check(t0.Add(8 * 24 * time.Hour)); len(got) != 1 || got[0].ID != warn[0].ID {
				t.Fatalf("checked again: %+v", got)
			}
			over := check(t0.Add(10*24*time.Hour + 13*time.Hour)) // 1.5 weeks and a bit
			if len(over) != 1 || over[0].ID != warn[0].ID || !strings.HasPrefix(over[0].Text, "Overdue: no contact for 10 days") {
				t.Fatalf("at 1.5 weeks: %+v", over)
			}
			// Jane marks it done without calling: not raised again.
			if _, err := s.CloseReminder(t.Context(), over[0].ID, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if got := check(t0.Add(12 * 24 * time.Hour)); len(got) != 0 {
				t.Fatalf("after done: %+v", got)
			}
			// A contact restarts the clock: nothing until a week after it.
			mailAt := t0.Add(12*24*time.Hour + time.Hour)
			e.clock.Set(mailAt)
			mail := e.event(store.KindEmail, store.SourceEmail, mailAt, "Re: basis")
			mail.Attrs.Email = &store.EmailAttrs{Direction: "inbound"}
			if err := mail.Prepare(); err != nil {
				t.Fatal(err)
			}
			if err := e.tl.AppendEvents(t.Context(), mail); err != nil {
				t.Fatal(err)
			}
			e.deliver(mail)
			if got := check(mailAt.Add(6 * 24 * time.Hour)); len(got) != 0 {
				t.Fatalf("6 days after the mail: %+v", got)
			}
			again := check(mailAt.Add(7*24*time.Hour + time.Minute))
			if len(again) != 1 || again[0].ID == warn[0].ID {
				t.Fatalf("a week after the mail: %+v", again)
			}
			// And the next contact resolves it.
			callAt := mailAt.Add(7*24*time.Hour + time.Hour)
			e.clock.Set(callAt)
			e.deliver(e.event(store.KindCall, store.SourceCommand, callAt, "Caught up"))
			if got := e.open(reminders.SourceCadence); len(got) != 0 {
				t.Fatalf("after the call: %+v", got)
			}
		})
	}
}

// TestTriggersFollowDeskSettings: a desk's /team set settings change the
// delay after a fill and turn triggers off, on both stores.
func TestTriggersFollowDeskSettings(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			e := newTrigEnv(t, s)
			if _, _, err := s.UpdateClient(t.Context(), e.c.ID, "UJANE1", func(c *store.Client) error {
				c.Team = "grain-desk"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetDeskFollowups(t.Context(), &store.DeskFollowups{Desk: "grain-desk", AfterFill: 4 * time.Hour, Sentiment: true}); err != nil {
				t.Fatal(err)
			}
			t0 := e.clock.Now()
			e.deliver(e.fill(t0), e.move("corn", t0, "Market move: ZCH7 down 5%"))
			fills := e.open(reminders.SourceFill)
			if len(fills) != 1 || !fills[0].Due.Equal(t0.Add(4*time.Hour)) {
				t.Fatalf("fill follow-up with a 4h delay: %+v", fills)
			}
			if got := e.open(reminders.SourceMarketMove); len(got) != 0 {
				t.Fatalf("market moves are off for the desk, yet: %+v", got)
			}
			if err := s.SetDeskFollowups(t.Context(), &store.DeskFollowups{Desk: "grain-desk", AfterFill: 0}); err != nil {
				t.Fatal(err)
			}
			e.deliver(e.fill(t0.Add(time.Minute))) // a contact: resolves the first, raises none
			if got := e.open(""); len(got) != 0 {
				t.Fatalf("no follow-up after fills for the desk, yet: %+v", got)
			}
		})
	}
}
