package main

import (
	"context"
	"log/slog"

	"github.com/brokersync/brokersync/internal/stores"
	"github.com/brokersync/brokersync/store/cassandra"
)

// openStores opens the backends cfg names (package stores).
func openStores(ctx context.Context, cfg Config, logger *slog.Logger) (*stores.Stores, error) {
	return stores.Open(ctx, stores.Settings{
		DataDir:     cfg.DataDir,
		PostgresURL: cfg.PostgresURL,
		Cassandra: cassandra.Config{
			Hosts:       cfg.Hosts(),
			Keyspace:    cfg.CassandraKeyspace,
			Replication: cfg.CassandraReplication,
			Consistency: cfg.CassandraConsistency,
		},
	}, logger)
}
