package cassandra_test

// Benchmarks against the test Cassandra (scripts/services.sh start cassandra,
// then source .run/env for BROKERSYNC_TEST_CASSANDRA_HOSTS):
//
//	go test -run '^$' -bench 'AppendBatch|RawInsert|AppendVsRaw' -benchtime 60x -count 3 ./store/cassandra/
//	go test -run '^$' -bench Newest50 -benchtime 2000x -count 2 ./store/cassandra/
//
// BenchmarkAppendBatch and BenchmarkRawInsert write identical rows (the same
// events, event_ids and client_buckets rows), so their events/s compare our
// AppendEvents with the best we found doing the same by hand with the
// driver; BenchmarkAppendVsRaw alternates the two within one benchmark, which
// keeps the comparison fair on a machine shared with other work. Shapes:
// "import" is 500 events of one client over three months (a CSV import, a
// mailbox backfill); "live" is 500 events of 50 clients over the last 20 days
// (a burst of ingest).

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
)

const batchSize = 500

type shape struct {
	name    string
	clients int
	span    time.Duration
}

var shapes = []shape{
	{"import", 1, 90 * 24 * time.Hour},
	{"live", 50, 20 * 24 * time.Hour},
}

var benchSeq struct {
	sync.Mutex
	n int
}

// makeBatch returns batchSize prepared events shaped like s, each with a new
// source id.
func makeBatch(rng *rand.Rand, s shape, end time.Time) []*store.Event {
	clients := make([]uuid.UUID, s.clients)
	for i := range clients {
		clients[i] = uuid.New()
	}
	benchSeq.Lock()
	first := benchSeq.n
	benchSeq.n += batchSize
	benchSeq.Unlock()
	evs := make([]*store.Event, batchSize)
	for i := range evs {
		kind := store.Kinds[rng.IntN(len(store.Kinds))]
		e := &store.Event{
			ClientID: clients[i%len(clients)],
			Time:     end.Add(-time.Duration(rng.Int64N(int64(s.span)))),
			Kind:     kind,
			Source:   "bench",
			SourceID: fmt.Sprintf("%d", first+i),
			Actor:    "U0BROKER",
			Summary:  "Discussed the December corn hedge and basis levels for the next delivery window",
			Body:     strings.Repeat("Client asked about spreads and margin; agreed to revisit after the WASDE report. ", 1+rng.IntN(8)),
		}
		switch kind {
		case store.KindOrder:
			e.Attrs.Order = &store.OrderAttrs{OrderID: "ORD-1", Status: "filled", Commodity: "corn", Contract: "ZCZ6", Side: "buy", Quantity: 10, Filled: 10, Price: 4.37}
		case store.KindEmail, store.KindChat, store.KindCall, store.KindFeedback:
			e.Sentiment = &store.Sentiment{Score: rng.Float64()*2 - 1, Label: "neutral"}
		}
		if err := e.Prepare(); err != nil {
			panic(err)
		}
		evs[i] = e
	}
	return evs
}

func makeBatches(n int, s shape) [][]*store.Event {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	end := time.Now().UTC()
	out := make([][]*store.Event, n)
	for i := range out {
		out[i] = makeBatch(rng, s, end)
	}
	return out
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(0, "ns/op") // per-batch time is in events/s; keep the table short
}

func BenchmarkAppendBatch(b *testing.B) {
	tl := open(b)
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			batches := makeBatches(b.N, s)
			b.ResetTimer()
			for i := range b.N {
				if err := tl.AppendEvents(b.Context(), batches[i]...); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N*batchSize)
		})
	}
}

// rawRows turns events into the exact rows AppendEvents writes, as driver
// statements: events rows, then per client its buckets and event ids.
type rawStmt struct {
	cql  string
	args []any
	part string // partition, for grouping into batches
}

