package reminders_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

var tokyo = mustLoad("Asia/Tokyo")

const msDesk = "grain-desk"

// msEnv runs milestones on one backend with a clock the test moves and a
// timeline whose subscriber keeps what it heard.
type msEnv struct {
	t     *testing.T
	db    backend
	ms    store.MilestoneStore
	clock *testClock
	mu    sync.Mutex
	heard []*store.Event
	seq   int
	zone  *time.Location // the brokers' zone, as Slack would say
}

func forEachMilestoneBackend(t *testing.T, start time.Time, fn func(t *testing.T, e *msEnv)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			clock := &testClock{now: start}
			db.(interface{ SetClock(func() time.Time) }).SetClock(clock.Now)
			fn(t, &msEnv{t: t, db: db, ms: db.(store.MilestoneStore), clock: clock, zone: chicago})
		})
	}
}

// milestones returns a sweeper as a freshly started replica has it.
func (e *msEnv) milestones() *reminders.Milestones {
	tldb, err := embedded.Open(e.t.Context(), e.t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { tldb.Close() })
	rec := &ingest.Recorder{Timeline: tldb.Timeline(), Subscribers: []ingest.Subscriber{ingest.SubscriberFunc(func(_ context.Context, evs []*store.Event) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.heard = append(e.heard, evs...)
		return nil
	})}}
	return &reminders.Milestones{Catalogue: store.DefaultCatalogue(), Clients: e.db, Reminders: e.db, Store: e.ms, Recorder: rec, Now: e.clock.Now,
		Zone: func(context.Context, string) (*time.Location, error) { return e.zone, nil }}
}

func (e *msEnv) desk(change func(d *store.DeskMilestones)) {
	e.t.Helper()
	d := store.DefaultDeskMilestones(msDesk)
	change(d)
	if err := e.ms.SetDeskMilestones(e.t.Context(), d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *msEnv) client(change func(c *store.Client)) *store.Client {
	e.t.Helper()
	e.seq++
	c := storetest.SimpleClient(e.seq)
	c.Broker, c.Team = "UJANE1", msDesk
	change(c)
	if err := e.db.CreateClient(e.t.Context(), c, "UJANE1"); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *msEnv) fill(c *store.Client, contract, commodity, side string, qty, price float64, at time.Time) {
	e.t.Helper()
	if _, err := e.db.(store.TradeStore).RecordFill(e.t.Context(), store.Fill{EventID: uuid.New(), ClientID: c.ID, At: at,
		Commodity: commodity, Contract: contract, Side: side, Quantity: qty, Price: price}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *msEnv) sweep(m *reminders.Milestones) int {
	e.t.Helper()
	n, err := m.Sweep(e.t.Context())
	if err != nil {
		e.t.Fatalf("Sweep: %v", err)
	}
	return n
}

// raised returns the client's milestone reminders.
func (e *msEnv) raised(c *store.Client) []*store.Reminder {
	e.t.Helper()
	rs, err := e.db.ListReminders(e.t.Context(), store.ReminderFilter{ClientID: c.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*store.Reminder
	for _, r := range rs {
		if r.Source == reminders.SourceMilestone {
			out = append(out, r)
		}
	}
	return out
}

// events returns the milestone events the Recorder's subscribers heard for c.
func (e *msEnv) events(c *store.Client) []*store.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*store.Event
	for _, ev := range e.heard {
		if ev.ClientID == c.ID && ev.Source == store.SourceMilestone {
			out = append(out, ev)
		}
	}
	return out
}

func (e *msEnv) wantOne(c *store.Client, kind, text string) *store.Reminder {
	e.t.Helper()
	rs := e.raised(c)
	if len(rs) != 1 {
		e.t.Fatalf("%d milestone reminders for %s; want 1: %v", len(rs), c.Handle, texts(rs))
	}
	if !strings.HasPrefix(rs[0].Key, "milestone:"+kind+":"+c.ID.String()+":") || !strings.Contains(rs[0].Text, text) {
		e.t.Fatalf("reminder %q (%s); want a %s milestone saying %q", rs[0].Text, rs[0].Key, kind, text)
	}
	if rs[0].ID != reminders.MilestoneReminderID(rs[0].Key) {
		e.t.Errorf("reminder id %s is not the occurrence's", rs[0].ID)
	}
	return rs[0]
}

func texts(rs []*store.Reminder) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key+": "+r.Text)
	}
	return out
}

