package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

// The suite isolates itself by random client ids, so its subtests share one
// database.
func TestTradeStore(t *testing.T) {
	db := openStore(t)
	storetest.RunTradeStoreTests(t, func(*testing.T) store.TradeStore { return db })
}

func TestStatsStore(t *testing.T) {
	db := openStore(t)
	storetest.RunStatsStoreTests(t, func(*testing.T) storetest.StatsStore { return db })
}

func TestSegments(t *testing.T) {
	db := openStore(t)
	storetest.RunSegmentTests(t, func(*testing.T) storetest.SegmentStore { return db })
}

// Activity columns against the definitions, on a database of its own, as
// the test moves the store's clock.
func TestActivityProperty(t *testing.T) {
	storetest.RunActivityProperty(t, func(t *testing.T) storetest.ActivityStore { return openStore(t) })
}
