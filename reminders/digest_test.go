package reminders_test

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the digest golden files")

// digestDB is what a digest reads and keeps, on one backend.
type digestDB interface {
	storetest.ReminderBackend
	store.TeamStore
	store.DigestStore
	store.DigestEventIndex
	SetClock(func() time.Time)
}

type digestFixture struct {
	db    digestDB
	tl    store.TimelineStore
	slack *slacktest.FakeSlack
	url   string
	clock *clock
	b     *reminders.DigestBuilder
}

func forEachDigestBackend(t *testing.T, fn func(t *testing.T, f *digestFixture)) {
	open := map[string]func(t *testing.T) (digestDB, store.TimelineStore){
		"embedded": func(t *testing.T) (digestDB, store.TimelineStore) {
			db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, db.Timeline()
		},
		"postgres+cassandra": func(t *testing.T) (digestDB, store.TimelineStore) {
			db, err := postgres.Open(t.Context(), newPostgresURL(t), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, backendtest.Cassandra(t)
		},
	}
	for _, name := range []string{"embedded", "postgres+cassandra"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, tl := open[name](t)
			fn(t, newDigestFixture(t, db, tl))
		})
	}
}

func newDigestFixture(t *testing.T, db digestDB, tl store.TimelineStore) *digestFixture {
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL
	f := &digestFixture{db: db, tl: tl, slack: fake, url: srv.URL + "/api/", clock: newClock()}
	db.SetClock(f.clock.Now)
	f.b = &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: tl, Teams: db, Reminders: db}
	return f
}