func TestMilestoneAnniversaryIsRaisedOnceAcrossSweepsAndRestarts(t *testing.T) {
	// Thu 10 Dec 2026, 09:00 in Chicago; the client's 5th anniversary is
	// Mon 14 Dec, the desk's lead 3 days: Fri 11 Dec, 00:00 UTC.
	forEachMilestoneBackend(t, time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		c := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2021, Month: 12, Day: 14} })
		m := e.milestones()
		if n := e.sweep(m); n != 0 || len(e.raised(c)) != 0 {
			t.Fatalf("raised %d before the lead time: %v", n, texts(e.raised(c)))
		}
		e.clock.Set(time.Date(2026, 12, 11, 0, 30, 0, 0, time.UTC))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d at the lead time; want 1", n)
		}
		r := e.wantOne(c, reminders.MilestoneAnniversary, "5th anniversary as a client is Mon 14 Dec 2026")
		if strings.HasPrefix(r.Text, reminders.LatePrefix) {
			t.Errorf("on time, yet marked late: %q", r.Text)
		}
		// Fri 08:00 in Chicago: the broker's working hours.
		if want := time.Date(2026, 12, 11, 14, 0, 0, 0, time.UTC); !r.Due.Equal(want) {
			t.Errorf("due %s; want %s (08:00 Chicago)", r.Due, want)
		}
		evs := e.events(c)
		if len(evs) != 1 || evs[0].Attrs.Signal() != store.SignalMilestone || evs[0].Attrs.Extra["milestone"] != reminders.MilestoneAnniversary ||
			evs[0].ID != store.EventID(store.SourceMilestone, r.Key) {
			t.Fatalf("timeline heard %+v; want one milestone event named by the occurrence", evs)
		}

		// The next sweeps, and a restarted replica's, raise nothing more.
		e.clock.Set(time.Date(2026, 12, 11, 1, 30, 0, 0, time.UTC))
		if n := e.sweep(m) + e.sweep(e.milestones()); n != 0 {
			t.Fatalf("raised %d again", n)
		}
		// A contact with the client does not close a milestone, as it
		// closes the follow-ups it makes moot.
		if rs, err := e.db.ResolveFollowups(t.Context(), c.ID, e.clock.Now(), e.clock.Now()); err != nil || len(rs) != 0 {
			t.Fatalf("a contact resolved %v, %v", texts(rs), err)
		}
		// Done by the broker: never raised again.
		if _, err := e.db.CloseReminder(t.Context(), r.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(time.Date(2026, 12, 14, 12, 0, 0, 0, time.UTC))
		if n := e.sweep(e.milestones()); n != 0 || len(e.raised(c)) != 1 || len(e.events(c)) != 1 {
			t.Fatalf("raised %d after done: %v", n, texts(e.raised(c)))
		}
	})
}

func TestMilestonePendingReminderIsUpdatedNotDoubled(t *testing.T) {
	// Sat 12 Dec 2026: the reminder waits for Monday's working hours.
	forEachMilestoneBackend(t, time.Date(2026, 12, 12, 12, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		c := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2020, Month: 12, Day: 15} })
		m := e.milestones()
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d; want 1", n)
		}
		before := e.wantOne(c, reminders.MilestoneAnniversary, "Client 1's 6th anniversary")
		if _, _, err := e.db.UpdateClient(t.Context(), c.ID, "UJANE1", func(c *store.Client) error { c.Name = "Acme Grain"; return nil }); err != nil {
			t.Fatal(err)
		}
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d again", n)
		}
		after := e.wantOne(c, reminders.MilestoneAnniversary, "Acme Grain's 6th anniversary")
		if after.ID != before.ID || !after.Due.Equal(before.Due) {
			t.Errorf("updated reminder %s due %s; want %s due %s", after.ID, after.Due, before.ID, before.Due)
		}
	})
}

