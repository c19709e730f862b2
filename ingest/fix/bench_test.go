package fix_test

// ExecutionReports end to end: the order system's acceptor sends b.N fills
// on one session over loopback; the benchmark ends when every one is on the
// timeline and counted in the statistics.
//
//	go test -run '^$' -bench ExecutionReports -benchtime 3000x ./ingest/fix/
//
// The postgres+cassandra case runs when the test environment has them.

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/brokersync/brokersync/ingest/fix"
)

func BenchmarkExecutionReports(b *testing.B) {
	b.Run("embedded", func(b *testing.B) { benchReports(b, embeddedStores(b)) })
	b.Run("postgres+cassandra", func(b *testing.B) { benchReports(b, realStores(b)) })
}

func benchReports(b *testing.B, s stores) {
	c := newClient(b, s)
	acct := c.Accounts[0]
	oms, bs := compIDs(b)
	o := startOrderSystem(b, oms, bs, "", "", false)
	bsync := startBrokerSync(b, s, bs, oms, port(o.addr), b.TempDir(), "", 0)
	stored := bsync.metrics.Reports.WithLabelValues(fix.ResultStored)
	o.waitLogon(b)
	now := time.Now().UTC()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		f := fill(acct, fmt.Sprintf("%s-B-%d", acct, i), 1, 1, "452.25", now)
		f[38], f[39] = "1", "2"
		o.send(b, f)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for testutil.ToFloat64(stored) < float64(b.N) {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
	if got := read(b, s, c); got.trades != b.N || got.events != b.N {
		b.Errorf("%d trades, %d events; want %d", got.trades, got.events, b.N)
	}
}
