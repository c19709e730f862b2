package cassandra_test

// Orders on the 3-node cluster against the single node, in one run:
//
//	source .run/env; source .run-cluster/env   # both (make test-cluster's run dir)
//	go test -run '^$' -bench ClusterOrders -benchtime 40x -count 3 ./store/cassandra/

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
)

// orderBatch is 100 filled orders over 20 clients, as a webhook request
// brings them.
func orderBatch(rng *rand.Rand, run string, clients []uuid.UUID, seq int) []*store.Event {
	evs := make([]*store.Event, 100)
	now := time.Now().UTC()
	for i := range evs {
		evs[i] = &store.Event{ClientID: clients[rng.IntN(len(clients))], Time: now.Add(-time.Duration(rng.IntN(1000)) * time.Millisecond),
			Kind: store.KindOrder, Source: store.SourceOrders, SourceID: fmt.Sprintf("bench-%s-%d-%d", run, seq, i), Actor: "oms",
			Summary: "Filled buy 10 ZCZ6 @ 4.37",
			Attrs:   store.Attrs{Order: &store.OrderAttrs{OrderID: fmt.Sprintf("O-%d-%d", seq, i), Status: "filled", Contract: "ZCZ6", Side: "buy", Quantity: 10, Filled: 10, Price: 4.37}}}
	}
	return evs
}

// BenchmarkClusterOrders appends order batches, 4 requests in flight, to the
// single node (replication 1) and to the cluster (replication 3,
// LOCAL_QUORUM), alternating rounds so that load from elsewhere hits both
// alike; it reports both rates and the cluster's as a fraction of the single
// node's.
func BenchmarkClusterOrders(b *testing.B) {
	single, clusterHosts := os.Getenv("BROKERSYNC_TEST_CASSANDRA_HOSTS"), os.Getenv("BROKERSYNC_TEST_CASSANDRA_CLUSTER_HOSTS")
	if single == "" || clusterHosts == "" {
		b.Skip("needs BROKERSYNC_TEST_CASSANDRA_HOSTS and BROKERSYNC_TEST_CASSANDRA_CLUSTER_HOSTS")
	}
	one := open(b)
	cfg := cassandra.Config{Hosts: strings.Split(clusterHosts, ","), Keyspace: fmt.Sprintf("brokersync_bench_%d", time.Now().UnixNano()%1e9),
		Replication: "{'class': 'SimpleStrategy', 'replication_factor': 3}", Consistency: "LOCAL_QUORUM", Timeout: 10 * time.Second}
	three, err := cassandra.Open(b.Context(), cfg, backendtest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = three.Session().Query(`DROP KEYSPACE IF EXISTS ` + cfg.Keyspace).Exec()
		three.Close()
	}()
	clients := make([]uuid.UUID, 20)
	for i := range clients {
		clients[i] = uuid.New()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seq, run := 0, uuid.NewString()
	var retries atomic.Int64
	round := func(tl *cassandra.Timeline) time.Duration {
		batches := make([][]*store.Event, 8)
		for i := range batches {
			seq++
			batches[i] = orderBatch(rng, run, clients, seq)
		}
		start := time.Now()
		g, ctx := errgroup.WithContext(b.Context())
		g.SetLimit(4)
		for _, batch := range batches {
			g.Go(func() error {
				// A sender retries what is refused as unavailable (a Paxos
				// round that timed out on a loaded machine).
				for try := 0; ; try++ {
					err := tl.AppendEvents(ctx, batch...)
					if err == nil || !store.IsRetryable(err) || try == 5 {
						return err
					}
					retries.Add(1)
				}
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var tOne, tThree time.Duration
	b.ResetTimer()
	for range b.N {
		tOne += round(one)
		tThree += round(three)
	}
	events := float64(b.N * 8 * 100)
	b.ReportMetric(events/tOne.Seconds(), "single-events/s")
	b.ReportMetric(events/tThree.Seconds(), "cluster-events/s")
	b.ReportMetric(tOne.Seconds()/tThree.Seconds(), "cluster/single")
	b.ReportMetric(float64(retries.Load()), "retries")
	b.ReportMetric(0, "ns/op")
}