func TestMilestoneLeapDayAnniversaryFallsOn28February(t *testing.T) {
	forEachMilestoneBackend(t, time.Date(2027, 2, 20, 12, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		c := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2024, Month: 2, Day: 29} })
		m := e.milestones()
		got, err := m.Upcoming(t.Context(), []string{msDesk}, nil, e.clock.Now(), e.clock.Now().AddDate(2, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var days []string
		for _, ms := range got {
			if ms.Kind == reminders.MilestoneAnniversary {
				days = append(days, ms.Date.String())
			}
		}
		if strings.Join(days, " ") != "2027-02-28 2028-02-29" {
			t.Fatalf("anniversaries %v; want 2027-02-28 (no 29th in 2027) and 2028-02-29", days)
		}
		// Raised 3 days before the 28th: Thu 25 Feb 2027.
		e.clock.Set(time.Date(2027, 2, 24, 23, 0, 0, 0, time.UTC))
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d before the lead time", n)
		}
		e.clock.Set(time.Date(2027, 2, 25, 15, 0, 0, 0, time.UTC))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d; want 1", n)
		}
		e.wantOne(c, reminders.MilestoneAnniversary, "3rd anniversary as a client is Sun 28 Feb 2027 (onboarded 2024-02-29)")
	})
}

func TestMilestoneInTheClientsZoneWithADeskInChicago(t *testing.T) {
	// The anniversary is 10 March 2026: 00:00 in Tokyo is 10:00 on the 9th
	// in Chicago (CDT since 8 March); for a client with no zone the desk's
	// Chicago midnight counts.
	forEachMilestoneBackend(t, time.Date(2026, 3, 9, 14, 59, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		e.desk(func(d *store.DeskMilestones) { d.Lead, d.Zone = 0, "America/Chicago" })
		tk := e.client(func(c *store.Client) {
			c.TimeZone, c.Onboarded = "Asia/Tokyo", store.Date{Year: 2025, Month: 3, Day: 10}
		})
		local := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2025, Month: 3, Day: 10} })
		m := e.milestones()
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d before Tokyo's midnight", n)
		}
		e.clock.Set(time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d at Tokyo's midnight; want 1", n)
		}
		r := e.wantOne(tk, reminders.MilestoneAnniversary, "1st anniversary")
		if want := time.Date(2026, 3, 9, 10, 0, 0, 0, chicago); !r.Due.Equal(want) {
			t.Errorf("due %s; want %s (Monday 10:00 in Chicago, in working hours)", r.Due.In(chicago), want)
		}
		if len(e.raised(local)) != 0 {
			t.Fatal("a client in the desk's zone was raised on the 9th")
		}
		// Chicago's midnight: the other client's, due at 08:00 there.
		e.clock.Set(time.Date(2026, 3, 10, 5, 0, 0, 0, time.UTC))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d at Chicago's midnight; want 1", n)
		}
		r = e.wantOne(local, reminders.MilestoneAnniversary, "1st anniversary")
		if want := time.Date(2026, 3, 10, 8, 0, 0, 0, chicago); !r.Due.Equal(want) {
			t.Errorf("due %s; want %s", r.Due.In(chicago), want)
		}
		up, err := m.Upcoming(t.Context(), nil, []uuid.UUID{tk.ID}, time.Date(2027, 3, 1, 0, 0, 0, 0, tokyo), time.Date(2027, 3, 31, 0, 0, 0, 0, tokyo))
		if err != nil || len(up) != 1 || up[0].Date.String() != "2027-03-10" || up[0].Zone.String() != "Asia/Tokyo" {
			t.Fatalf("upcoming %+v, %v; want the 2027 anniversary in Tokyo", up, err)
		}
	})
}

func TestMilestoneMissedDuringDowntimeIsRaisedOnceMarkedLate(t *testing.T) {
	forEachMilestoneBackend(t, time.Date(2026, 12, 10, 23, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		c := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2021, Month: 12, Day: 14} })
		if n := e.sweep(e.milestones()); n != 0 {
			t.Fatalf("raised %d an hour early", n)
		}
		// Down from Thursday night to Monday morning, across Friday 00:00.
		e.clock.Set(time.Date(2026, 12, 14, 15, 0, 0, 0, time.UTC))
		m := e.milestones()
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d after the downtime; want 1", n)
		}
		r := e.wantOne(c, reminders.MilestoneAnniversary, "5th anniversary")
		if !strings.HasPrefix(r.Text, reminders.LatePrefix) {
			t.Errorf("caught up, yet not marked late: %q", r.Text)
		}
		if evs := e.events(c); len(evs) != 1 || evs[0].Attrs.Extra["late"] != "true" {
			t.Fatalf("timeline heard %+v; want one event marked late", evs)
		}
		e.clock.Set(time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC))
		if n := e.sweep(m) + e.sweep(e.milestones()); n != 0 || len(e.raised(c)) != 1 {
			t.Fatalf("raised %d more after catching up", n)
		}
		// A milestone whose day passed longer ago than the catch-up is not raised.
		old := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2020, Month: 11, Day: 20} })
		if n := e.sweep(m); n != 0 || len(e.raised(old)) != 0 {
			t.Fatalf("raised an anniversary 24 days past: %v", texts(e.raised(old)))
		}
	})
}

