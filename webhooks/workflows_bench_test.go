package webhooks_test

// The order webhook with and without 20 active desk workflows, in the same
// run: two servers on the same stores take turns, b.N fills each, 100 a
// request from 8 senders:
//
//	go test -run '^$' -bench OrdersWebhookWorkflows -benchtime 20000x ./webhooks/
//
// The workflows are a desk's plausible set: five on fills, whose
// conditions are asked on every fill, and fifteen on other signals that
// fills do not set off. In "20" no condition holds, so nothing fires; in
// "20+vip" one of the clients is a VIP and a reminder with its timeline
// entry is made for each of its fills, a third of the events.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/segment"
)

// benchDefinitions are the 20 workflows.
var benchDefinitions = []string{
	`when fill if tag:vip then remind "Call {{.Name}} about the fill: {{.Event}}"`,
	`when fill if risk>=9 then notify managers "{{.Name}} filled"`,
	`when fill if notional.30d>1000bn then tag whale`,
	`when fill if stage:dormant then set stage active`,
	`when fill if tag:watch sentiment<-0.5 then post <#C0BENCH01> "{{.Name}} filled"`,
	`when order placed if tag:vip then remind "{{.Name}} placed an order"`,
	`when order cancelled then notify managers "{{.Name}} cancelled"`,
	`when order rejected then remind "{{.Name}}: rejected order"`,
	`when market move if tag:vip then remind "{{.Event}}"`,
	`when inbound email if risk>=7 then tag emailed`,
	`when inbound call then remind "{{.Name}} called"`,
	`when inbound chat then untag quiet`,
	`when sentiment drop then notify managers "{{.Name}}: sentiment dropped"`,
	`when entered segment at-risk then tag at-risk`,
	`when left segment at-risk then untag at-risk`,
	`when stage change to dormant then notify managers "{{.Name}} went dormant"`,
	`when stage change to active then remind "{{.Name}} is back"`,
	`when milestone anniversary then remind "{{.Name}}: anniversary"`,
	`when no contact for 30 days if tag:vip then remind "{{.Name}} is quiet"`,
	`when no contact for 90 days then set stage dormant`,
}

// benchRecords is what the workflows need of a backend.
type benchRecords interface {
	store.ClientStore
	store.TradeStore
	store.ReminderStore
	store.WorkflowStore
	store.TeamStore
	store.StatsReader
	segment.Matcher
	segment.IDMatcher
	segment.Store
}

func BenchmarkOrdersWebhookWorkflows(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(b *testing.B) (benchRecords, store.TimelineStore)
	}{
		{"embedded", func(b *testing.B) (benchRecords, store.TimelineStore) {
			db, err := embedded.Open(context.Background(), b.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db, db.Timeline()
		}},
		{"postgres+cassandra", func(b *testing.B) (benchRecords, store.TimelineStore) {
			return backendtest.Postgres(b), backendtest.Cassandra(b)
		}},
	} {
		for _, vip := range []bool{false, true} {
			name := backend.name + "/workflows=20"
			if vip {
				name += "+vip"
			}
			b.Run(name, func(b *testing.B) {
				db, tl := backend.open(b)
				with := newBenchEnv(b, db, tl, true, vip)
				benchPair(b, newBenchEnv(b, db, tl, false, false), with)
				// Every VIP fill fired the first workflow once; nothing else fired.
				want := 0
				if vip {
					want = with.stats(b, with.acme).Trades365d
				}
				for _, c := range []*store.Client{with.acme, with.plains, with.idle} {
					rs, err := db.ListReminders(context.Background(), store.ReminderFilter{ClientID: c.ID, Limit: 100000})
					if err != nil {
						b.Fatal(err)
					}
					if c.ID == with.acme.ID && len(rs) != want || c.ID != with.acme.ID && len(rs) != 0 {
						b.Errorf("%s: %d reminders, want %d", c.Handle, len(rs), want)
					}
				}
			})
		}
	}
}

