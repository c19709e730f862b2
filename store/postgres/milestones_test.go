package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store/storetest"
)

// Positions and large fills are read across every client: each subtest has
// its own database.
func TestMilestoneStore(t *testing.T) {
	storetest.RunMilestoneStoreTests(t, func(t *testing.T) storetest.MilestoneBackend { return openStore(t) })
}