func TestMilestoneLargeTradeAnniversary(t *testing.T) {
	forEachMilestoneBackend(t, time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		c := e.client(func(*store.Client) {})
		// 50 Dec corn at 452.25 cents: 50 x 5,000 x 4.5225 = USD 1,130,625.
		e.fill(c, "ZCZ25", "corn", "buy", 50, 4.5225, time.Date(2025, 12, 12, 16, 0, 0, 0, time.UTC))
		e.fill(c, "ZCZ25", "corn", "sell", 50, 4.60, time.Date(2025, 12, 13, 16, 0, 0, 0, time.UTC))
		// Small: 2 contracts.
		e.fill(c, "ZCH26", "corn", "buy", 2, 4.60, time.Date(2025, 12, 11, 16, 0, 0, 0, time.UTC))
		m := e.milestones()
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d; want the anniversary of the 12th (the 13th is 3 days away from the 10th)", n)
		}
		e.wantOne(c, reminders.MilestoneTradeAnniversary, "1st anniversary of a large trade on 2025-12-12: buy 50 ZCZ25 (Corn Dec 2025) at 4.5225, USD 1130625 notional")
		// A desk with a higher threshold has none.
		e.desk(func(d *store.DeskMilestones) { d.LargeTrade = 5_000_000 })
		e.clock.Set(time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC))
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d under a USD 5m threshold", n)
		}
	})
}

func TestMilestoneGoals(t *testing.T) {
	forEachMilestoneBackend(t, time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		target := 100.0
		c := e.client(func(c *store.Client) {
			c.Goals = []store.Goal{
				{Term: store.ShortGoal, Description: "Hedge 50% of the 2026 crop", Progress: 100},
				{Term: store.LongGoal, Description: "Diversify into softs", Target: &target, Deadline: store.Date{Year: 2026, Month: 12, Day: 20}, Progress: 40},
			}
		})
		m := e.milestones()
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d; want the goal reached", n)
		}
		e.wantOne(c, reminders.MilestoneGoalReached, "reached a goal (100%): Hedge 50% of the 2026 crop")
		e.clock.Set(time.Date(2026, 12, 17, 15, 0, 0, 0, time.UTC))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d; want the deadline 3 days ahead", n)
		}
		if rs := e.raised(c); len(rs) != 2 || !strings.Contains(rs[1].Text+rs[0].Text, "goal is due Sun 20 Dec 2026 at 40%: Diversify into softs") {
			t.Fatalf("reminders %v", texts(rs))
		}
		// A desk reaching goals at 90%: progress 90 of a new goal is reached.
		e.desk(func(d *store.DeskMilestones) { d.GoalThreshold = 90 })
		if _, _, err := e.db.UpdateClient(t.Context(), c.ID, "UJANE1", func(c *store.Client) error {
			c.Goals = append(c.Goals, store.Goal{Term: store.ShortGoal, Description: "Roll the March hedge", Progress: 92})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n := e.sweep(m) + e.sweep(m); n != 1 {
			t.Fatalf("raised %d; want one goal reached at 92%%", n)
		}
	})
}

func TestMilestoneRiskReviewAndKYCRefresh(t *testing.T) {
	forEachMilestoneBackend(t, time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		c := e.client(func(c *store.Client) {
			c.Kind = store.Individual
			c.Risk.AssessedOn = store.Date{Year: 2025, Month: 12, Day: 13}
			c.Risk.ReviewOn = store.Date{Year: 2026, Month: 12, Day: 12}
		})
		firm := e.client(func(c *store.Client) {
			c.Risk.AssessedOn = store.Date{Year: 2025, Month: 12, Day: 13}
		})
		m := e.milestones()
		// The review of the 12th (due since Wed 9th) and the KYC refresh a
		// year after the assessment, on the 13th (due since the 10th).
		if n := e.sweep(m); n != 2 {
			t.Fatalf("raised %d; want the review and the KYC refresh", n)
		}
		rs := e.raised(c)
		all := strings.Join(texts(rs), "\n")
		if len(rs) != 2 || !strings.Contains(all, "risk review is due Sat 12 Dec 2026 (last assessed 2025-12-13)") ||
			!strings.Contains(all, "KYC facts are due for their refresh Sun 13 Dec 2026 (NFA Rule 2-30") {
			t.Fatalf("reminders %v", texts(rs))
		}
		if len(e.raised(firm)) != 0 {
			t.Fatalf("a firm's KYC refresh was raised: %v", texts(e.raised(firm)))
		}
		// A review overdue for months is still raised, once, late.
		late := e.client(func(c *store.Client) { c.Risk.ReviewOn = store.Date{Year: 2026, Month: 6, Day: 1} })
		if n := e.sweep(m) + e.sweep(m); n != 1 {
			t.Fatalf("raised %d for an overdue review; want 1", n)
		}
		if r := e.wantOne(late, reminders.MilestoneRiskReview, "Mon 1 Jun 2026"); !strings.HasPrefix(r.Text, reminders.LatePrefix) {
			t.Errorf("overdue review not marked late: %q", r.Text)
		}
	})
}

