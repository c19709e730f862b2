// Package embedded is BrokerSync's zero-setup store: one SQLite file (pure
// Go, no cgo) under the data directory holding profiles and timelines. It
// passes the same contract tests as PostgreSQL and Cassandra and keeps its
// data across restarts; it is meant for a single desk on one machine.
package embedded

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/brokersync/brokersync/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "brokersync.db"

// DB is an open embedded store.
type DB struct {
	db     *sql.DB
	cat    *store.Catalogue // checks profiles and segments, values fills
	now    func() time.Time
	logger *slog.Logger
	// oncePurged is when expired delivery keys were last deleted (Unix µs).
	oncePurged atomic.Int64
	// skipActivity leaves the activity rows out of what records fills,
	// contacts and scores (SkipActivity).
	skipActivity atomic.Bool
}

// Open opens (creating if needed) the store in dir and applies migrations.
// The store checks profiles and segments and values fills with cat.
func Open(ctx context.Context, dir string, cat *store.Catalogue, logger *slog.Logger) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, store.Internal("create data directory", err)
	}
	// WAL lets readers run beside the writer; immediate transactions take the
	// write lock up front so two writers queue on busy_timeout instead of
	// failing with SQLITE_BUSY half-way through. Reads go through a memory
	// map of up to 1 GiB of the file, shared by every connection, rather than
	// a small page cache each: a segment count over the whole book read half
	// as fast without it.
	dsn := "file:" + filepath.Join(dir, FileName) +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(1073741824)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, store.Internal("open embedded store", err)
	}
	// database/sql keeps two idle connections by default; reopening SQLite
	// connections under load costs more than the work itself.
	db.SetMaxIdleConns(16)
	d := &DB{db: db, cat: cat, now: time.Now, logger: logger}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func (d *DB) migrate(ctx context.Context) error {
	fsys, err := fsSub()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.db, fsys)
	if err != nil {
		return store.Internal("load migrations", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return store.Internal("migrate embedded store", err)
	}
	for _, r := range results {
		d.logger.Info("migration applied", slog.String("store", "embedded"), slog.Int64("version", r.Source.Version), slog.Duration("took", r.Duration))
	}
	return nil
}

// SetClock replaces the clock used for timestamps (tests).
func (d *DB) SetClock(now func() time.Time) { d.now = now }

// Ping checks that the database file can be read.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return store.Unavailable("embedded store", err)
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// SQL returns the underlying database for packages that keep their own
// tables in the embedded store.
func (d *DB) SQL() *sql.DB { return d.db }

// inTx runs fn in a transaction, committing if it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return mapErr(tx.Commit())
}

// mapErr turns SQLite errors into store errors. Constraint violations are
// mapped by the caller, which knows which field was meant.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var se *store.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.Errorf(store.ENOTFOUND, "not found")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return store.Unavailable("embedded store", err)
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return store.Unavailable("embedded store", err)
		case sqlite3.SQLITE_CONSTRAINT:
			return &store.Error{Code: store.ECONFLICT, Message: constraintMessage(le), Err: err}
		}
	}
	return store.Internal("embedded store", err)
}

func constraintMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		return fmt.Sprintf("already exists (%s)", msg[i+len("constraint failed: "):])
	}
	return "already exists"
}

func fsSub() (fs.FS, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, store.Internal("load migrations", err)
	}
	return sub, nil
}

func timeFromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }
