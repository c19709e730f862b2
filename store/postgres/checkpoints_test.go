package postgres_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/storetest"
)

// The checkpoint suite isolates itself by random mailbox names, so it shares
// the test database with the other suites.
func TestCheckpointStore(t *testing.T) {
	url := testenv.PostgresURL(t)
	db, err := postgres.Open(context.Background(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	storetest.RunCheckpointStoreTests(t, func(*testing.T) store.CheckpointStore { return db })
}
