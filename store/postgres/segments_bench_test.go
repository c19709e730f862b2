package postgres_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// segNow is the benchmark's "now": the year of statistics ends here.
var segBenchNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

var statsBook struct {
	once  sync.Once
	err   error
	fills int
}

// statsURL gives the 100,000-client book a year of activity from a seeded
// generator: per client 0-7 fills in commodities of its desk's class (a
// tenth trade up to 25 more), 0-12 real contacts, 0-6 scored messages; a
// tenth of clients dormant, risk 1-10, a few hundred vip and closed-out.
func statsURL(b *testing.B) string {
	url := bookURL(b)
	statsBook.once.Do(func() {
		ctx := context.Background()
		db := openBook(b, url)
		pool := db.Pool()
		rows, err := pool.Query(ctx, `SELECT id, team FROM clients ORDER BY handle`)
		if err != nil {
			statsBook.err = err
			return
		}
		type cl struct {
			id   uuid.UUID
			team string
		}
		var cls []cl
		for rows.Next() {
			var c cl
			if statsBook.err = rows.Scan(&c.id, &c.team); statsBook.err != nil {
				rows.Close()
				return
			}
			cls = append(cls, c)
		}
		rows.Close()
		byClass := map[string][]store.Commodity{}
		for _, c := range store.DefaultCatalogue().Commodities() {
			byClass[string(c.Class)] = append(byClass[string(c.Class)], c)
		}
		deskClass := map[string]string{"grains-desk": "agriculture", "energy-desk": "energy", "metals-desk": "metals", "softs-desk": "softs"}
		rng := rand.New(rand.NewPCG(42, 2026))
		var fills, contacts, scores [][]any
		year := 365 * 24 * time.Hour
		for _, c := range cls {
			pool := byClass[deskClass[c.team]]
			n := rng.IntN(8)
			if rng.IntN(10) == 0 {
				n += rng.IntN(25) // the heavy traders
			}
			for range n {
				com := pool[rng.IntN(len(pool))]
				qty := float64(1 + rng.IntN(20))
				price := 10 + rng.Float64()*100
				at := segBenchNow.Add(-time.Duration(rng.Int64N(int64(year))))
				cur := ""
				notional := 0.0
				if com.Currency != "" {
					cur, notional = com.Currency, com.Notional(qty, price)
				}
				fills = append(fills, []any{uuid.New(), c.id, at, com.Key, "X", "buy", qty, price, notional, cur})
			}
			for range rng.IntN(13) {
				dir := []string{"inbound", "outbound", "both"}[rng.IntN(3)]
				kind := []string{"email", "chat", "call", "meeting"}[rng.IntN(4)]
				contacts = append(contacts, []any{uuid.New(), c.id, segBenchNow.Add(-time.Duration(rng.Int64N(int64(year)))), kind, dir})
			}
			for range rng.IntN(7) {
				scores = append(scores, []any{uuid.New(), c.id, segBenchNow.Add(-time.Duration(rng.Int64N(int64(90 * 24 * time.Hour)))), rng.Float64()*2 - 1})
			}
		}
		for _, t := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"client_fills", []string{"event_id", "client_id", "at", "commodity", "contract", "side", "quantity", "price", "notional", "currency"}, fills},
			{"client_contacts", []string{"event_id", "client_id", "at", "kind", "direction"}, contacts},
			{"client_sentiment", []string{"event_id", "client_id", "at", "score"}, scores},
		} {
			if _, statsBook.err = pool.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); statsBook.err != nil {
				return
			}
		}
		statsBook.fills = len(fills)
		for _, q := range []string{
			`UPDATE clients SET stage = 'dormant' WHERE right(handle, 1) = '3'`,
			`UPDATE clients SET risk_tolerance = 1 + (abs(hashtext(handle)) % 10)`,
			`INSERT INTO client_tags (client_id, tag) SELECT id, 'vip' FROM clients WHERE right(handle, 2) = '42'`,
			`INSERT INTO client_tags (client_id, tag) SELECT id, 'closed-out' FROM clients WHERE right(handle, 2) = '13'`,
			`VACUUM ANALYZE`,
		} {
			if _, statsBook.err = pool.Exec(ctx, q); statsBook.err != nil {
				return
			}
		}
	})
	if statsBook.err != nil {
		b.Fatalf("loading statistics: %v", statsBook.err)
	}
	return url
}

// segmentBench is a typical segment and the same question hand-written.
type segmentBench struct {
	name, filter string
	raw          string
	args         func(now time.Time) []any
}

func keysOf(class store.AssetClass) []string {
	var out []string
	for _, c := range store.DefaultCatalogue().Commodities() {
		if c.Class == class {
			out = append(out, c.Key)
		}
	}
	return out
}

var day = 24 * time.Hour

