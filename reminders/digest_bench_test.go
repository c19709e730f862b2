package reminders_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/storetest"
)

// BenchmarkDigestDesk: the daily digest of a desk of 50 brokers and 5,000
// clients with a year of history (about 85,000 events) on PostgreSQL and
// Cassandra, its events of the day read from the digest index on
// PostgreSQL. Against it, in the same run, what reading each client's
// timeline for the day costs (one query per client, 16 at a time): the
// builder without the index.
// Seeding takes a few minutes; run with -benchtime=5x.
func BenchmarkDigestDesk(b *testing.B) {
	const clients, brokers = 5000, 50
	ctx := b.Context()
	db, err := postgres.Open(ctx, newPostgresURL(b), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tl := backendtest.Cassandra(b)
	to := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC) // 08:00 in Chicago
	from := to.Add(-24 * time.Hour)
	desk := "grains-" + uuid.NewString()[:8]

	for i := range brokers {
		if err := db.AddMember(ctx, store.Member{SlackID: fmt.Sprintf("UB%03d", i), Desk: desk, Role: store.RoleBroker, AddedBy: "UADMIN"}); err != nil {
			b.Fatal(err)
		}
	}
	var cs []*store.Client
	for i := range clients {
		c := storetest.SimpleClient(i)
		c.Team, c.Broker = desk, fmt.Sprintf("UB%03d", i%brokers)
		cs = append(cs, c)
	}
	if err := db.ImportClients(ctx, cs, "UADMIN"); err != nil {
		b.Fatal(err)
	}
	all, err := db.FindClients(ctx, store.ClientFilter{Teams: []string{desk}, Limit: 1000})
	if err != nil || len(all) == 0 {
		b.Fatal(err)
	}
	for off := len(all); ; off += 1000 {
		more, err := db.FindClients(ctx, store.ClientFilter{Teams: []string{desk}, Limit: 1000, Offset: off})
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, more...)
		if len(more) < 1000 {
			break
		}
	}
	// A year of history: every quarter an inbound email, its reply and a
	// fill; in the day, a message and its reply for every client, a fill
	// for one in five, a sentiment drop for one in a hundred, a segment
	// change for one in fifty.
	var g errgroup.Group
	g.SetLimit(8)
	events := 0
	for i, c := range all {
		var es []*store.Event
		for w := 1; w <= 4; w++ {
			at := to.AddDate(0, -3*w, 0)
			es = append(es, email(c, at, store.Inbound, "Basis question"), email(c, at.Add(45*time.Minute), store.Outbound, "Re: Basis question"),
				fill(c, at.Add(2*time.Hour), "buy", "corn", "ZCH7", float64(1+i%20), 4.5))
		}
		at := from.Add(time.Duration(i%1200) * time.Minute)
		es = append(es, email(c, at, store.Inbound, "Today's question"), chat(c, at.Add(time.Duration(10+i%90)*time.Minute), c.Broker, "Answer"))
		if i%5 == 0 {
			es = append(es, fill(c, at.Add(3*time.Hour), "sell", "soybeans", "ZSF7", float64(1+i%30), 10.1))
		}
		if i%100 == 0 {
			es = append(es, signal(c, at.Add(time.Hour), store.SourceSentiment, store.SignalSentimentDrop, "30-day sentiment fell", nil))
		}
		if i%50 == 0 {
			es = append(es, signal(c, at.Add(time.Hour), store.SourceSegment, store.SignalSegmentEntered, "Entered at-risk", map[string]string{"segment": "at-risk"}))
		}
		for _, e := range es {
			if err := e.Prepare(); err != nil {
				b.Fatal(err)
			}
		}
		events += len(es)
		if err := (reminders.DigestIndexer{Index: db}).EventsStored(ctx, es); err != nil {
			b.Fatal(err)
		}
		g.Go(func() error {
			// A loaded Cassandra times out now and then: the append is
			// idempotent, so it is tried again.
			var err error
			for range 5 {
				if err = tl.AppendEvents(ctx, es...); !store.IsRetryable(err) {
					return err
				}
			}
			return err
		})
		if i%5 == 0 {
			r := &store.Reminder{ClientID: c.ID, Broker: c.Broker, Due: from.Add(-time.Duration(i) * time.Minute), Text: "Call back", Source: "command"}
			if err := db.CreateReminder(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		if i%25 == 0 {
			r := &store.Reminder{ClientID: c.ID, Broker: c.Broker, Due: to.Add(time.Duration(i) * time.Minute), Text: "Anniversary", Source: "milestone", Key: "milestone:anniversary"}
			if err := db.CreateReminder(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	builder := &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: tl, Teams: db, Reminders: db, Index: db}
	var digest, reads time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		d, err := builder.Build(ctx, desk, from, to, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		digest += time.Since(start)
		if d.Activity.Fills != 1000 || len(d.Overdue) != brokers/5 {
			b.Fatalf("digest: %d fills, %d brokers overdue", d.Activity.Fills, len(d.Overdue))
		}
		_ = reminders.DigestText(d)

		start = time.Now()
		var g errgroup.Group
		g.SetLimit(16)
		for _, c := range all {
			g.Go(func() error {
				_, err := tl.Events(ctx, c.ID, store.EventQuery{Since: from, Until: to, Limit: 1000})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		reads += time.Since(start)
	}
	b.ReportMetric(digest.Seconds()/float64(b.N), "s/digest")
	b.ReportMetric(reads.Seconds()/float64(b.N), "s/reads")
	b.ReportMetric(float64(digest)/float64(reads), "digest/reads")
	b.Logf("%d clients, %d events", len(all), events)
}
