package reminders_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/slack/slacktest"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

// backend is a store with reminders and clients, empty for each test: a
// claim takes every due reminder there is.
type backend = storetest.ReminderBackend

var backends = []struct {
	name string
	open func(t testing.TB) backend
}{
	{"embedded", openEmbedded},
	{"postgres", openPostgres},
}

func openEmbedded(t testing.TB) backend {
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB) backend {
	db, err := postgres.Open(t.Context(), newPostgresURL(t), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newPostgresURL creates a migrated database of the test's own, dropped
// when it ends, and returns its URL.
func newPostgresURL(t testing.TB) string {
	if testing.Short() {
		t.Skip("-short: skipping PostgreSQL")
	}
	server := testenv.PostgresURL(t)
	name := "bs_reminders_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	u, err := backendtest.CreateDatabase(t.Context(), server, name, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := backendtest.DropDatabase(ctx, server, name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	if err := postgres.Migrate(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// clock is a controllable clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 10, 14, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// WaitUntil is a scheduler's wait on this clock: time jumps to t, as if
// the scheduler had slept until then.
func (c *clock) WaitUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return ctx.Err()
}

type fixture struct {
	db    backend
	slack *slacktest.FakeSlack
	url   string
	clock *clock
	c     *store.Client
}

func newFixture(t testing.TB, db backend) *fixture {
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL
	fake.AddUser("U0JANE", "jane", "America/Chicago", false, false)
	f := &fixture{db: db, slack: fake, url: srv.URL + "/api/", clock: newClock()}
	f.c = storetest.SimpleClient(7)
	f.c.Name = "Acme Grain Co-op"
	f.c.Handle = "acme-grain"
	if err := db.CreateClient(t.Context(), f.c, "U0JANE"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) scheduler(t *testing.T, owner string, rs store.ReminderStore) *reminders.Scheduler {
	t.Helper()
	if rs == nil {
		rs = f.db
	}
	s, err := reminders.New(reminders.Options{
		Store: rs, Clients: f.db, Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)),
		Owner: owner, Lease: time.Minute, Now: f.clock.Now, WaitUntil: f.clock.WaitUntil,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) remind(t *testing.T, broker string, in time.Duration, text string) *store.Reminder {
	t.Helper()
	r := &store.Reminder{ClientID: f.c.ID, Broker: broker, Due: f.clock.Now().Add(in), Text: text, Source: "command", CreatedBy: broker}
	if err := f.db.CreateReminder(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func tick(t *testing.T, s *reminders.Scheduler) int {
	t.Helper()
	n, err := s.Tick(t.Context())
	if err != nil {
		t.Fatalf("Tick: %v", err)
	}
	return n
}

// postsOf counts the messages Slack accepted per reminder id.
func postsOf(f *fixture) map[string]int {
	out := map[string]int{}
	for _, p := range f.slack.Posted() {
		out[fmt.Sprint(p.Metadata.EventPayload["reminder_id"])]++
	}
	return out
}

func forEachBackend(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, b.open(t)))
		})
	}
}

func TestPostsADueReminderOnceToTheBrokersDM(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		s := f.scheduler(t, "a", nil)
		r := f.remind(t, "U0JANE", 2*time.Minute, "call back about Dec corn")
		if n := tick(t, s); n != 0 || len(f.slack.Posted()) != 0 {
			t.Fatalf("before it is due: posted %d", len(f.slack.Posted()))
		}
		f.clock.Advance(2 * time.Minute)
		if n := tick(t, s); n != 1 {
			t.Fatalf("when due: Tick posted %d, want 1", n)
		}
		posted := f.slack.Posted()
		if len(posted) != 1 {
			t.Fatalf("Slack received %d messages, want 1", len(posted))
		}
		p := posted[0]
		if p.Channel != "DU0JANE" || !strings.Contains(p.Text, "acme-grain") || !strings.Contains(p.Text, "call back about Dec corn") {
			t.Errorf("message %+v: want Jane's DM naming acme-grain and the text", p)
		}
		if p.Metadata.EventType != reminders.MetadataEventType || p.Metadata.EventPayload["reminder_id"] != r.ID.String() {
			t.Errorf("metadata %+v: want the reminder id", p.Metadata)
		}
		got, err := f.db.Reminder(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.ReminderPosted || got.MessageTS != p.TS || got.Channel != "DU0JANE" {
			t.Errorf("stored %+v: want posted with ts %s", got, p.TS)
		}
		f.clock.Advance(time.Hour)
		tick(t, s)
		if n := len(f.slack.Posted()); n != 1 {
			t.Fatalf("after another hour Slack has %d messages, want still 1", n)
		}
	})
}