const (
	rawInsertEvent = `INSERT INTO events (client_id, bucket, time, id, kind, source, source_id, actor, summary, body,
		truncated, sentiment, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	rawInsertID     = `INSERT INTO event_ids (client_id, id, time) VALUES (?, ?, ?)`
	rawInsertBucket = `INSERT INTO client_buckets (client_id, bucket) VALUES (?, ?)`
)

func rawRows(evs []*store.Event) []rawStmt {
	var out []rawStmt
	seen := map[string]bool{}
	for _, e := range evs {
		attrs, _ := json.Marshal(e.Attrs)
		var sentiment []byte
		if e.Sentiment != nil {
			sentiment, _ = json.Marshal(e.Sentiment)
		}
		bucket := cassandra.BucketOf(e.Time)
		out = append(out, rawStmt{rawInsertEvent, []any{[16]byte(e.ClientID), bucket, e.Time, [16]byte(e.ID), string(e.Kind),
			e.Source, e.SourceID, e.Actor, e.Summary, e.Body, e.Truncated, string(sentiment), string(attrs)},
			fmt.Sprint(e.ClientID, bucket)})
		out = append(out, rawStmt{rawInsertID, []any{[16]byte(e.ClientID), [16]byte(e.ID), e.Time}, e.ClientID.String()})
		if k := fmt.Sprint(e.ClientID, bucket); !seen[k] {
			seen[k] = true
			out = append(out, rawStmt{rawInsertBucket, []any{[16]byte(e.ClientID), bucket}, e.ClientID.String()})
		}
	}
	return out
}

// BenchmarkRawInsert writes AppendBatch's rows with the driver directly, two
// ways: every row its own prepared INSERT with many in flight, and one
// unlogged batch per partition (chunks of 100) with a bounded number in
// flight. The rows are built before the timer starts, so raw pays nothing
// for validation or JSON.
func BenchmarkRawInsert(b *testing.B) {
	tl := open(b)
	s := tl.Session()
	for _, sh := range shapes {
		for _, inflight := range []int{16, 64} {
			b.Run(fmt.Sprintf("%s/rows-inflight=%d", sh.name, inflight), func(b *testing.B) {
				rows := rawBatches(b.N, sh)
				b.ResetTimer()
				for i := range b.N {
					g, ctx := errgroup.WithContext(b.Context())
					g.SetLimit(inflight)
					for _, r := range rows[i] {
						g.Go(func() error { return s.Query(r.cql, r.args...).ExecContext(ctx) })
					}
					if err := g.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, b.N*batchSize)
			})
		}
		b.Run(sh.name+"/partition-batches-inflight=8", func(b *testing.B) {
			batches := make([][]*gocql.Batch, b.N)
			for i, rows := range rawBatches(b.N, sh) {
				batches[i] = partitionBatches(s, rows)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := execBatches(b.Context(), batches[i], 8); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N*batchSize)
		})
	}
}

// partitionBatches groups rows by partition into unlogged batches of at
// most 100 statements.
func partitionBatches(s *gocql.Session, rows []rawStmt) []*gocql.Batch {
	byPart := map[string][]gocql.BatchEntry{}
	var parts []string
	for _, r := range rows {
		if _, ok := byPart[r.part]; !ok {
			parts = append(parts, r.part)
		}
		byPart[r.part] = append(byPart[r.part], gocql.BatchEntry{Stmt: r.cql, Args: r.args, Idempotent: true})
	}
	var out []*gocql.Batch
	for _, p := range parts {
		for chunk := range slices.Chunk(byPart[p], 100) {
			bt := s.Batch(gocql.UnloggedBatch)
			bt.Entries = chunk
			out = append(out, bt)
		}
	}
	return out
}

func execBatches(ctx context.Context, batches []*gocql.Batch, inflight int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(inflight)
	for _, bt := range batches {
		g.Go(func() error { return bt.ExecContext(ctx) })
	}
	return g.Wait()
}

// BenchmarkAppendVsRaw alternates one AppendEvents batch and one raw
// partition-batch write of the same shape, timing each, so that load from
// anything else on the machine hits both alike; it reports both rates and
// their ratio.
func BenchmarkAppendVsRaw(b *testing.B) {
	tl := open(b)
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			ours := makeBatches(b.N, sh)
			raw := make([][]*gocql.Batch, b.N)
			for i, rows := range rawBatches(b.N, sh) {
				raw[i] = partitionBatches(tl.Session(), rows)
			}
			var tOurs, tRaw time.Duration
			b.ResetTimer()
			for i := range b.N {
				runOurs := func() {
					start := time.Now()
					if err := tl.AppendEvents(b.Context(), ours[i]...); err != nil {
						b.Fatal(err)
					}
					tOurs += time.Since(start)
				}
				runRaw := func() {
					start := time.Now()
					if err := execBatches(b.Context(), raw[i], 8); err != nil {
						b.Fatal(err)
					}
					tRaw += time.Since(start)
				}
				if i%2 == 0 {
					runOurs()
					runRaw()
				} else {
					runRaw()
					runOurs()
				}
			}
			n := float64(b.N * batchSize)
			b.ReportMetric(n/tOurs.Seconds(), "ours-events/s")
			b.ReportMetric(n/tRaw.Seconds(), "raw-events/s")
			b.ReportMetric(tRaw.Seconds()/tOurs.Seconds(), "ours/raw")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func rawBatches(n int, sh shape) [][]rawStmt {
	out := make([][]rawStmt, n)
	for i, evs := range makeBatches(n, sh) {
		out[i] = rawRows(evs)
	}
	return out
}

// bigClient is one client with 100,000 events over three years, loaded once
// per run for the read benchmarks.
var bigClient struct {
	once sync.Once
	id   uuid.UUID
	err  error
	took time.Duration
}

const bigClientEvents = 100_000

func loadBigClient(b *testing.B, tl *cassandra.Timeline) uuid.UUID {
	bigClient.once.Do(func() {
		start := time.Now()
		bigClient.id = uuid.New()
		rng := rand.New(rand.NewPCG(42, 42))
		end := time.Now().UTC()
		span := int64(3 * 365 * 24 * time.Hour)
		g, ctx := errgroup.WithContext(b.Context())
		g.SetLimit(2)
		for i := 0; i < bigClientEvents; i += batchSize {
			batch := makeBatch(rng, shape{clients: 1, span: time.Hour}, end)
			for _, e := range batch {
				e.ClientID = bigClient.id
				e.Time = end.Add(-time.Duration(rng.Int64N(span))).Truncate(time.Millisecond)
			}
			g.Go(func() error { return tl.AppendEvents(ctx, batch...) })
		}
		bigClient.err = g.Wait()
		bigClient.took = time.Since(start)
		if bigClient.err == nil {
			waitForCompactions(b, tl)
		}
	})
	if bigClient.err != nil {
		b.Fatalf("load %d events: %v", bigClientEvents, bigClient.err)
	}
	b.Logf("client %s: %d events loaded in %v", bigClient.id, bigClientEvents, bigClient.took.Round(time.Millisecond))
	return bigClient.id
}

// BenchmarkNewest50 reads the newest 50 events of a client with 100,000
// events, the timeline view's first page, and reports latency percentiles.
// Sub-benchmarks: all kinds; one kind (server-side filtering in the
// partition); the page after a cursor 1,000 events deep; and Ping, one
// trivial request, as the floor this machine and server give any request.
func BenchmarkNewest50(b *testing.B) {
	tl := open(b)
	client := loadBigClient(b, tl)
	first, err := tl.Events(b.Context(), client, store.EventQuery{Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	read := func(q store.EventQuery) func() error {
		return func() error {
			page, err := tl.Events(b.Context(), client, q)
			if err == nil && len(page.Events) != q.Limit {
				err = fmt.Errorf("got %d events, want %d", len(page.Events), q.Limit)
			}
			return err
		}
	}
	for _, c := range []struct {
		name string
		op   func() error
	}{
		{"all", read(store.EventQuery{Limit: 50})},
		{"calls", read(store.EventQuery{Kinds: []store.Kind{store.KindCall}, Limit: 50})},
		{"after-1000", read(store.EventQuery{Limit: 50, Cursor: first.Next})},
		{"ping-floor", func() error { return tl.Ping(b.Context()) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				err := c.op()
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// waitForCompactions waits (up to two minutes) until Cassandra has no
// compaction running on the test keyspace, so that read latencies measure
// reads rather than reads competing with the compaction of the load.
func waitForCompactions(b *testing.B, tl *cassandra.Timeline) {
	keyspace := backendtest.CassandraConfig(b).Keyspace
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		busy := false
		iter := tl.Session().Query(`SELECT keyspace_name FROM system_views.sstable_tasks`).IterContext(b.Context())
		var ks string
		for iter.Scan(&ks) {
			busy = busy || ks == keyspace
		}
		if err := iter.Close(); err != nil {
			b.Logf("cannot see compactions (%v); not waiting", err)
			return
		}
		if !busy {
			return
		}
		time.Sleep(time.Second)
	}
}
