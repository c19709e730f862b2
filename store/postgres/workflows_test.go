package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestWorkflowStore(t *testing.T) {
	db := openStore(t)
	storetest.RunWorkflowStoreTests(t, func(*testing.T) store.WorkflowStore { return db })
}
