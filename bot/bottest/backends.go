package bottest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/postgres"
)

// Backends opens the real PostgreSQL and Cassandra that `make test` starts,
// in a database and a keyspace of their own, dropped when the test ends. It
// skips (or, under `make test`, fails) when they are not there.
func Backends(t testing.TB, logger *slog.Logger) (*postgres.DB, *cassandra.Timeline) {
	t.Helper()
	if testing.Short() {
		t.Skip("backend tests skipped in -short mode")
	}
	pgURL := testenv.PostgresURL(t)
	hosts := testenv.CassandraHosts(t)
	b := make([]byte, 5)
	rand.Read(b)
	name := "brokersync_bot_" + hex.EncodeToString(b)

	dbURL := createDatabase(t, pgURL, name)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	pg, err := postgres.Open(ctx, dbURL, logger)
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { pg.Close() })
	tl, err := cassandra.Open(ctx, cassandra.Config{
		Hosts: strings.Split(hosts, ","), Keyspace: name, Consistency: "ONE", Timeout: 10 * time.Second,
	}, logger)
	if err != nil {
		t.Fatalf("open Cassandra: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tl.Session().Query("DROP KEYSPACE IF EXISTS " + name).ExecContext(ctx); err != nil {
			t.Logf("drop keyspace %s: %v", name, err)
		}
		tl.Close()
	})
	return pg, tl
}

// createDatabase creates an empty database and returns its URL; it is
// dropped when the test ends.
func createDatabase(t testing.TB, serverURL, name string) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
