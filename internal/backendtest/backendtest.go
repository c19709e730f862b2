// Package backendtest opens the real PostgreSQL and Cassandra that
// `make test` starts, for the tests of one package: a database and a
// keyspace of the package's own, created on first use, shared by its tests
// (which keep apart by their own clients) and dropped when they end.
// Creating a keyspace costs seconds of DDL; a client id costs nothing.
//
// A package that uses it runs its tests through Main:
//
//	func TestMain(m *testing.M) { backendtest.Main(m) }
//
// Without the servers the tests skip, or fail under `make test` and in CI
// (see package testenv). With -short they skip.
//
// `go test ./...` runs several test binaries at once. One test stops and
// starts Cassandra (StopsCassandra); the others must not be using it then.
// Every binary that opens Cassandra holds a shared lock on a file in the
// services' run directory until it ends, and StopsCassandra takes it
// exclusively.
package backendtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/postgres"
)

var run struct {
	inMain bool
	suffix string // names this test binary's database and keyspace

	pgOnce   sync.Once
	pgServer string // URL of the server's default database
	pgName   string // the database created, "" if none
	pgURL    string
	pg       *postgres.DB
	pgErr    error

	casOnce sync.Once
	casCfg  cassandra.Config
	tl      *cassandra.Timeline
	casErr  error
	casLock *os.File // nil when there is no run directory to lock in
}

// Main runs the tests, drops the database and keyspace they used, and exits.
func Main(m *testing.M) {
	b := make([]byte, 6)
	rand.Read(b)
	run.inMain, run.suffix = true, hex.EncodeToString(b)
	code := m.Run()
	if err := drop(); err != nil {
		fmt.Fprintln(os.Stderr, "backendtest:", err)
	}
	os.Exit(code)
}

func drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if run.tl != nil {
		// A busy node may take longer than one request timeout to drop a
		// keyspace; the drop goes on server-side and IF EXISTS makes a
		// retry safe.
		var err error
		for range 3 {
			if err = run.tl.Session().Query(`DROP KEYSPACE IF EXISTS ` + run.casCfg.Keyspace).ExecContext(ctx); err == nil {
				break
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("drop keyspace %s: %w", run.casCfg.Keyspace, err))
		}
		run.tl.Close()
	}
	if run.pg != nil {
		run.pg.Close()
	}
	if run.pgName != "" {
		if err := DropDatabase(ctx, run.pgServer, run.pgName); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", run.pgName, err))
		}
	}
	return errors.Join(errs...)
}

func check(t testing.TB) {
	t.Helper()
	if !run.inMain {
		t.Fatal("backendtest: the package's TestMain must call backendtest.Main, which drops what the tests created")
	}
	if testing.Short() {
		t.Skip("-short: skipping the real backends")
	}
}

// Logger is the logger the stores are opened with: warnings and errors only.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// PostgresURL returns the URL of the package's database, created and
// migrated on first use, for a test that opens its own connections (a child
// process, a second store).
func PostgresURL(t testing.TB) string {
	t.Helper()
	Postgres(t)
	return run.pgURL
}

// Postgres returns a store on the package's database.
func Postgres(t testing.TB) *postgres.DB {
	t.Helper()
	check(t)
	server := testenv.PostgresURL(t)
	run.pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		run.pg, run.pgErr = openPostgres(ctx, server, "bs_test_"+run.suffix)
	})
	if run.pgErr != nil {
		t.Fatalf("open the test PostgreSQL database: %v", run.pgErr)
	}
	return run.pg
}

func openPostgres(ctx context.Context, server, name string) (*postgres.DB, error) {
	u, err := CreateDatabase(ctx, server, name, "")
	if err != nil {
		return nil, err
	}
	run.pgServer, run.pgName, run.pgURL = server, name, u
	return postgres.Open(ctx, u, store.DefaultCatalogue(), Logger())
}

// CreateDatabase creates the database name on the PostgreSQL server at
// serverURL, as a copy of template unless that is "", and returns its URL.
func CreateDatabase(ctx context.Context, serverURL, name, template string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%q is not a postgres:// URL", serverURL)
	}
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err := exec(ctx, serverURL, q); err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DropDatabase drops the database name, disconnecting whoever is still on it.
// An autovacuum worker on the database is a superuser's connection that the
// test role may not end (SQLSTATE 42501): it finishes within moments, so the
// drop is tried again for a few seconds.
func DropDatabase(ctx context.Context, serverURL, name string) error {
	stmt := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	for try := 0; ; try++ {
		err := exec(ctx, serverURL, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || try == 30 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// exec runs one statement on a connection of its own: CREATE and DROP
// DATABASE cannot run inside a transaction or on the database they name.
func exec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// CassandraConfig returns the configuration of the package's keyspace,
// created and migrated on first use, for a test that opens its own session.
func CassandraConfig(t testing.TB) cassandra.Config {
	t.Helper()
	Cassandra(t)
	return run.casCfg
}

// Cassandra returns a timeline on the package's keyspace.
func Cassandra(t testing.TB) *cassandra.Timeline {
	t.Helper()
	check(t)
	hosts := testenv.CassandraHosts(t)
	run.casOnce.Do(func() {
		if run.casErr = lockCassandra(syscall.LOCK_SH); run.casErr != nil {
			return
		}
		// A benchmark may point the tests at the cluster with
		// BROKERSYNC_TEST_CASSANDRA_HOSTS and ask for its replication and
		// consistency.
		run.casCfg = cassandra.Config{
			Hosts:       strings.Split(hosts, ","),
			Keyspace:    "brokersync_test_" + run.suffix,
			Replication: cmp.Or(os.Getenv("BROKERSYNC_TEST_CASSANDRA_REPLICATION"), "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
			Consistency: cmp.Or(os.Getenv("BROKERSYNC_TEST_CASSANDRA_CONSISTENCY"), "ONE"),
			Timeout:     10 * time.Second,
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		run.tl, run.casErr = cassandra.Open(ctx, run.casCfg, Logger())
	})
	if run.casErr != nil {
		t.Fatalf("open the test Cassandra keyspace: %v", run.casErr)
	}
	return run.tl
}

// StopsCassandra is for a test that stops and starts the shared Cassandra. It
// waits until no other test binary is using Cassandra and keeps them out
// until t ends.
func StopsCassandra(t testing.TB) {
	t.Helper()
	Cassandra(t)
	if err := lockCassandra(syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lockCassandra(syscall.LOCK_SH); err != nil {
			t.Error(err)
		}
	})
}

// lockCassandra takes the Cassandra lock as how says (LOCK_SH or LOCK_EX),
// converting the lock this binary holds. Without a run directory (servers
// not started by scripts/services.sh) there is nothing to coordinate with.
func lockCassandra(how int) error {
	if run.casLock == nil {
		dir := os.Getenv("BROKERSYNC_RUN_DIR")
		if dir == "" {
			return nil
		}
		f, err := os.OpenFile(filepath.Join(dir, "cassandra.lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return fmt.Errorf("lock Cassandra: %w", err)
		}
		run.casLock = f
	}
	for {
		err := syscall.Flock(int(run.casLock.Fd()), how)
		if err == nil {
			return nil
		}
		if err != syscall.EINTR {
			return fmt.Errorf("lock Cassandra: %w", err)
		}
	}
}
