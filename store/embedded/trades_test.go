package embedded_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestTradeStore(t *testing.T) {
	db, err := embedded.Open(context.Background(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	storetest.RunTradeStoreTests(t, func(*testing.T) store.TradeStore { return db })
}
