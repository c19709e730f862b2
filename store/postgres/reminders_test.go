package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store/storetest"
)

// Claims take every due reminder in the database, so each subtest has its own.
func TestReminderStore(t *testing.T) {
	storetest.RunReminderStoreTests(t, func(t *testing.T) storetest.ReminderBackend { return openStore(t) })
}
