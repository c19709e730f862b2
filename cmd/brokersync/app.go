package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/brokersync/brokersync/internal/backends"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/postgres"
)

// openStores opens the backends cfg names (package backends), with cfg's
// catalogue, once the settings they need have been checked.
func openStores(ctx context.Context, cfg Config, logger *slog.Logger) (*backends.Stores, error) {
	if err := checkStores(ctx, cfg); err != nil {
		return nil, err
	}
	return backends.Open(ctx, backends.Settings{
		DataDir:     cfg.DataDir,
		PostgresURL: cfg.PostgresURL,
		Cassandra: cassandra.Config{
			Hosts:       cfg.Hosts(),
			Keyspace:    cfg.CassandraKeyspace,
			Replication: cfg.CassandraReplication,
			Consistency: cfg.CassandraConsistency,
		},
		Catalogue: cfg.cat,
	}, logger)
}

// checkStores refuses, before any store is opened and so before any
// migration runs anywhere, a data directory that cannot be created or
// written and a PostgreSQL URL whose server does not answer or refuses the
// connection, with one line that names the setting (and never the password).
func checkStores(ctx context.Context, cfg Config) error {
	if cfg.PostgresURL == "" || len(cfg.Hosts()) == 0 {
		if err := checkDataDir(cfg.DataDir); err != nil {
			return fmt.Errorf("config: BROKERSYNC_DATA_DIR (-data-dir) %s: %s", cfg.DataDir, oneLine(err.Error()))
		}
	}
	if cfg.PostgresURL != "" {
		if err := postgres.Reachable(ctx, cfg.PostgresURL); err != nil {
			return fmt.Errorf("config: BROKERSYNC_POSTGRES_URL (-postgres-url) %s: %s", redact(cfg.PostgresURL), oneLine(err.Error()))
		}
	}
	return nil
}

// checkDataDir creates the embedded store's directory if need be and checks
// that a file can be written in it.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cannot create the directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".brokersync-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in the directory: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// oneLine folds a multi-line error into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
