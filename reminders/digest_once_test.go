package reminders_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/postgres"
)

// digestPosts counts the digests Slack accepted per run id (thread
// replies carry none) and returns the ts of each.
func digestPosts(fake *slacktest.FakeSlack) (map[string]int, map[string]string) {
	counts, ts := map[string]int{}, map[string]string{}
	for _, p := range fake.Posted() {
		if p.Metadata.EventType != reminders.MetadataEventType {
			continue
		}
		id := fmt.Sprint(p.Metadata.EventPayload["reminder_id"])
		counts[id]++
		ts[id] = p.TS
	}
	return counts, ts
}

// subscribeMany makes n managers of the softs desk, each subscribed in a
// channel of their own, at the store's clock.
func subscribeMany(t *testing.T, db interface {
	store.TeamStore
	store.DigestStore
}, n, at int, zone string) []*store.DigestSubscription {
	t.Helper()
	if err := db.AddMember(t.Context(), store.Member{SlackID: "USAM", Desk: "softs", Role: store.RoleBroker, AddedBy: "UADMIN"}); err != nil {
		t.Fatal(err)
	}
	var subs []*store.DigestSubscription
	for i := range n {
		owner := fmt.Sprintf("UMGR%02d", i)
		if err := db.AddMember(t.Context(), store.Member{SlackID: owner, Desk: "softs", Role: store.RoleManager, AddedBy: "UADMIN"}); err != nil {
			t.Fatal(err)
		}
		s := &store.DigestSubscription{Owner: owner, Desk: "softs", Channel: fmt.Sprintf("C0DIG%02d", i), Frequency: store.DigestDaily, At: at, TimeZone: zone}
		if _, err := db.SaveDigestSubscription(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	return subs
}

// Two replicas tick at the same moments over ten subscriptions, each with
// three periods due (a catch-up after an outage); Slack loses some answers
// after accepting the post. Counted from what Slack received: every
// period's digest exactly once, each with its ts recorded.
func TestDigestPostedOnceAcrossReplicas(t *testing.T) {
	forEachDigestBackend(t, func(t *testing.T, f *digestFixture) {
		f.set(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
		subs := subscribeMany(t, f.db, 10, 8*60, "America/Chicago")
		f.set(time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)) // 09:00 in Chicago: three days missed
		f.slack.LoseAnswers("chat.postMessage", 6)
		a, b := f.runner(t, "replica-a"), f.runner(t, "replica-b")
		want := map[string]bool{}
		for _, s := range subs {
			for p, i := s.PeriodAt(f.clock.Now()), 0; i < 3; p, i = s.Previous(p), i+1 {
				want[reminders.DigestRunID(s.ID, p.Key).String()] = true
			}
		}
		for round := 0; ; round++ {
			if round > 10 {
				t.Fatal("digests still not posted after 10 rounds")
			}
			var wg sync.WaitGroup
			for _, r := range []*reminders.DigestRunner{a, b} {
				wg.Go(func() {
					if _, err := r.Tick(t.Context()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			left := 0
			for _, s := range subs {
				runs, err := f.db.DigestRuns(t.Context(), s.ID, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, run := range runs {
					if run.State != store.DigestPosted {
						left++
					}
				}
				if len(runs) != 3 {
					left++
				}
			}
			if left == 0 {
				break
			}
			f.clock.Advance(time.Minute) // past the retries and the leases
		}
		counts, ts := digestPosts(f.slack)
		for id, n := range counts {
			if n != 1 || !want[id] {
				t.Errorf("digest %s posted %d times (expected: %v)", id, n, want[id])
			}
		}
		if len(counts) != len(want) {
			t.Fatalf("%d digests in Slack, want %d", len(counts), len(want))
		}
		for _, s := range subs {
			runs, _ := f.db.DigestRuns(t.Context(), s.ID, 0)
			for _, run := range runs {
				if id := reminders.DigestRunID(s.ID, run.Period).String(); run.MessageTS != ts[id] || run.Channel != s.Channel {
					t.Errorf("run %s recorded ts %q in %s; Slack has %q", run.Period, run.MessageTS, run.Channel, ts[id])
				}
			}
		}
	})
}

// The child process of TestDigestKilledReplicaProcess: a replica that posts
// digests until it is killed.
func TestDigestReplicaProcess(t *testing.T) {
	url := os.Getenv("BROKERSYNC_DIGEST_POSTGRES")
	if url == "" {
		t.Skip("run by TestDigestKilledReplicaProcess")
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := cassandra.Open(ctx, cassandra.Config{Hosts: strings.Split(os.Getenv("BROKERSYNC_DIGEST_CASSANDRA"), ","),
		Keyspace: os.Getenv("BROKERSYNC_DIGEST_KEYSPACE"), Consistency: "ONE", Timeout: 10 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r, err := reminders.NewDigestRunner(reminders.DigestOptions{
		Store: db, Teams: db, Owner: "replica-a", Interval: 100 * time.Millisecond, Lease: 3 * time.Second,
		Builder: &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: tl, Teams: db, Reminders: db},
		Slack:   reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-replica-a", os.Getenv("BROKERSYNC_DIGEST_SLACK"))),
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Run(ctx) // until SIGKILL
}

// A replica process is killed with SIGKILL while Slack holds back its
// answer to a digest it accepted: the digest is in the channel, its ts
// never recorded. The other replica takes the period over once the lease
// runs out, finds the message in the channel's history and records it:
// every period's digest is in Slack exactly once.
func TestDigestKilledReplicaProcess(t *testing.T) {
	url := newPostgresURL(t)
	cfg := backendtest.CassandraConfig(t)
	db, err := postgres.Open(t.Context(), url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL

	// Subscribed a day and a bit ago, due an hour ago: two periods each.
	now := time.Now().UTC()
	db.SetClock(func() time.Time { return time.Now().Add(-26 * time.Hour) })
	due := now.Add(-time.Hour)
	subs := subscribeMany(t, db, 12, due.Hour()*60+due.Minute(), "UTC")
	db.SetClock(time.Now)
	const want = 24

	var byA atomic.Int64
	killNow, killed := make(chan struct{}), make(chan struct{})
	var held atomic.Value // the post Slack holds its answer to
	fake.OnPost(func(p slacktest.Posted) {
		if p.Token != "xoxb-replica-a" {
			return
		}
		if byA.Add(1) == 7 {
			held.Store(p)
			close(killNow)
		}
		if byA.Load() >= 7 {
			<-killed
		}
	})
	child := exec.Command(os.Args[0], "-test.run=^TestDigestReplicaProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "BROKERSYNC_DIGEST_POSTGRES="+url, "BROKERSYNC_DIGEST_SLACK="+srv.URL+"/api/",
		"BROKERSYNC_DIGEST_CASSANDRA="+strings.Join(cfg.Hosts, ","), "BROKERSYNC_DIGEST_KEYSPACE="+cfg.Keyspace)
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-killNow:
	case <-time.After(2 * time.Minute):
		_ = child.Process.Kill()
		t.Fatalf("replica a did not get far enough to be killed; its output:\n%s", out.String())
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(killed)
	heldPost := held.Load().(slacktest.Posted)
	heldID := fmt.Sprint(heldPost.Metadata.EventPayload["reminder_id"])

	b, err := reminders.NewDigestRunner(reminders.DigestOptions{
		Store: db, Teams: db, Owner: "replica-b", Lease: 3 * time.Second,
		Builder: &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: backendtest.Cassandra(t), Teams: db, Reminders: db},
		Slack:   reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-replica-b", srv.URL+"/api/")),
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := b.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		posted := 0
		for _, s := range subs {
			runs, err := db.DigestRuns(t.Context(), s.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, run := range runs {
				if run.State == store.DigestPosted {
					posted++
				}
			}
		}
		if posted == want {
			break
		}
		if time.Now().After(deadline) {
			for _, s := range subs {
				runs, _ := db.DigestRuns(t.Context(), s.ID, 0)
				for _, run := range runs {
					if run.State != store.DigestPosted {
						t.Logf("%s %+v now %v", s.Channel, run, time.Now())
					}
				}
			}
			t.Fatalf("%d of %d digests recorded after 2 minutes", posted, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	counts, ts := digestPosts(fake)
	for id, n := range counts {
		if n != 1 {
			t.Errorf("digest %s posted %d times", id, n)
		}
	}
	if len(counts) != want {
		t.Fatalf("%d digests in Slack, want %d", len(counts), want)
	}
	found := false
	for _, s := range subs {
		runs, _ := db.DigestRuns(t.Context(), s.ID, 0)
		for _, run := range runs {
			id := reminders.DigestRunID(s.ID, run.Period).String()
			if run.MessageTS != ts[id] {
				t.Errorf("run %s recorded %q, Slack has %q", run.Period, run.MessageTS, ts[id])
			}
			if id == heldID {
				found = run.MessageTS == heldPost.TS && run.Attempts == 2
			}
		}
	}
	if !found {
		t.Errorf("the digest posted by the killed replica was not found and recorded by the other")
	}
	t.Logf("replica a posted %d digests before it was killed", byA.Load())
}
