package embedded_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestTradeStore(t *testing.T) {
	db := open(t)
	storetest.RunTradeStoreTests(t, func(*testing.T) store.TradeStore { return db })
}

func TestStatsStore(t *testing.T) {
	db := open(t)
	storetest.RunStatsStoreTests(t, func(*testing.T) storetest.StatsStore { return db })
}

func TestSegments(t *testing.T) {
	db := open(t)
	storetest.RunSegmentTests(t, func(*testing.T) storetest.SegmentStore { return db })
}