// Slack accepted the post but its answer was lost: the retry finds the
// message by its metadata and records its ts instead of posting again.
func TestLostAnswerIsFoundNotPostedAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		s := f.scheduler(t, "a", nil)
		r := f.remind(t, "U0JANE", 0, "send the Dec corn recap")
		f.slack.LoseAnswers("chat.postMessage", 1)
		if n := tick(t, s); n != 0 {
			t.Fatalf("a lost answer counted as posted")
		}
		if n := len(f.slack.Posted()); n != 1 {
			t.Fatalf("Slack has %d messages, want the 1 it accepted", n)
		}
		f.clock.Advance(10 * time.Minute)
		if n := tick(t, s); n != 1 {
			t.Fatalf("retry recorded %d, want 1", n)
		}
		posted := f.slack.Posted()
		if len(posted) != 1 {
			t.Fatalf("Slack has %d messages after the retry, want 1", len(posted))
		}
		if f.slack.Calls("conversations.history") == 0 {
			t.Error("the retry did not look in the channel's history")
		}
		got, _ := f.db.Reminder(t.Context(), r.ID)
		if got.State != store.ReminderPosted || got.MessageTS != posted[0].TS {
			t.Fatalf("stored %s ts %q, want posted with %q", got.State, got.MessageTS, posted[0].TS)
		}
	})
}

// crashAfterPost is a replica that dies between Slack's acceptance and
// writing the ts: its record never reaches the store, nor does anything else.
type crashAfterPost struct {
	store.ReminderStore
	crashed atomic.Int32
}

func (c *crashAfterPost) MarkRemindersPosted(_ context.Context, _ string, posts []store.ReminderPost) ([]uuid.UUID, error) {
	c.crashed.Add(int32(len(posts)))
	return nil, errors.New("killed")
}

func (c *crashAfterPost) RetryReminder(context.Context, uuid.UUID, string, time.Time) error {
	return errors.New("killed")
}

func TestCrashBeforeTheTsIsWrittenDoesNotPostTwice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		dying := &crashAfterPost{ReminderStore: f.db}
		a, b := f.scheduler(t, "a", dying), f.scheduler(t, "b", nil)
		r := f.remind(t, "U0JANE", 0, "confirm the basis")
		tick(t, a)
		if dying.crashed.Load() != 1 || len(f.slack.Posted()) != 1 {
			t.Fatalf("replica a: %d crashes, %d messages; want 1 and 1", dying.crashed.Load(), len(f.slack.Posted()))
		}
		// While a's lease lasts, b leaves the reminder alone.
		f.clock.Advance(30 * time.Second)
		if n := tick(t, b); n != 0 {
			t.Fatalf("b took the reminder within a's lease")
		}
		f.clock.Advance(31 * time.Second)
		if n := tick(t, b); n != 1 {
			t.Fatalf("b recorded %d after a's lease ran out, want 1", n)
		}
		if got := postsOf(f); len(f.slack.Posted()) != 1 || got[r.ID.String()] != 1 {
			t.Fatalf("Slack received %d messages (%v), want 1", len(f.slack.Posted()), got)
		}
		got, _ := f.db.Reminder(t.Context(), r.ID)
		if got.State != store.ReminderPosted || got.MessageTS != f.slack.Posted()[0].TS || got.Attempts != 2 {
			t.Fatalf("stored %+v", got)
		}
	})
}

