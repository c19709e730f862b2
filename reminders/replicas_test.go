package reminders_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/store"
)

// killable is a replica's view of the store that dies at once, like a
// process killed with SIGKILL, after it has recorded `after` posts: from
// then on nothing it does reaches the store. What it claimed stays claimed
// (some of it already accepted by Slack) until the lease runs out.
type killable struct {
	store.ReminderStore
	after  int64
	marked atomic.Int64
	dead   atomic.Bool
}

var errKilled = errors.New("killed")

func (k *killable) ClaimDueReminders(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*store.Reminder, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.ReminderStore.ClaimDueReminders(ctx, owner, now, lease, limit)
}

func (k *killable) MarkRemindersPosted(ctx context.Context, owner string, posts []store.ReminderPost) ([]uuid.UUID, error) {
	if k.dead.Load() || k.marked.Add(int64(len(posts))) > k.after {
		k.dead.Store(true)
		return nil, errKilled
	}
	return k.ReminderStore.MarkRemindersPosted(ctx, owner, posts)
}

func (k *killable) RetryReminder(ctx context.Context, id uuid.UUID, owner string, at time.Time) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.ReminderStore.RetryReminder(ctx, id, owner, at)
}

// Two replicas on one store and 1,200 reminders due at once for 50
// brokers; Slack loses some answers after accepting the post, and one
// replica is killed mid-run. Counted from what Slack received: every
// reminder posted exactly once, none lost, each with its ts recorded.
func TestTwoReplicasPostEachReminderOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n, brokers = 1200, 50
	forEachBackend(t, func(t *testing.T, f *fixture) {
		for i := range brokers {
			f.slack.AddUser(fmt.Sprintf("U%04d", i), fmt.Sprint("broker", i), "America/Chicago", false, false)
		}
		want := map[string]bool{}
		for i := range n {
			r := f.remind(t, fmt.Sprintf("U%04d", i%brokers), 0, fmt.Sprint("reminder ", i))
			want[r.ID.String()] = true
		}
		f.slack.LoseAnswers("chat.postMessage", 25)
		dying := &killable{ReminderStore: f.db, after: 300}
		a, b := f.scheduler(t, "replica-a", dying), f.scheduler(t, "replica-b", nil)

		var mu sync.Mutex // one clock step at a time, between rounds
		for round := 0; ; round++ {
			if round > 60 {
				t.Fatal("reminders still not posted after 60 rounds")
			}
			var g errgroup.Group
			g.Go(func() error { _, _ = a.Tick(t.Context()); return nil })
			g.Go(func() error { _, err := b.Tick(t.Context()); return err })
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			left, err := f.db.ListReminders(t.Context(), store.ReminderFilter{
				States: []store.ReminderState{store.ReminderPending, store.ReminderClaimed}, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) == 0 {
				break
			}
			mu.Lock()
			f.clock.Advance(20 * time.Second)
			mu.Unlock()
		}
		if !dying.dead.Load() {
			t.Fatal("replica a was never killed: the test did not test a crash")
		}

		posted := f.slack.Posted()
		counts := postsOf(f)
		for id, c := range counts {
			if c != 1 {
				t.Errorf("reminder %s posted %d times", id, c)
			}
			if !want[id] {
				t.Errorf("a message for unknown reminder %s", id)
			}
		}
		if len(posted) != n || len(counts) != n {
			t.Fatalf("Slack received %d messages for %d reminders, want %d", len(posted), len(counts), n)
		}
		ts := map[string]string{}
		for _, p := range posted {
			ts[fmt.Sprint(p.Metadata.EventPayload["reminder_id"])] = p.TS
		}
		rs, err := f.db.ListReminders(t.Context(), store.ReminderFilter{Limit: 2 * n})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.State != store.ReminderPosted || r.MessageTS != ts[r.ID.String()] {
				t.Errorf("reminder %s: %s with ts %q, Slack's ts %q", r.Text, r.State, r.MessageTS, ts[r.ID.String()])
			}
		}
	})
}