// newBenchEnv is a webhook server on the stores, its three clients on a
// desk of their own with a broker; with workflows, the desk has the 20 and
// they run on what the server records; with vip, acme is a VIP.
func newBenchEnv(b *testing.B, db benchRecords, tl store.TimelineStore, workflows, vip bool) *env {
	ctx := context.Background()
	desk := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	s := stores{clients: db, trades: db, timeline: tl}
	if workflows {
		for i, def := range benchDefinitions {
			w := &store.Workflow{Name: fmt.Sprintf("%s-%02d", desk, i), Desk: desk, Definition: def, Enabled: true, UpdatedBy: "U0BENCH"}
			if _, err := db.PutWorkflow(ctx, w); err != nil {
				b.Fatal(err)
			}
		}
		s.subscriber = func(rec *ingest.Recorder) ingest.Subscriber {
			return &reminders.Workflows{Catalogue: store.DefaultCatalogue(), Store: db, Reminders: db, Clients: db, Teams: db, Segments: db, Stats: db,
				Timeline: tl, Recorder: rec}
		}
	}
	e := newEnv(b, s)
	for _, c := range []*store.Client{e.acme, e.plains, e.idle} {
		if _, _, err := db.UpdateClient(ctx, c.ID, "U0BENCH", func(cl *store.Client) error {
			cl.Team, cl.Broker = desk, "U0BENCH"
			if vip && cl.ID == e.acme.ID {
				cl.Tags = []string{"vip"}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// benchRounds is how many times the two servers take turns.
const benchRounds = 40

// benchPair sends b.N fills to each server, in turns of b.N/benchRounds
// (the first server first in odd turns, the second in even ones), so that
// both meet the same load from the rest of the machine, and reports each
// one's events/s and what the workflows cost: the median over the turns
// of the throughput lost, which a burst of other work on the machine
// during one turn does not move.
func benchPair(b *testing.B, without, with *env) {
	per := max(b.N/benchRounds, 100)
	run := time.Now().UnixNano()
	var took [2]time.Duration
	lost := make([]float64, benchRounds)
	b.ResetTimer()
	for r := range benchRounds {
		var turn [2]time.Duration
		for i := range 2 {
			k := (i + r) % 2
			e := []*env{without, with}[k]
			if e.turn != nil {
				e.turn()
			}
			turn[k] = sendOrders(b, e, fmt.Sprintf("wf-%d-%d-%d", run, r, k), per, 100)
			took[k] += turn[k]
		}
		lost[r] = 100 * (1 - turn[0].Seconds()/turn[1].Seconds())
	}
	b.StopTimer()
	n := float64(per * benchRounds)
	slices.Sort(lost)
	b.ReportMetric(n/took[0].Seconds(), "events/s-without")
	b.ReportMetric(n/took[1].Seconds(), "events/s-with")
	b.ReportMetric(100*(1-took[0].Seconds()/took[1].Seconds()), "%-lost-overall")
	b.ReportMetric((lost[benchRounds/2-1]+lost[benchRounds/2])/2, "%-lost-median")
	for _, e := range []*env{without, with} {
		fills, events := 0, 0
		for _, c := range []*store.Client{e.acme, e.plains, e.idle} {
			fills += e.stats(b, c).Trades365d
			events += e.countEvents(b, c, store.KindOrder)
		}
		if fills != int(n) || events != int(n) {
			b.Errorf("%v sent; %d fills counted and %d orders on the timelines", n, fills, events)
		}
	}
}

// sendOrders sends n fills to e, batch a request, from 8 senders, and
// returns how long the server took to accept them all.
func sendOrders(b *testing.B, e *env, tag string, n, batch int) time.Duration {
	clients := []*store.Client{e.acme, e.plains, e.idle}
	requests := (n + batch - 1) / batch
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				r := int(next.Add(1)) - 1
				if r >= requests {
					return
				}
				if !e.postFills(b, client, fmt.Sprintf("%s-%d", tag, r), clients, r, min(batch, n-r*batch)) {
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