// A 429 holds the channel for exactly Retry-After, for every replica: the
// reminders for it wait, then go one turn apart; other channels go on.
func TestRateLimitIsHonouredPerChannel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.slack.RetryAfter = 30
		f.slack.AddUser("U0BOB", "bob", "Europe/London", false, false)
		start := f.clock.Now()
		// When each replica waited until, after start.
		var mu sync.Mutex
		waits := map[string][]time.Duration{}
		replica := func(owner string) *reminders.Scheduler {
			s, err := reminders.New(reminders.Options{
				Store: f.db, Clients: f.db, Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)),
				Owner: owner, Lease: time.Minute, Now: f.clock.Now,
				WaitUntil: func(ctx context.Context, at time.Time) error {
					mu.Lock()
					waits[owner] = append(waits[owner], at.Sub(start))
					mu.Unlock()
					return f.clock.WaitUntil(ctx, at)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		a, b := replica("a"), replica("b")
		f.remind(t, "U0JANE", 0, "jane 0")
		f.slack.RateLimit("chat.postMessage", 1)
		if n := tick(t, a); n != 0 || f.slack.Calls("chat.postMessage") != 1 {
			t.Fatalf("the limited post: recorded %d after %d calls", n, f.slack.Calls("chat.postMessage"))
		}
		// What every replica now knows of Jane's DM: nothing before
		// Retry-After ends, exactly, and paced from then on.
		if err := f.db.PaceReminderChannels(t.Context(), []string{"DU0JANE"}, func(ps map[string]*store.ReminderPace) error {
			if p := ps["DU0JANE"]; !p.Next.Equal(start.Add(30*time.Second)) || !p.StrictUntil.After(start.Add(30*time.Second)) {
				t.Errorf("Jane's DM after a 429 with Retry-After 30: %+v", p)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		f.remind(t, "U0JANE", 0, "jane 1")
		f.remind(t, "U0JANE", 0, "jane 2")
		f.remind(t, "U0BOB", 0, "bob")
		f.clock.Advance(29 * time.Second)
		// b never heard Slack's 429, but knows of it: Bob's goes now,
		// Jane's two when Retry-After ends and a turn later.
		if n := tick(t, b); n != 3 {
			t.Fatalf("b recorded %d, want Bob's and Jane's two", n)
		}
		f.clock.Advance(time.Second)
		if n := tick(t, a); n != 1 {
			t.Fatalf("a recorded %d, want the limited one", n)
		}
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(waits["b"])
		slices.Sort(waits["a"])
		// Bob's at once; Jane's from when Retry-After ends (read half a
		// gap ahead), the second a gap later or more; a's own a gap after
		// those.
		const gap = 1030 * time.Millisecond
		if w := waits["b"]; len(w) < 3 || w[0] != 29*time.Second || slices.Max(w) < 30*time.Second+gap {
			t.Errorf("b waited until %v after the 429, want 29s, then until %v or later", w, 30*time.Second+gap)
		}
		for _, w := range waits["b"][1:] {
			if w < 30*time.Second-gap/2 {
				t.Errorf("b waited until %v after the 429: a wait for Jane's channel before Retry-After ended", w)
			}
		}
		if w := waits["a"]; len(w) < 2 || w[0] != 0 || slices.Max(w) < 30*time.Second+2*gap {
			t.Errorf("a waited until %v after the 429, want 0s, then %v or later", w, 30*time.Second+2*gap)
		}
		if len(f.slack.Posted()) != 4 {
			t.Fatalf("Slack has %d messages, want all 4, none dropped", len(f.slack.Posted()))
		}
		for id, n := range postsOf(f) {
			if n != 1 {
				t.Errorf("reminder %s posted %d times", id, n)
			}
		}
	})
}

// Slack down for a while: the reminder waits, with growing pauses, and is
// posted once Slack answers again.
func TestSlackFailuresAreRetriedNeverDropped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		s := f.scheduler(t, "a", nil)
		r := f.remind(t, "U0JANE", 0, "margin call follow-up")
		// Lost answers without acceptance: conversations.open fails 5 times.
		f.slack.LoseAnswers("conversations.open", 5)
		for range 5 {
			tick(t, s)
			f.clock.Advance(11 * time.Minute)
		}
		if n := tick(t, s); n != 1 {
			t.Fatalf("after Slack came back: recorded %d, want 1", n)
		}
		got, _ := f.db.Reminder(t.Context(), r.ID)
		if got.State != store.ReminderPosted || got.Attempts != 6 || len(f.slack.Posted()) != 1 {
			t.Fatalf("stored %s after %d attempts, %d messages", got.State, got.Attempts, len(f.slack.Posted()))
		}
	})
}

