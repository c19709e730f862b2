package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

// The checkpoint suite isolates itself by random mailbox names, so its
// subtests share one database.
func TestCheckpointStore(t *testing.T) {
	db := openStore(t)
	storetest.RunCheckpointStoreTests(t, func(*testing.T) store.CheckpointStore { return db })
}

func TestLeaseStore(t *testing.T) {
	db := openStore(t)
	storetest.RunLeaseStoreTests(t, func(*testing.T) storetest.LeaseStore { return db })
}