func (f *digestFixture) runner(t *testing.T, owner string) *reminders.DigestRunner {
	t.Helper()
	r, err := reminders.NewDigestRunner(reminders.DigestOptions{
		Store: f.db, Builder: f.b, Teams: f.db, Owner: owner, Lease: time.Minute, Now: f.clock.Now,
		Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-"+owner, f.url)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *digestFixture) set(at time.Time) {
	f.clock.mu.Lock()
	f.clock.now = at
	f.clock.mu.Unlock()
}

func (f *digestFixture) member(t *testing.T, id, desk string, role store.Role) {
	t.Helper()
	if err := f.db.AddMember(t.Context(), store.Member{SlackID: id, Desk: desk, Role: role, AddedBy: "UADMIN"}); err != nil {
		t.Fatal(err)
	}
}

// client creates a client of desk with broker, created at the clock's time.
func (f *digestFixture) client(t *testing.T, handle, name, desk, broker string) *store.Client {
	t.Helper()
	c := &store.Client{Handle: handle, Name: name, Team: desk, Broker: broker,
		Emails: []store.Email{{Kind: store.Work, Address: handle + "@example.com"}}}
	if err := f.db.CreateClient(t.Context(), c, broker); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *digestFixture) remind(t *testing.T, c *store.Client, due time.Time, text, source, key string) *store.Reminder {
	t.Helper()
	r := &store.Reminder{ClientID: c.ID, Broker: c.Broker, Due: due, Text: text, Source: source, Key: key, CreatedBy: c.Broker}
	if err := f.db.CreateReminder(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *digestFixture) events(t *testing.T, es ...*store.Event) {
	t.Helper()
	for _, e := range es {
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.tl.AppendEvents(t.Context(), es...); err != nil {
		t.Fatal(err)
	}
	// As the Recorder's subscriber keeps them.
	if err := (reminders.DigestIndexer{Index: f.db}).EventsStored(t.Context(), es); err != nil {
		t.Fatal(err)
	}
}

func ct(month time.Month, day, hour, min int) time.Time {
	return time.Date(2027, month, day, hour, min, 0, 0, chicago)
}

func email(c *store.Client, at time.Time, dir, subject string) *store.Event {
	actor := c.Handle + "@example.com"
	if dir == store.Outbound {
		actor = "desk@brokerage.example"
	}
	return &store.Event{ClientID: c.ID, Time: at, Kind: store.KindEmail, Source: store.SourceEmail, SourceID: uuid.NewString(),
		Actor: actor, Summary: subject, Attrs: store.Attrs{Email: &store.EmailAttrs{Subject: subject, From: actor, Direction: dir}}}
}

func chat(c *store.Client, at time.Time, actor, text string) *store.Event {
	return &store.Event{ClientID: c.ID, Time: at, Kind: store.KindChat, Source: store.SourceSlack, SourceID: uuid.NewString(),
		Actor: actor, Summary: text, Attrs: store.Attrs{Chat: &store.ChatAttrs{Channel: "C0CLIENT"}}}
}

func call(c *store.Client, at time.Time, summary string) *store.Event {
	return &store.Event{ClientID: c.ID, Time: at, Kind: store.KindCall, Source: store.SourceCalls, SourceID: uuid.NewString(),
		Actor: c.Broker, Summary: summary, Attrs: store.Attrs{Call: &store.CallAttrs{Direction: store.Outbound, Duration: 10 * time.Minute}}}
}

func fill(c *store.Client, at time.Time, side, commodity, contract string, qty, price float64) *store.Event {
	return &store.Event{ClientID: c.ID, Time: at, Kind: store.KindOrder, Source: store.SourceOrders, SourceID: uuid.NewString(),
		Actor: c.Broker, Summary: fmt.Sprintf("%s %v %s filled at %v", side, qty, contract, price),
		Attrs: store.Attrs{Order: &store.OrderAttrs{OrderID: uuid.NewString(), Status: "filled", Commodity: commodity, Contract: contract,
			Side: side, Quantity: qty, Filled: qty, Price: price, Currency: "USD"},
			Extra: map[string]string{"last_qty": fmt.Sprint(qty)}}}
}

func signal(c *store.Client, at time.Time, source store.Source, sig store.Signal, summary string, extra map[string]string) *store.Event {
	return &store.Event{ClientID: c.ID, Time: at, Kind: store.KindEvent, Source: source, SourceID: uuid.NewString(),
		Actor: "brokersync", Summary: summary, Attrs: store.Attrs{Extra: store.WithSignal(extra, sig)}}
}

// seedGrains makes the grains desk: three brokers, a manager, five clients
// (one new in the period) and a day of follow-ups, messages, fills,
// sentiment and segment changes; and an energy desk whose things must not
// show. The period is Mon 8 Mar 08:00 to Tue 9 Mar 08:00, Chicago time.
func seedGrains(t *testing.T, f *digestFixture) {
	f.set(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
	for _, m := range []struct {
		id   string
		desk string
		role store.Role
	}{{"UBEN", "grains", store.RoleBroker}, {"UCARA", "grains", store.RoleBroker}, {"UDAN", "grains", store.RoleBroker},
		{"UMGR", "grains", store.RoleManager}, {"UEVE", "energy", store.RoleBroker}} {
		f.member(t, m.id, m.desk, m.role)
	}
	acme := f.client(t, "acme-grain", "Acme Grain Co-op", "grains", "UBEN")
	prairie := f.client(t, "prairie-farms", "Prairie Farms LLC", "grains", "UBEN")
	delta := f.client(t, "delta-ag", "Delta Ag Partners", "grains", "UCARA")
	north := f.client(t, "north-elevator", "North Elevator Inc", "grains", "UCARA")
	gulf := f.client(t, "gulf-crude", "Gulf Crude Trading", "energy", "UEVE")
	f.set(ct(time.March, 8, 11, 15))
	river := f.client(t, "riverbend", "Riverbend Milling", "grains", "UDAN")

	f.set(ct(time.March, 1, 9, 0))
	f.remind(t, acme, ct(time.March, 5, 9, 0), "Call back about the Dec corn hedge", "command", "")
	f.remind(t, prairie, ct(time.March, 8, 15, 0), "Send the March basis sheet", "command", "")
	f.remind(t, delta, ct(time.March, 7, 10, 0), "Check in after the soybean fill", "fill", "fill")
	done := f.remind(t, north, ct(time.March, 6, 9, 0), "Already done", "command", "")
	if _, err := f.db.CloseReminder(t.Context(), done.ID, ct(time.March, 6, 10, 0)); err != nil {
		t.Fatal(err)
	}
	f.remind(t, north, ct(time.March, 12, 9, 0), "Not due yet", "command", "")
	f.remind(t, gulf, ct(time.March, 5, 9, 0), "Another desk's follow-up", "command", "")
	f.remind(t, acme, ct(time.March, 11, 9, 0), "5 years a client on Thursday", string(store.SourceMilestone), "milestone:anniversary:2027")
	f.remind(t, river, ct(time.March, 20, 9, 0), "Too far ahead", string(store.SourceMilestone), "milestone:kyc:2027")

	f.events(t,
		// before the period: not counted
		email(acme, ct(time.March, 7, 9, 0), store.Inbound, "Weekend question"),
		fill(acme, ct(time.March, 7, 9, 30), "buy", "corn", "ZCK7", 100, 4.50),
		// Ben: 1h30m and 20m
		email(acme, ct(time.March, 8, 9, 0), store.Inbound, "Basis for May?"),
		email(acme, ct(time.March, 8, 10, 30), store.Outbound, "Re: Basis for May?"),
		chat(prairie, ct(time.March, 8, 11, 0), "U0CLIENT1", "Can we roll the July position?"),
		chat(prairie, ct(time.March, 8, 11, 20), "UBEN", "Yes, working it now"),
		// Cara: 2h, and one unanswered
		email(north, ct(time.March, 8, 16, 0), store.Inbound, "Storage rates"),
		call(north, ct(time.March, 8, 18, 0), "Called about storage rates"),
		email(delta, ct(time.March, 8, 13, 0), store.Inbound, "Unhappy with the fill price"),
		fill(acme, ct(time.March, 8, 9, 45), "buy", "corn", "ZCK7", 20, 4.52),
		fill(acme, ct(time.March, 8, 12, 5), "buy", "corn", "ZCN7", 5, 4.61),
		fill(delta, ct(time.March, 8, 10, 2), "sell", "soybeans", "ZSK7", 10, 10.15),
		signal(delta, ct(time.March, 8, 15, 30), store.SourceSentiment, store.SignalSentimentDrop, "30-day sentiment fell from 0.35 to -0.20", nil),
		signal(north, ct(time.March, 8, 20, 0), store.SourceSegment, store.SignalSegmentEntered, "Entered at-risk", map[string]string{"segment": "at-risk"}),
		signal(prairie, ct(time.March, 8, 20, 0), store.SourceSegment, store.SignalSegmentLeft, "Left dormant", map[string]string{"segment": "dormant"}),
		signal(river, ct(time.March, 8, 20, 0), store.SourceSegment, store.SignalSegmentEntered, "Entered new-accounts", map[string]string{"segment": "new-accounts"}),
		// another desk
		fill(gulf, ct(time.March, 8, 10, 0), "buy", "wti", "CLK7", 50, 70),
		email(gulf, ct(time.March, 8, 10, 0), store.Inbound, "Another desk"),
		// after the period
		fill(delta, ct(time.March, 9, 8, 0), "sell", "soybeans", "ZSK7", 1, 10.2),
	)
	f.set(ct(time.March, 9, 8, 0))
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("digest differs from %s (-update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// The seeded desk's daily digest, as text, is the golden file: exceptions
// first, nothing of the energy desk, nothing from outside the period.
func TestDigestOfASeededDesk(t *testing.T) {
	var mu sync.Mutex
	texts := map[string]string{}
	t.Cleanup(func() {
		if len(texts) == 2 && texts["embedded"] != texts["postgres+cassandra"] {
			t.Errorf("the backends' digests differ")
		}
	})
	forEachDigestBackend(t, func(t *testing.T, f *digestFixture) {
		seedGrains(t, f)
		d, err := f.b.Build(t.Context(), "grains", ct(time.March, 8, 8, 0), ct(time.March, 9, 8, 0), chicago)
		if err != nil {
			t.Fatal(err)
		}
		got := reminders.DigestText(d)
		golden(t, "digest_grains.golden", got)
		// The same from the desk's event index, in one query.
		indexed := *f.b
		indexed.Index = f.db
		di, err := indexed.Build(t.Context(), "grains", ct(time.March, 8, 8, 0), ct(time.March, 9, 8, 0), chicago)
		if err != nil {
			t.Fatal(err)
		}
		if from := reminders.DigestText(di); from != got {
			t.Errorf("the digest from the index differs from the timeline's:\n%s", from)
		}
		mu.Lock()
		texts[strings.SplitN(t.Name(), "/", 2)[1]] = got
		mu.Unlock()

		// The message carries the buttons: one row per overdue follow-up.
		msg, details := reminders.DigestResponse(d)
		if details != nil {
			t.Errorf("a short digest has a thread of details")
		}
		rows := 0
		for _, b := range msg.Blocks {
			if a, ok := b.(bot.Actions); ok && len(a) == 3 && a[2].Action == bot.ActionDigestReassign && a[2].PickUser &&
				a[1].Action == bot.ActionDigestSnooze && a[0].Action == bot.ActionOpenTimeline {
				rows++
			}
		}
		if rows != 3 {
			t.Errorf("%d follow-ups with Snooze and Reassign, want 3", rows)
		}
	})
}

// A period with nothing in it is one short line, never silence.
func TestQuietPeriodIsOneLine(t *testing.T) {
	forEachDigestBackend(t, func(t *testing.T, f *digestFixture) {
		f.set(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
		f.member(t, "USAM", "softs", store.RoleBroker)
		f.member(t, "UMGR", "softs", store.RoleManager)
		f.client(t, "cocoa-house", "Cocoa House", "softs", "USAM")
		f.set(time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC)) // after yesterday's 08:00
		sub := &store.DigestSubscription{Owner: "UMGR", Desk: "softs", Channel: "C0SOFTS", Frequency: store.DigestDaily, At: 8 * 60, TimeZone: "America/Chicago"}
		if _, err := f.db.SaveDigestSubscription(t.Context(), sub); err != nil {
			t.Fatal(err)
		}
		f.set(time.Date(2026, 12, 10, 14, 0, 0, 0, time.UTC)) // 08:00 in Chicago
		if n, err := f.runner(t, "a").Tick(t.Context()); err != nil || n != 1 {
			t.Fatalf("Tick: %d posted, %v", n, err)
		}
		posts := f.slack.Posted()
		if len(posts) != 1 {
			t.Fatalf("%d messages, want 1", len(posts))
		}
		want := "softs desk: daily digest, Thu 10 Dec 2026: a quiet day. Nothing overdue, no client changes, no trading, no client messages, no milestones in the next 7 days."
		if posts[0].Text != want || posts[0].Channel != "C0SOFTS" {
			t.Errorf("quiet digest in %s:\n%s\nwant\n%s", posts[0].Channel, posts[0].Text, want)
		}
		if strings.Count(posts[0].Blocks, `"type":"section"`) != 1 {
			t.Errorf("a quiet digest is one section: %s", posts[0].Blocks)
		}
	})
}

// 08:00 in Chicago stays 08:00 across both daylight-saving changes of 2027:
// posted once a day, at 13:00 UTC in summer time and 14:00 UTC in winter,
// each covering the day since the last (23 and 25 hours long on the
// change days).
func TestDigestAtLocalTimeAcrossDST(t *testing.T) {
	forEachDigestBackend(t, func(t *testing.T, f *digestFixture) {
		f.member(t, "USAM", "softs", store.RoleBroker)
		f.member(t, "UMGR", "softs", store.RoleManager)
		for _, tc := range []struct {
			start time.Time
			want  []time.Time // UTC
		}{
			{time.Date(2027, 3, 12, 15, 0, 0, 0, time.UTC), []time.Time{
				time.Date(2027, 3, 13, 14, 0, 0, 0, time.UTC), time.Date(2027, 3, 14, 13, 0, 0, 0, time.UTC), time.Date(2027, 3, 15, 13, 0, 0, 0, time.UTC)}},
			{time.Date(2027, 11, 5, 15, 0, 0, 0, time.UTC), []time.Time{
				time.Date(2027, 11, 6, 13, 0, 0, 0, time.UTC), time.Date(2027, 11, 7, 14, 0, 0, 0, time.UTC), time.Date(2027, 11, 8, 14, 0, 0, 0, time.UTC)}},
		} {
			f.set(tc.start)
			if _, err := f.db.DeleteDigestSubscriptions(t.Context(), "UMGR", "", ""); err != nil {
				t.Fatal(err)
			}
			sub := &store.DigestSubscription{Owner: "UMGR", Desk: "softs", Channel: "C0SOFTS", Frequency: store.DigestDaily, At: 8 * 60, TimeZone: "America/Chicago"}
			if _, err := f.db.SaveDigestSubscription(t.Context(), sub); err != nil {
				t.Fatal(err)
			}
			r := f.runner(t, "a")
			var posted []time.Time
			for f.clock.Now().Before(tc.start.Add(80 * time.Hour)) {
				n, err := r.Tick(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for range n {
					posted = append(posted, f.clock.Now())
				}
				f.clock.Advance(15 * time.Minute)
			}
			if fmt.Sprint(posted) != fmt.Sprint(tc.want) {
				t.Errorf("posted at %v\nwant       %v", posted, tc.want)
			}
			runs, err := f.db.DigestRuns(t.Context(), sub.ID, 0)
			if err != nil || len(runs) != 3 {
				t.Fatalf("runs: %+v %v", runs, err)
			}
			for _, run := range runs {
				p := sub.PeriodAt(run.Due)
				if p.Key != run.Period || !p.To.Equal(run.Due) {
					t.Errorf("run %s due %v: period %+v", run.Period, run.Due, p)
				}
			}
		}
	})
}

func TestPeriodsAreCalendarDays(t *testing.T) {
	sub := &store.DigestSubscription{Frequency: store.DigestDaily, At: 8 * 60, TimeZone: "America/Chicago"}
	p := sub.PeriodAt(time.Date(2027, 3, 14, 13, 0, 0, 0, time.UTC))
	if p.Key != "daily:2027-03-14" || p.To.Sub(p.From) != 23*time.Hour {
		t.Errorf("spring change: %+v, %v long", p, p.To.Sub(p.From))
	}
	p = sub.PeriodAt(time.Date(2027, 11, 7, 13, 59, 0, 0, time.UTC)) // 07:59 CST
	if p.Key != "daily:2027-11-06" {
		t.Errorf("before 08:00 on the autumn change: %+v", p)
	}
	p = sub.Previous(sub.PeriodAt(time.Date(2027, 11, 8, 14, 0, 0, 0, time.UTC)))
	if p.Key != "daily:2027-11-07" || p.To.Sub(p.From) != 25*time.Hour {
		t.Errorf("autumn change: %+v, %v long", p, p.To.Sub(p.From))
	}
	week := &store.DigestSubscription{Frequency: store.DigestWeekly, At: 7*60 + 30, TimeZone: "Asia/Tokyo"}
	p = week.PeriodAt(time.Date(2027, 3, 17, 0, 0, 0, 0, time.UTC)) // Wed 09:00 in Tokyo
	if p.Key != "weekly:2027-03-15" || !p.To.Equal(time.Date(2027, 3, 14, 22, 30, 0, 0, time.UTC)) || p.To.Sub(p.From) != 7*24*time.Hour {
		t.Errorf("weekly: %+v", p)
	}
	if next := week.Next(time.Date(2027, 3, 17, 0, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2027, 3, 21, 22, 30, 0, 0, time.UTC)) {
		t.Errorf("next weekly: %v", next)
	}
}
