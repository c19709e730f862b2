package embedded_test

import (
	"testing"

	"github.com/brokersync/brokersync/store/storetest"
)

func TestReminderStore(t *testing.T) {
	storetest.RunReminderStoreTests(t, func(t *testing.T) storetest.ReminderBackend { return open(t) })
}