func TestMilestoneFirstNoticeDayOfDecCornAcrossThanksgiving(t *testing.T) {
	// Dec 2026 corn: first notice day Mon 30 Nov 2026. Two CME business days
	// before it are Fri 27 and, across Thanksgiving (Thu 26), Wed 25.
	forEachMilestoneBackend(t, time.Date(2026, 11, 24, 18, 0, 0, 0, chicago), func(t *testing.T, e *msEnv) {
		e.desk(func(d *store.DeskMilestones) { d.Zone = "America/Chicago" })
		long := e.client(func(*store.Client) {})
		flat := e.client(func(*store.Client) {})
		short := e.client(func(*store.Client) {})
		at := time.Date(2026, 10, 1, 15, 0, 0, 0, time.UTC)
		e.fill(long, "ZCZ26", "corn", "buy", 7, 4.40, at)
		e.fill(long, "ZCZ26", "corn", "buy", 5, 4.42, at.Add(time.Hour))
		e.fill(long, "ZCZ26", "corn", "sell", 2, 4.45, at.Add(2*time.Hour))
		e.fill(flat, "ZCZ26", "corn", "buy", 5, 4.40, at)
		e.fill(flat, "ZCZ26", "corn", "sell", 5, 4.41, at.Add(time.Hour))
		e.fill(short, "CLF27", "wti", "sell", 3, 70, at)
		closer := e.client(func(*store.Client) {})
		e.fill(closer, "ZCZ26", "corn", "buy", 4, 4.40, at)
		m := e.milestones()
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d on the 24th: %v", n, texts(e.raised(long)))
		}
		e.clock.Set(time.Date(2026, 11, 25, 0, 0, 0, 0, chicago))
		if n := e.sweep(m); n != 2 {
			t.Fatalf("raised %d on Wed 25 Nov; want the first notice days of two longs", n)
		}
		// One closes the position before its reminder is posted (08:00):
		// the reminder is cancelled.
		e.wantOne(closer, reminders.MilestoneFirstNotice, "is long 4 ZCZ26")
		e.fill(closer, "ZCZ26", "corn", "sell", 4, 4.38, e.clock.Now())
		e.clock.Set(time.Date(2026, 11, 25, 1, 0, 0, 0, chicago))
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d more", n)
		}
		if r := e.wantOne(closer, reminders.MilestoneFirstNotice, "is long 4 ZCZ26"); r.State != store.ReminderCancelled {
			t.Fatalf("the closed position's reminder is %s; want cancelled", r.State)
		}
		r := e.wantOne(long, reminders.MilestoneFirstNotice, "is long 10 ZCZ26 (Corn Dec 2026): first notice day is Mon 30 Nov 2026 (CME). A long not rolled by then can be assigned delivery.")
		if want := time.Date(2026, 11, 25, 8, 0, 0, 0, chicago); !r.Due.Equal(want) {
			t.Errorf("due %s; want %s", r.Due.In(chicago), want)
		}
		if !strings.HasSuffix(r.Key, ":2026-11-30:ZCZ26") {
			t.Errorf("key %s", r.Key)
		}
		if rs := e.raised(flat); len(rs) != 0 {
			t.Fatalf("a closed position raised %v", texts(rs))
		}
		// Last trading day Mon 14 Dec (Thu 10 Dec); WTI Jan 2027 ends Mon
		// 21 Dec (the 25th is Christmas): Thu 17 Dec.
		e.clock.Set(time.Date(2026, 12, 10, 0, 0, 0, 0, chicago))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d on 10 Dec; want the last trading day", n)
		}
		e.clock.Set(time.Date(2026, 12, 17, 0, 0, 0, 0, chicago))
		if n := e.sweep(m); n != 1 {
			t.Fatalf("raised %d on 17 Dec; want the WTI last trading day", n)
		}
		e.wantOne(short, reminders.MilestoneLastTrading, "is short 3 CLF27 (WTI Crude Oil Jan 2027): last trading day is Mon 21 Dec 2026 (CME).")
		if rs := e.raised(flat); len(rs) != 0 {
			t.Fatalf("a closed position raised %v", texts(rs))
		}
	})
}

