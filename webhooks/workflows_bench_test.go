package webhooks_test

// The order webhook with and without 20 active desk workflows, in the same
// run:
//
//	go test -run '^$' -bench OrdersWebhookWorkflows -benchtime 20000x -count 3 ./webhooks/
//
// b.N counts events, sent 100 a request. The workflows are a desk's
// plausible set: five on fills, whose conditions are asked on every fill,
// and fifteen on other signals that fills do not set off. In "20" no
// condition holds, so nothing fires; in "20+vip" one of the clients is a
// VIP and a reminder with its timeline entry is made for each of its
// fills, a third of the events.

import (
	"context"
	"fmt"
	"log/slog"
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
	segment.Store
}

func BenchmarkOrdersWebhookWorkflows(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(b *testing.B) (benchRecords, store.TimelineStore)
	}{
		{"embedded", func(b *testing.B) (benchRecords, store.TimelineStore) {
			db, err := embedded.Open(context.Background(), b.TempDir(), slog.New(slog.DiscardHandler))
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
		for _, v := range []struct {
			name string
			n    int
			vip  bool
		}{{"none", 0, false}, {"20", len(benchDefinitions), false}, {"20+vip", len(benchDefinitions), true}} {
			n := v.n
			b.Run(backend.name+"/workflows="+v.name, func(b *testing.B) {
				db, tl := backend.open(b)
				desk := fmt.Sprintf("bench-%d", time.Now().UnixNano())
				s := stores{clients: db, trades: db, timeline: tl}
				if n > 0 {
					for i, def := range benchDefinitions[:n] {
						w := &store.Workflow{Name: fmt.Sprintf("%s-%02d", desk, i), Desk: desk, Definition: def, Enabled: true, UpdatedBy: "U0BENCH"}
						if _, err := db.PutWorkflow(context.Background(), w); err != nil {
							b.Fatal(err)
						}
					}
					s.subscriber = func(rec *ingest.Recorder) ingest.Subscriber {
						return &reminders.Workflows{Store: db, Reminders: db, Clients: db, Teams: db, Segments: db, Stats: db,
							Timeline: tl, Recorder: rec}
					}
				}
				e := newEnv(b, s)
				// The env's clients on the desk, with a broker; acme a VIP.
				for _, c := range []*store.Client{e.acme, e.plains, e.idle} {
					if _, _, err := db.UpdateClient(context.Background(), c.ID, "U0BENCH", func(cl *store.Client) error {
						cl.Team, cl.Broker = desk, "U0BENCH"
						if v.vip && cl.ID == e.acme.ID {
							cl.Tags = []string{"vip"}
						}
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
				benchOrders(b, e, 100)
				if v.vip {
					// Every VIP fill fired the first workflow once.
					rs, err := db.ListReminders(context.Background(), store.ReminderFilter{ClientID: e.acme.ID, Limit: 100000})
					if err != nil {
						b.Fatal(err)
					}
					fills := e.stats(b, e.acme).Trades365d
					if len(rs) != fills {
						b.Errorf("%d reminders for %d VIP fills", len(rs), fills)
					}
				}
			})
		}
	}
}
