package reminders_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

// BenchmarkDispatch: 10,000 reminders all due at once over 500 DMs,
// dispatched by two replicas on one store, on the real clock, to a fake
// Slack that does not limit. It reports the lateness of the posts (from
// the moment the replicas start). Run with -benchtime=1x.
func BenchmarkDispatch(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name+"/unlimited/10000", func(b *testing.B) {
			for range b.N {
				d := dispatchAll(b, newFixture(b, be.open(b)), 10000, 500, 0)
				d.report(b)
			}
		})
	}
}

// BenchmarkPaced: reminders all due at once over 50 channels, two
// replicas, and a fake Slack strict about 1 message a second per channel.
// It reports the total time against the least that limit allows (the
// messages of the busiest channel one second apart). The size is
// BROKERSYNC_BENCH_PACED (default 1000; 10000 is the full run, about 200
// s). Run with -benchtime=1x.
func BenchmarkPaced(b *testing.B) {
	n := 1000
	if v := os.Getenv("BROKERSYNC_BENCH_PACED"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("BROKERSYNC_BENCH_PACED=%q: want a number of reminders", v)
		}
	}
	for _, be := range backends {
		b.Run(fmt.Sprintf("%s/50-channels/%d", be.name, n), func(b *testing.B) {
			for range b.N {
				d := dispatchAll(b, newFixture(b, be.open(b)), n, 50, 1)
				d.report(b)
			}
		})
	}
}

// dispatched is what a run of dispatchAll measured.
type dispatched struct {
	late          []time.Duration // of each post, from the replicas' start, in order
	least         time.Duration   // the least time the limit allows; 0 without one
	minGap        time.Duration   // the least time between two posts to one channel
	rateLimited   int             // 429s the fake answered
	perSecond     float64
	reminders, ch int
}

func (d dispatched) total() time.Duration { return d.late[len(d.late)-1] }

func (d dispatched) report(b *testing.B) {
	b.ReportMetric(d.late[len(d.late)/2].Seconds(), "p50-s")
	b.ReportMetric(d.late[len(d.late)*99/100].Seconds(), "p99-s")
	b.ReportMetric(d.total().Seconds(), "total-s")
	if d.perSecond > 0 {
		b.ReportMetric(d.total().Seconds()/d.least.Seconds(), "x-least")
		b.ReportMetric(d.least.Seconds(), "least-s")
		b.ReportMetric(float64(d.rateLimited), "429s")
		b.ReportMetric(d.minGap.Seconds(), "min-gap-s")
	}
}

// dispatchAll creates n reminders due now for brokers over chans DMs,
// runs two replicas on the real clock until Slack has them all (the fake
// limiting each channel to perSecond messages a second, 0 for no limit),
// and checks that each was posted exactly once and that the fake kept its
// limit.
func dispatchAll(tb testing.TB, f *fixture, n, chans int, perSecond float64) dispatched {
	b, _ := tb.(*testing.B)
	if b != nil {
		b.StopTimer()
	}
	ctx := tb.Context()
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
		tb.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	if b != nil {
		b.StartTimer()
	}
	for _, owner := range []string{"replica-a", "replica-b"} {
		s, err := reminders.New(reminders.Options{
			Store: f.db, Clients: f.db, Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", f.url)),
			Owner: owner, Interval: 200 * time.Millisecond, ChannelRate: perSecond,
		})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Go(func() { _ = s.Run(runCtx) })
	}
	deadline := time.Now().Add(15 * time.Minute)
	for len(f.slack.Posted()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b != nil {
		b.StopTimer()
	}
	cancel()
	wg.Wait()
	posted := f.slack.Posted()
	counts := postsOf(f)
	if len(posted) != n || len(counts) != n {
		tb.Fatalf("Slack received %d messages for %d reminders, want %d", len(posted), len(counts), n)
	}
	d := dispatched{perSecond: perSecond, reminders: n, ch: chans, rateLimited: f.slack.RateLimited(), minGap: time.Hour}
	last := map[string]time.Time{}
	for _, p := range posted {
		d.late = append(d.late, p.At.Sub(start))
		if prev, ok := last[p.Channel]; ok {
			d.minGap = min(d.minGap, p.At.Sub(prev))
		}
		last[p.Channel] = p.At
	}
	slices.Sort(d.late)
	if perSecond > 0 {
		d.least = time.Duration(float64(time.Second) * float64((n+chans-1)/chans-1) / perSecond)
		if limit := time.Duration(float64(time.Second) / perSecond); d.minGap < limit {
			tb.Fatalf("the fake accepted two messages in one channel %v apart; its limit is one every %v", d.minGap, limit)
		}
	}
	return d
}
