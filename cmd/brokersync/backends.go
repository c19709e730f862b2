package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/postgres"
)

func openPostgres(ctx context.Context, cfg Config, logger *slog.Logger) (*postgres.DB, error) {
	db, err := postgres.Open(ctx, cfg.PostgresURL, logger)
	if err != nil {
		return nil, err
	}
	logger.Info("postgres store open")
	return db, nil
}

func openCassandra(ctx context.Context, cfg Config, logger *slog.Logger) (*cassandra.Timeline, error) {
	tl, err := cassandra.Open(ctx, cassandra.Config{
		Hosts:       cfg.Hosts(),
		Keyspace:    cfg.CassandraKeyspace,
		Replication: cfg.CassandraReplication,
		Consistency: cfg.CassandraConsistency,
		Timeout:     5 * time.Second,
	}, logger)
	if err != nil {
		return nil, err
	}
	logger.Info("cassandra timeline open", slog.Any("hosts", cfg.Hosts()), slog.String("keyspace", cfg.CassandraKeyspace))
	return tl, nil
}