// slowSlack runs after once a post has gone through: time passing in a
// batch that outlasts its lease.
type slowSlack struct {
	reminders.Slack
	after func()
}

func (s slowSlack) Post(ctx context.Context, channel string, id uuid.UUID, m reminders.Message) (string, error) {
	ts, err := s.Slack.Post(ctx, channel, id, m)
	s.after()
	return ts, err
}

// A replica whose batch outlasts the lease renews it before each post, and
// does not post one another replica has taken over meanwhile.
func TestSlowBatchNeverPostsOnAnExpiredLease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		first := f.remind(t, "U0JANE", 0, "first")
		second := f.remind(t, "U0JANE", time.Millisecond, "second")
		f.clock.Advance(time.Millisecond)
		b := f.scheduler(t, "b", nil)
		var once sync.Once
		slow := slowSlack{Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)), after: func() {
			// After a's first post its lease runs out; b claims both,
			// finds the first in Slack and posts the second.
			once.Do(func() {
				f.clock.Advance(61 * time.Second)
				if n := tick(t, b); n != 2 {
					t.Errorf("b recorded %d, want 2", n)
				}
			})
		}}
		a, err := reminders.New(reminders.Options{Store: f.db, Clients: f.db, Slack: slow, Owner: "a", Lease: time.Minute, Now: f.clock.Now, WaitUntil: f.clock.WaitUntil, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		tick(t, a)
		counts := postsOf(f)
		if counts[first.ID.String()] != 1 || counts[second.ID.String()] != 1 || len(f.slack.Posted()) != 2 {
			t.Fatalf("Slack received %v (%d messages); want each reminder once", counts, len(f.slack.Posted()))
		}
	})
}

// TestMetrics: due, posted, lateness, retries and 429s are counted.
func TestMetrics(t *testing.T) {
	f := newFixture(t, openEmbedded(t))
	reg := prometheus.NewRegistry()
	s, err := reminders.New(reminders.Options{
		Store: f.db, Clients: f.db, Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)),
		Owner: "replica-1", Lease: time.Minute, Now: f.clock.Now, WaitUntil: f.clock.WaitUntil, Workers: 1, Metrics: reminders.NewMetrics(reg),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		f.remind(t, "U0JANE", -time.Duration(i+1)*time.Second, fmt.Sprintf("r%d", i))
	}
	f.slack.RateLimit("chat.postMessage", 1)
	tick(t, s)
	f.clock.Advance(5 * time.Second)
	tick(t, s)
	if n := len(f.slack.Posted()); n != 3 {
		t.Fatalf("%d posted, want 3", n)
	}
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			switch {
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for name, want := range map[string]float64{
		"brokersync_reminders_due_total":                            3,
		"brokersync_reminders_claimed_total":                        3, // the limited one waits for its turn, holding its claim
		"brokersync_reminders_posted_total{posted}":                 3,
		"brokersync_reminders_rate_limited_total{chat.postMessage}": 1,
		"brokersync_reminders_retries_total{rate_limited}":          1,
		"brokersync_reminders_lateness_seconds_count":               3,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
}
