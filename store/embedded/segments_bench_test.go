package embedded_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/segment"
	"github.com/brokersync/brokersync/store/storetest"
)

// segBenchNow is the benchmark's "now": the year of activity ends here.
var segBenchNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const segBenchClients = 100_000

var segBook struct {
	once      sync.Once
	dir       string
	err       error
	fills     int
	countTook time.Duration
}

var segDesks = []string{"grains-desk", "energy-desk", "metals-desk", "softs-desk"}

// segBookDir loads, once per run, 100,000 full profiles on four desks
// (40 brokers, a tenth dormant, risk 1-10, 1,000 vip and 1,000
// closed-out) with the year of activity of the PostgreSQL benchmark
// (storetest.ActivityBook), and counts every activity row as of
// segBenchNow, as the periodic job would.
func segBookDir(b *testing.B) string {
	segBook.once.Do(func() {
		segBook.dir, segBook.err = loadSegBook(b.TempDir())
	})
	if segBook.err != nil {
		b.Fatalf("loading the benchmark book: %v", segBook.err)
	}
	return segBook.dir
}

func loadSegBook(dir string) (string, error) {
	ctx := context.Background()
	db, err := embedded.Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer db.Close()
	cs := make([]*store.Client, segBenchClients)
	book := make([]storetest.BookClient, segBenchClients)
	for i := range cs {
		c := storetest.FullClient(fmt.Sprintf("bench-%06d", i), i)
		c.Team, c.Broker = segDesks[i%len(segDesks)], fmt.Sprintf("U%04d", i%40)
		c.Accounts = []string{fmt.Sprintf("ACC-%06d", i)}
		c.Phones = nil
		c.Emails = []store.Email{{Kind: store.Work, Address: fmt.Sprintf("trader%d@firm%d.example", i, i%997)}}
		c.Risk.Tolerance = 1 + (i*7919)%10
		c.Tags = []string{fmt.Sprintf("cohort-%d", i%50)}
		switch {
		case i%100 == 42:
			c.Tags = append(c.Tags, "vip")
		case i%100 == 13:
			c.Tags = append(c.Tags, "closed-out")
		}
		if i%10 == 3 {
			c.Stage = store.Dormant
		}
		cs[i] = c
	}
	if err := db.ImportClients(ctx, cs, "U0BENCH"); err != nil {
		return "", err
	}
	for i, c := range cs {
		book[i] = storetest.BookClient{ID: c.ID, Team: c.Team}
	}
	ab := storetest.NewActivityBook(book, segBenchNow)
	segBook.fills = len(ab.Fills)
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	exec := func(q string, rows int, args func(i int) []any) error {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range rows {
			if _, err := st.ExecContext(ctx, args(i)...); err != nil {
				return err
			}
		}
		return nil
	}
	micro := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMicro()
	}
	var resp []store.Responsiveness
	var respIDs []string
	for id, r := range ab.Responsiveness {
		resp, respIDs = append(resp, r), append(respIDs, id.String())
	}
	for _, step := range []struct {
		q    string
		n    int
		args func(i int) []any
	}{
		{`INSERT INTO client_fills (event_id, client_id, at, commodity, contract, side, quantity, price, notional, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			len(ab.Fills), func(i int) []any {
				f := ab.Fills[i]
				notional, cur := f.Value(store.DefaultCatalogue())
				return []any{f.EventID.String(), f.ClientID.String(), f.At.UnixMicro(), f.Commodity, f.Contract, f.Side, f.Quantity, f.Price, notional, cur}
			}},
		{`INSERT INTO client_contacts (event_id, client_id, at, kind, direction) VALUES (?, ?, ?, ?, ?)`,
			len(ab.Contacts), func(i int) []any {
				k := ab.Contacts[i]
				return []any{k.EventID.String(), k.ClientID.String(), k.At.UnixMicro(), string(k.Kind), k.Direction}
			}},
		{`INSERT INTO client_sentiment (event_id, client_id, at, score) VALUES (?, ?, ?, ?)`,
			len(ab.Scores), func(i int) []any {
				s := ab.Scores[i]
				return []any{s.EventID.String(), s.ClientID.String(), s.At.UnixMicro(), s.Score.Score}
			}},
		{`INSERT INTO client_recommendations (event_id, client_id, at, commodity) VALUES (?, ?, ?, ?)`,
			len(ab.Recommendations), func(i int) []any {
				r := ab.Recommendations[i]
				return []any{r.EventID.String(), r.ClientID.String(), r.At.UnixMicro(), r.Commodity}
			}},
		{`INSERT INTO client_responsiveness (client_id, recommendations, followed, pending, pending_until, responsive, replies, reply_median_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			len(resp), func(i int) []any {
				r := resp[i]
				var share, median sql.NullFloat64
				if v, ok := r.Share(); ok {
					share = sql.NullFloat64{Float64: v, Valid: true}
				}
				if r.Replies > 0 {
					median = sql.NullFloat64{Float64: r.ReplyMedian.Seconds(), Valid: true}
				}
				return []any{respIDs[i], r.Recommendations, r.Followed, r.Pending, micro(r.PendingUntil), share, r.Replies, median}
			}},
		// The rows the inserts above did not make, counted below as the
		// periodic job does.
		{`INSERT INTO client_stats (client_id, valid_from, valid_until) SELECT client_id, 0, 0 FROM client_fills
			UNION SELECT client_id, 0, 0 FROM client_contacts UNION SELECT client_id, 0, 0 FROM client_sentiment`, 1, func(int) []any { return nil }},
	} {
		if err := exec(step.q, step.n, step.args); err != nil {
			return "", err
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	start := time.Now()
	if _, err := db.RefreshActivity(ctx, segBenchNow); err != nil {
		return "", err
	}
	segBook.countTook = time.Since(start)
	_, err = db.SQL().ExecContext(ctx, `ANALYZE`)
	return dir, err
}

// BenchmarkSegments counts the clients of the five typical segments of
// the PostgreSQL benchmark (BenchmarkSegmentsVsRaw) on the embedded store,
// the viewer a manager of all four desks, and reports the p95.
func BenchmarkSegments(b *testing.B) {
	dir := segBookDir(b)
	db, err := embedded.Open(b.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for _, filter := range []string{
		"asset:energy risk>=7 last.contact>30d",
		"tag:vip OR notional.90d>5m",
		"stage:dormant -tag:closed-out",
		"sentiment<-0.2 trades.30d>=1",
		"responsive<0.3 broker:U0007",
	} {
		b.Run(filter, func(b *testing.B) {
			f, err := segment.Parse(filter, store.DefaultCatalogue())
			if err != nil {
				b.Fatal(err)
			}
			q := segment.Query{Filter: f, Teams: segDesks, Now: segBenchNow}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				n, err := db.CountClients(b.Context(), q)
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				if len(took) == 1 {
					b.ReportMetric(float64(n), "clients")
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[min(len(took)-1, len(took)*95/100)].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		})
	}
	b.Logf("book: %d clients, %d fills; activity rows counted in %s", segBenchClients, segBook.fills, segBook.countTook.Round(time.Millisecond))
}
