package reminders_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

// BenchmarkDispatch: reminders all due at once, dispatched by two replicas
// on one store, on the real clock, to the fake Slack. It reports the
// lateness of the posts (from the moment the replicas start) and, with
// Slack's 1 message a second per channel enforced, how the total time
// compares with the least that limit allows. Run with -benchtime=1x.
func BenchmarkDispatch(b *testing.B) {
	for _, tc := range []struct {
		name      string
		n, chans  int
		perSecond float64
	}{
		{"unlimited/10000", 10000, 500, 0},
		{"1-per-second-per-channel/50-channels/1000", 1000, 50, 1},
	} {
		for _, be := range backends {
			b.Run(be.name+"/"+tc.name, func(b *testing.B) {
				for range b.N {
					benchDispatch(b, be.open, tc.n, tc.chans, tc.perSecond)
				}
			})
		}
	}
}

func benchDispatch(b *testing.B, open func(testing.TB) backend, n, chans int, perSecond float64) {
	b.StopTimer()
	f, ctx := newFixture(b, open(b)), b.Context()
	for i := range chans {
		f.slack.AddUser(fmt.Sprintf("U%05d", i), fmt.Sprint("broker", i), "America/Chicago", false, false)
	}
	if perSecond > 0 {
		f.slack.LimitPerChannel(perSecond)
	}
	due := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				r := &store.Reminder{ClientID: f.c.ID, Broker: fmt.Sprintf("U%05d", i%chans), Due: due, Text: fmt.Sprint("reminder ", i), Source: "command"}
				if err := f.db.CreateReminder(ctx, r); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	b.StartTimer()
	for _, owner := range []string{"replica-a", "replica-b"} {
		s, err := reminders.New(reminders.Options{
			Store: f.db, Clients: f.db, Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)),
			Owner: owner, Interval: 200 * time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() { _ = s.Run(runCtx) })
	}
	deadline := time.Now().Add(10 * time.Minute)
	for len(f.slack.Posted()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	posted := f.slack.Posted()
	counts := postsOf(f)
	if len(posted) != n || len(counts) != n {
		b.Fatalf("Slack received %d messages for %d reminders, want %d", len(posted), len(counts), n)
	}
	late := make([]time.Duration, len(posted))
	for i, p := range posted {
		late[i] = p.At.Sub(start)
	}
	slices.Sort(late)
	total := late[len(late)-1]
	b.ReportMetric(late[len(late)/2].Seconds(), "p50-s")
	b.ReportMetric(late[len(late)*99/100].Seconds(), "p99-s")
	b.ReportMetric(total.Seconds(), "total-s")
	if perSecond > 0 {
		least := time.Duration(float64(time.Second) * float64((n+chans-1)/chans-1) / perSecond)
		b.ReportMetric(total.Seconds()/least.Seconds(), "x-least")
		b.ReportMetric(float64(f.slack.RateLimited()), "429s")
	}
}