func TestMilestoneCaughtUpIsPostedOnceMarkedLate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		// Monday 14 Dec 2026, 09:00 in Chicago, after a weekend down: the
		// anniversary was to be raised on Friday.
		now := time.Date(2026, 12, 14, 15, 0, 0, 0, time.UTC)
		f.clock.Advance(now.Sub(f.clock.Now()))
		e := &msEnv{t: t, db: f.db, ms: f.db.(store.MilestoneStore), clock: &testClock{now: now}, zone: chicago}
		f.db.(interface{ SetClock(func() time.Time) }).SetClock(e.clock.Now)
		c := e.client(func(c *store.Client) {
			c.Broker, c.Name, c.Onboarded = "U0JANE", "Prairie Farms", store.Date{Year: 2021, Month: 12, Day: 14}
		})
		s := f.scheduler(t, "a", nil)
		for range 2 {
			e.sweep(e.milestones())
			tick(t, s)
		}
		var mine []string
		for _, p := range f.slack.Posted() {
			if strings.Contains(p.Text, "Prairie Farms") {
				mine = append(mine, p.Text+" "+p.Blocks)
			}
		}
		if len(mine) != 1 {
			t.Fatalf("posted %d times: %v", len(mine), mine)
		}
		if !strings.Contains(mine[0], "Late: Prairie Farms's 5th anniversary as a client is Mon 14 Dec 2026") || !strings.Contains(mine[0], "milestone (anniversary)") {
			t.Errorf("posted %q", mine[0])
		}
		if r := e.raised(c); len(r) != 1 || r[0].State != store.ReminderPosted {
			t.Fatalf("reminders %v", texts(r))
		}
	})
}

func TestMilestoneTwoReplicasSweepingAtOnceRaiseOne(t *testing.T) {
	forEachMilestoneBackend(t, time.Date(2026, 12, 11, 15, 0, 0, 0, time.UTC), func(t *testing.T, e *msEnv) {
		var cs []*store.Client
		for range 5 {
			cs = append(cs, e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2021, Month: 12, Day: 14} }))
		}
		a, b := e.milestones(), e.milestones()
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, m := range []*reminders.Milestones{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := m.Sweep(t.Context())
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] != len(cs) {
			t.Errorf("raised %v; want %d in all", counts, len(cs))
		}
		for _, c := range cs {
			e.wantOne(c, reminders.MilestoneAnniversary, "5th anniversary")
		}
	})
}

func TestMilestonesUpcomingForADesk(t *testing.T) {
	// Thu 19 Nov 2026; the next 14 days in Chicago.
	forEachMilestoneBackend(t, time.Date(2026, 11, 19, 12, 0, 0, 0, chicago), func(t *testing.T, e *msEnv) {
		e.desk(func(d *store.DeskMilestones) { d.Zone = "America/Chicago" })
		c := e.client(func(c *store.Client) {
			c.Onboarded = store.Date{Year: 2019, Month: 11, Day: 25}
			c.Risk.ReviewOn = store.Date{Year: 2026, Month: 12, Day: 1}
			c.Goals = []store.Goal{{Term: store.ShortGoal, Description: "Hedge the crop", Progress: 100}}
		})
		e.fill(c, "ZCZ26", "corn", "buy", 10, 4.4, time.Date(2026, 10, 1, 15, 0, 0, 0, time.UTC))
		other := e.client(func(c *store.Client) { c.Team, c.Onboarded = "energy-desk", store.Date{Year: 2020, Month: 11, Day: 20} })
		m := e.milestones()
		from := e.clock.Now()
		got, err := m.Upcoming(t.Context(), []string{msDesk}, nil, from, from.AddDate(0, 0, 14))
		if err != nil {
			t.Fatal(err)
		}
		var list []string
		for _, ms := range got {
			if ms.ClientID == other.ID {
				t.Errorf("another desk's client listed: %+v", ms)
			}
			list = append(list, ms.Date.String()+" "+ms.Kind)
		}
		// The goal reached has no day; the last trading day (14 Dec) is
		// beyond the 14 days.
		want := "2026-11-25 anniversary|2026-11-30 first-notice|2026-12-01 risk-review"
		if strings.Join(list, "|") != want {
			t.Fatalf("upcoming %v; want %s", list, want)
		}
		// Listing raises nothing.
		if rs := e.raised(c); len(rs) != 0 || len(e.events(c)) != 0 {
			t.Fatalf("listing raised %v", texts(rs))
		}
		all, err := m.Upcoming(t.Context(), nil, nil, from, from.AddDate(0, 0, 14))
		if err != nil || len(all) != 4 {
			t.Fatalf("every desk: %d, %v; want 4", len(all), err)
		}
	})
}

