package reminders_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/slack/slacktest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/postgres"
)

// The child process of TestKilledReplicaProcess: a replica that posts
// until it is killed.
func TestReplicaProcess(t *testing.T) {
	url := os.Getenv("BROKERSYNC_REPLICA_POSTGRES")
	if url == "" {
		t.Skip("run by TestKilledReplicaProcess")
	}
	db, err := postgres.Open(context.Background(), url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s, err := reminders.New(reminders.Options{
		Store: db, Clients: db, Owner: "replica-a", Interval: 100 * time.Millisecond, Lease: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Slack:  reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-replica-a", os.Getenv("BROKERSYNC_REPLICA_SLACK"))),
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Run(context.Background()) // until SIGKILL
}

// Two replicas on one PostgreSQL with 10,000 due reminders; one is a
// separate process killed with SIGKILL in mid-run, whatever it was doing
// (also between Slack accepting a post and writing its ts). The other
// finishes: counted from the fake Slack, none posted twice, none lost.
func TestKilledReplicaProcess(t *testing.T) {
	const n, brokers = 10000, 50
	url := newPostgresURL(t)
	db, err := postgres.Open(t.Context(), url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := newFixture(t, db)
	for i := range brokers {
		f.slack.AddUser(fmt.Sprintf("U%04d", i), fmt.Sprint("broker", i), "America/Chicago", false, false)
	}
	due := time.Now()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				r := &store.Reminder{ClientID: f.c.ID, Broker: fmt.Sprintf("U%04d", i%brokers), Due: due, Text: fmt.Sprint("reminder ", i), Source: "command"}
				if err := db.CreateReminder(t.Context(), r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	child := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "BROKERSYNC_REPLICA_POSTGRES="+url, "BROKERSYNC_REPLICA_SLACK="+f.url)
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	// a is killed in mid-batch, while Slack holds back its answer to the
	// post that takes a past 2,037: that post is in Slack, and a never
	// learns its ts.
	var byA atomic.Int64
	killNow, killed := make(chan struct{}), make(chan struct{})
	f.slack.OnPost(func(p slacktest.Posted) {
		if p.Token != "xoxb-replica-a" {
			return
		}
		if byA.Add(1) == n/5+37 {
			close(killNow)
		}
		if byA.Load() >= n/5+37 {
			<-killed
		}
	})
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	b, err := reminders.New(reminders.Options{
		Store: db, Clients: db, Owner: "replica-b", Interval: 100 * time.Millisecond, Lease: 10 * time.Second,
		Slack:   reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)),
		Metrics: reminders.NewMetrics(reg),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Generous for a loaded machine: the loops below end as soon as the
	// work is done.
	deadline := time.Now().Add(4 * time.Minute)
	for byA.Load() < n/10 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wg.Go(func() { _ = b.Run(ctx) })
	select {
	case <-killNow:
	case <-time.After(time.Minute):
		t.Fatalf("replica a did not get far enough to be killed; its output:\n%s", out.String())
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(killed)
	killedAt := int(byA.Load())
	for time.Now().Before(deadline) {
		left, err := db.ListReminders(t.Context(), store.ReminderFilter{States: []store.ReminderState{store.ReminderPending, store.ReminderClaimed}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	counts := postsOf(f)
	for id, c := range counts {
		if c != 1 {
			t.Errorf("reminder %s posted %d times", id, c)
		}
	}
	if len(f.slack.Posted()) != n || len(counts) != n {
		t.Fatalf("Slack received %d messages for %d reminders, want %d", len(f.slack.Posted()), len(counts), n)
	}
	found := 0.0
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "brokersync_reminders_posted_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "how" && l.GetValue() == "found" {
					found = m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Logf("replica a posted %d messages before it was killed; replica b found %.0f of them posted but not recorded", killedAt, found)
	if killedAt == 0 || found == 0 {
		t.Fatalf("the kill left nothing posted and unrecorded: it tested nothing. Replica a's output:\n%s", out.String())
	}
	rs, err := db.ListReminders(t.Context(), store.ReminderFilter{States: []store.ReminderState{store.ReminderPosted}, Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != n {
		t.Fatalf("%d reminders recorded as posted, want %d", len(rs), n)
	}
}