var segmentBenches = []segmentBench{
	{
		name: "energy-risk7-quiet30d", filter: "asset:energy risk>=7 last.contact>30d",
		raw: `SELECT count(*) FROM clients c WHERE c.team = ANY($1) AND c.risk_tolerance >= 7
			AND (c.profile->'trading'->'commodities' ?| $2
			     OR EXISTS (SELECT 1 FROM client_fills f WHERE f.client_id = c.id AND f.commodity = ANY($2) AND f.at > $3 AND f.at <= $4))
			AND NOT EXISTS (SELECT 1 FROM client_contacts k WHERE k.client_id = c.id AND k.at > $5 AND k.at <= $4)`,
		args: func(now time.Time) []any {
			return []any{benchDesks, keysOf(store.Energy), now.Add(-365 * day), now, now.Add(-30 * day)}
		},
	},
	{
		name: "vip-or-notional90d-5m", filter: "tag:vip OR notional.90d>5m",
		raw: `SELECT count(*) FROM clients c WHERE c.team = ANY($1)
			AND (EXISTS (SELECT 1 FROM client_tags t WHERE t.client_id = c.id AND t.tag = 'vip')
			     OR (SELECT coalesce(sum(notional), 0) FROM client_fills f WHERE f.client_id = c.id AND f.currency = 'USD' AND f.at > $2 AND f.at <= $3) > 5e6)`,
		args: func(now time.Time) []any { return []any{benchDesks, now.Add(-90 * day), now} },
	},
	{
		name: "dormant-not-closed-out", filter: "stage:dormant -tag:closed-out",
		raw: `SELECT count(*) FROM clients c WHERE c.team = ANY($1) AND c.stage = 'dormant'
			AND NOT EXISTS (SELECT 1 FROM client_tags t WHERE t.client_id = c.id AND t.tag = 'closed-out')`,
		args: func(time.Time) []any { return []any{benchDesks} },
	},
	{
		name: "sour-and-trading", filter: "sentiment<-0.2 trades.30d>=1",
		raw: `SELECT count(*) FROM clients c WHERE c.team = ANY($1)
			AND (SELECT avg(score) FROM client_sentiment s WHERE s.client_id = c.id AND s.at > $2 AND s.at <= $3) < -0.2
			AND EXISTS (SELECT 1 FROM client_fills f WHERE f.client_id = c.id AND f.at > $2 AND f.at <= $3)`,
		args: func(now time.Time) []any { return []any{benchDesks, now.Add(-30 * day), now} },
	},
	{
		name: "broker-quiet60d", filter: "broker:U0007 last.contact>60d",
		raw: `SELECT count(*) FROM clients c WHERE c.team = ANY($1) AND c.broker = 'U0007'
			AND NOT EXISTS (SELECT 1 FROM client_contacts k WHERE k.client_id = c.id AND k.at > $2 AND k.at <= $3)`,
		args: func(now time.Time) []any { return []any{benchDesks, now.Add(-60 * day), now} },
	},
}

// benchDesks is a manager of every desk of the book: rights are applied
// but narrow nothing, so the whole book is searched.
var benchDesks = []string{"energy-desk", "grains-desk", "metals-desk", "softs-desk"}

// BenchmarkSegmentsVsRaw counts the clients of five typical segments
// through the filter language (CountClients) and through the same question
// hand-written in SQL, alternately, on 100,000 clients with a year of
// activity; it reports both p95s and their ratio, and checks both agree.
func BenchmarkSegmentsVsRaw(b *testing.B) {
	url := statsURL(b)
	db := openBook(b, url)
	pool := db.Pool()
	for _, sb := range segmentBenches {
		b.Run(sb.name, func(b *testing.B) {
			ctx := b.Context()
			f, err := segment.Parse(sb.filter, store.DefaultCatalogue())
			if err != nil {
				b.Fatal(err)
			}
			q := segment.Query{Filter: f, Teams: benchDesks, Now: segBenchNow}
			var ours, raw []time.Duration
			i := 0
			for b.Loop() {
				var n [2]int
				for _, which := range [2]int{i % 2, 1 - i%2} {
					start := time.Now()
					if which == 0 {
						n[0], err = db.CountClients(ctx, q)
					} else {
						err = pool.QueryRow(ctx, sb.raw, sb.args(segBenchNow)...).Scan(&n[1])
					}
					if err != nil {
						b.Fatal(err)
					}
					if which == 0 {
						ours = append(ours, time.Since(start))
					} else {
						raw = append(raw, time.Since(start))
					}
				}
				if n[0] != n[1] {
					b.Fatalf("%s: the filter counts %d clients, the hand-written query %d", sb.filter, n[0], n[1])
				}
				if i == 0 {
					b.ReportMetric(float64(n[0]), "clients")
				}
				i++
			}
			p95 := func(ds []time.Duration) time.Duration {
				slices.Sort(ds)
				return ds[min(len(ds)-1, len(ds)*95/100)]
			}
			po, pr := p95(ours), p95(raw)
			b.ReportMetric(float64(po.Microseconds())/1000, "ours-p95-ms")
			b.ReportMetric(float64(pr.Microseconds())/1000, "raw-p95-ms")
			b.ReportMetric(float64(po)/float64(pr), "ours/raw")
		})
	}
	b.Logf("book: %d clients, %d fills", benchClients, statsBook.fills)
}