func TestMilestoneDueOverAWeekendIsNotLateOnMonday(t *testing.T) {
	// The 5th anniversary is Tue 15 Dec 2026: raised Sat 12 Dec 00:00 UTC,
	// for the broker's Monday 08:00 in Chicago. Down from Friday evening to
	// Monday 07:00, BrokerSync missed no working time: not late.
	forEachMilestoneBackend(t, time.Date(2026, 12, 11, 17, 0, 0, 0, chicago), func(t *testing.T, e *msEnv) {
		c := e.client(func(c *store.Client) { c.Onboarded = store.Date{Year: 2021, Month: 12, Day: 15} })
		if n := e.sweep(e.milestones()); n != 0 {
			t.Fatalf("raised %d on Friday", n)
		}
		e.clock.Set(time.Date(2026, 12, 14, 7, 0, 0, 0, chicago))
		if n := e.sweep(e.milestones()); n != 1 {
			t.Fatalf("raised %d on Monday; want 1", n)
		}
		r := e.wantOne(c, reminders.MilestoneAnniversary, "5th anniversary")
		if strings.HasPrefix(r.Text, reminders.LatePrefix) {
			t.Errorf("marked late: %q", r.Text)
		}
		if want := time.Date(2026, 12, 14, 8, 0, 0, 0, chicago); !r.Due.Equal(want) {
			t.Errorf("due %s; want %s", r.Due.In(chicago), want)
		}
	})
}

func TestMilestonePositionOpenedAfterItsDayHasNone(t *testing.T) {
	// 2 Dec 2026: Dec corn's first notice day (30 Nov) is past, its last
	// trading day (14 Dec) ahead.
	forEachMilestoneBackend(t, time.Date(2026, 12, 2, 15, 0, 0, 0, chicago), func(t *testing.T, e *msEnv) {
		e.desk(func(d *store.DeskMilestones) { d.Zone = "America/Chicago" })
		late := e.client(func(*store.Client) {})
		e.fill(late, "ZCZ26", "corn", "buy", 3, 4.40, e.clock.Now().Add(-time.Hour))
		m := e.milestones()
		if n := e.sweep(m); n != 0 {
			t.Fatalf("raised %d for a position opened after first notice day: %v", n, texts(e.raised(late)))
		}
		// Down until Friday 11 Dec, past the last trading day's lead time
		// (Thu 10 Dec): late for the position held since the 2nd; a
		// position opened on the 11th is raised at once, not late.
		e.clock.Set(time.Date(2026, 12, 11, 9, 0, 0, 0, chicago))
		fresh := e.client(func(*store.Client) {})
		e.fill(fresh, "ZCZ26", "corn", "buy", 1, 4.40, e.clock.Now().Add(-time.Minute))
		if n := e.sweep(m); n != 2 {
			t.Fatalf("raised %d; want the last trading day of both", n)
		}
		if r := e.wantOne(fresh, reminders.MilestoneLastTrading, "last trading day is Mon 14 Dec 2026"); strings.HasPrefix(r.Text, reminders.LatePrefix) {
			t.Errorf("marked late though the position is a minute old: %q", r.Text)
		}
		if r := e.wantOne(late, reminders.MilestoneLastTrading, "last trading day is Mon 14 Dec 2026"); !strings.HasPrefix(r.Text, reminders.LatePrefix) {
			t.Errorf("raised a day after its time, yet not late: %q", r.Text)
		}
	})
}
