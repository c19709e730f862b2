package webhooks_test

// Signed order events over real HTTP (loopback) from parallel senders, one
// event per request and in batches as an order system's drop copy sends
// them:
//
//	go test -run '^$' -bench OrdersWebhook -benchtime 20000x ./webhooks/
//
// b.N counts events. The postgres+cassandra cases run when the test
// environment has them. For a sustained run against a running server, see
// cmd/webhookload.

import (
	"bytes"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks"
)

func BenchmarkOrdersWebhook(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("embedded/batch=%d", batch), func(b *testing.B) { benchOrders(b, newEnv(b, embeddedStores(b)), batch) })
		b.Run(fmt.Sprintf("postgres+cassandra/batch=%d", batch), func(b *testing.B) { benchOrders(b, newEnv(b, realStores(b)), batch) })
	}
}

func benchOrders(b *testing.B, e *env, batch int) {
	clients := []*store.Client{e.acme, e.plains, e.idle}
	run := time.Now().UnixNano()
	var seq atomic.Int64
	requests := (b.N + batch - 1) / batch
	var sent atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(8) // 8 × GOMAXPROCS senders, so the server is the bottleneck
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := int(seq.Add(1)) - 1
			if r >= requests {
				continue // b.N events are sent in fewer requests than iterations
			}
			n := min(batch, b.N-r*batch)
			if !e.postFills(b, client, fmt.Sprintf("bench-%d-%d", run, r), clients, r, n) {
				return
			}
			sent.Add(int64(n))
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(sent.Load())/time.Since(start).Seconds(), "events/s")
	// None lost, none doubled: every event is one fill and one order on
	// the timeline (where rules may add entries of their own).
	fills, events := 0, 0
	for _, c := range clients {
		fills += e.stats(b, c).Trades365d
		events += e.countEvents(b, c, store.KindOrder)
	}
	if int(sent.Load()) != b.N || fills != b.N || events != b.N {
		b.Errorf("%d events, %d accepted; %d fills counted and %d on the timelines", b.N, sent.Load(), fills, events)
	}
}

// postFills posts one signed request of n fills, ids prefix-0 on, spread
// over clients from the r-th; a failure is reported on b and returns false.
func (e *env) postFills(b *testing.B, hc *http.Client, prefix string, clients []*store.Client, r, n int) bool {
	evs := make([]any, n)
	for i := range evs {
		evs[i] = e.fill(fmt.Sprintf("%s-%d", prefix, i), clients[(r+i)%len(clients)], 1)
	}
	body := mustJSON(map[string]any{"events": evs})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/webhooks/orders", bytes.NewReader(body))
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, e.now, body))
	resp, err := hc.Do(req)
	if err != nil {
		b.Error(err)
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d", resp.StatusCode)
		return false
	}
	return true
}
