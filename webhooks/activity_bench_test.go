package webhooks_test

// The order webhook with and without the activity rows the segment
// filters compare (store.Activity) kept in the transaction of each batch of
// fills, in the same run: two servers on the same stores take turns, b.N
// fills each, 100 a request from 8 senders (as BenchmarkOrdersWebhookWorkflows):
//
//	go test -run '^$' -bench OrdersWebhookActivity -benchtime 20000x ./webhooks/

import (
	"context"
	"log/slog"
	"testing"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

func BenchmarkOrdersWebhookActivity(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(b *testing.B) stores
	}{
		{"embedded", func(b *testing.B) stores {
			db, err := embedded.Open(context.Background(), b.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return stores{clients: db, trades: db, timeline: db.Timeline()}
		}},
		{"postgres+cassandra", func(b *testing.B) stores {
			db := backendtest.Postgres(b)
			return stores{clients: db, trades: db, timeline: backendtest.Cassandra(b)}
		}},
	} {
		b.Run(backend.name, func(b *testing.B) {
			s := backend.open(b)
			without, with := newEnv(b, s), newEnv(b, s)
			skip := s.clients.(interface{ SkipActivity(bool) }).SkipActivity
			without.turn = func() { skip(true) }
			with.turn = func() { skip(false) }
			benchPair(b, without, with)
		})
	}
}
