package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks/web"
)

// BenchmarkTimelinePage100k measures the server time of a client's
// timeline page (first view: a year's overview and the newest 50 events)
// when the client has 100,000 events over a year, on the embedded store
// and on PostgreSQL + Cassandra,
// and reports the page's weight, the p95 of single requests and the CPU
// time a page costs.
//
//	go test -run '^$' -bench TimelinePage100k -benchtime 50x ./webhooks/web/
func BenchmarkTimelinePage100k(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		db, err := embedded.Open(context.Background(), b.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchTimelinePage(b, db, db, db.Timeline())
	})
	b.Run("postgres+cassandra", func(b *testing.B) {
		pg := backendtest.Postgres(b)
		benchTimelinePage(b, pg, pg, backendtest.Cassandra(b))
	})
}

func benchTimelinePage(b *testing.B, clients store.ClientStore, teams store.TeamStore, timeline store.TimelineStore) {
	n := 100_000
	if s := os.Getenv("BROKERSYNC_BENCH_EVENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	handle := "big-" + uuid.NewString()[:8]
	c := &store.Client{Handle: handle, Name: "Big Client", Team: "grain"}
	if err := clients.CreateClient(ctx, c, "UADMIN"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	kinds := []store.Kind{store.KindEmail, store.KindChat, store.KindCall, store.KindOrder, store.KindNote, store.KindFeedback}
	batch := make([]*store.Event, 0, 1000)
	for i := range n {
		e := &store.Event{ClientID: c.ID, Time: now.Add(-365 * 24 * time.Hour / time.Duration(n) * time.Duration(i)), Kind: kinds[i%len(kinds)],
			Source: "bench", SourceID: handle + "-" + strconv.Itoa(i), Summary: fmt.Sprintf("event %d about corn basis and the Dec hedge", i)}
		if i%3 == 0 {
			e.Sentiment = &store.Sentiment{Score: float64(i%7-3) / 3, Label: []string{"negative", "neutral", "positive"}[i%3]}
		}
		if e.Kind == store.KindOrder {
			e.Attrs.Order = &store.OrderAttrs{Status: "filled", Side: "buy", Quantity: float64(1 + i%50), Price: 450, Contract: "ZCZ6"}
		}
		if err := e.Prepare(); err != nil {
			b.Fatal(err)
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) || i == n-1 {
			// A busy machine may time a write out: retried whole, as the
			// store asks.
			err := timeline.AppendEvents(ctx, batch...)
			for try := 0; store.ErrorCode(err) == store.EUNAVAILABLE && try < 5; try++ {
				err = timeline.AppendEvents(ctx, batch...)
			}
			if err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Cassandra counts days behind the appends: a page viewed long after
	// them finds them counted.
	if c, ok := timeline.(interface{ CountDays(context.Context) error }); ok {
		if err := c.CountDays(ctx); err != nil {
			b.Fatal(err)
		}
	}
	links := web.Links{BaseURL: "http://x", Key: []byte("0123456789abcdef0123456789abcdef")}
	pages := &web.Pages{Clients: clients, Timeline: timeline, Links: links, Rights: bot.Rights{Catalogue: store.DefaultCatalogue(), Teams: teams, Admins: []string{"UADMIN"}},
		Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
	r := chi.NewRouter()
	pages.Mount(r)
	cookie := links.NewSession("UADMIN", now)
	var gzipped int
	get := func() (int, time.Duration) {
		req := httptest.NewRequest(http.MethodGet, "/clients/"+handle+"/timeline", nil)
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		start := time.Now()
		r.ServeHTTP(w, req)
		d := time.Since(start)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		body, _ := io.ReadAll(w.Body)
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body)
		zw.Close()
		gzipped = z.Len()
		return len(body), d
	}
	size, _ := get()
	var times []time.Duration
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		_, d := get()
		times = append(times, d)
	}
	b.StopTimer()
	// CPU time of the process per page: what the page costs on a machine
	// that others keep busy, where the wall time mostly waits for a core.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	p95 := times[(len(times)*95+99)/100-1]
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(size)/1024, "page-KB")
	b.ReportMetric(float64(gzipped)/1024, "gzip-KB")
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
