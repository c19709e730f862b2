// Package postgres keeps BrokerSync's system of record in PostgreSQL:
// client profiles, their contact details and tags, and the audit trail.
//
// Open connects, brings the schema up to date and returns a *DB, which is a
// store.ClientStore. Later packages (reminders, ingest checkpoints) share its
// connection pool through Pool.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/brokersync/brokersync/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockID keys the advisory lock held while migrating. Advisory locks
// are per database, so the number only has to be distinct from other locks
// taken in BrokerSync's own database ("brokersync" in ASCII).
const migrationLockID int64 = 0x62726f6b657273

// defaultConnectTimeout bounds how long a new connection may take when the URL
// sets no connect_timeout, so an unreachable server shows up as EUNAVAILABLE
// rather than a hung start-up.
const defaultConnectTimeout = 5 * time.Second

// DB is the PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	cat    *store.Catalogue // checks profiles and segments, values fills
	logger *slog.Logger
	now    func() time.Time
	// oncePurged is when expired delivery keys were last deleted (Unix µs).
	oncePurged atomic.Int64
	// skipActivity leaves the activity rows out of what records fills,
	// contacts and scores (SkipActivity).
	skipActivity atomic.Bool
}

var _ store.ClientStore = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or key=value
// string, with pgxpool's pool_* settings), applies pending migrations and
// returns the store, which checks profiles and segments and values fills
// with cat. EINVALID for a malformed url, EUNAVAILABLE when the server
// cannot be reached.
func Open(ctx context.Context, url string, cat *store.Catalogue, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, logger); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, cat: cat, logger: logger, now: time.Now}, nil
}

// Migrate applies pending migrations to the database at url and returns. It
// is what `brokersync migrate` runs; Open does the same at start-up, and
// logs what it applied.
func Migrate(ctx context.Context, url string) error {
	pool, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate(ctx, pool, slog.New(slog.DiscardHandler))
}

// Reachable connects to the database at url and disconnects again: it
// reports whether the server answers and accepts the credentials and the
// database name, without touching the schema, so that start-up can refuse a
// wrong URL before any store applies a migration. Errors as Open.
func Reachable(ctx context.Context, url string) error {
	pool, err := connect(ctx, url)
	if err != nil {
		return err
	}
	pool.Close()
	return nil
}

// SetClock replaces the clock used for timestamps (tests).
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Pool returns the connection pool, for packages that keep their own tables
// in the same database.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes every connection. It waits for connections in use to be
// returned to the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the server answers (EUNAVAILABLE if not).
func (db *DB) Ping(ctx context.Context) error {
	return mapError("ping PostgreSQL", db.pool.Ping(ctx))
}

func connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, &store.Error{Code: store.EINVALID, Field: "postgres url", Message: "cannot be parsed", Err: err}
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, mapError("connect to PostgreSQL", err)
	}
	// pgxpool connects lazily; ping so that a wrong host or password is
	// reported by Open, not by the first command a broker types.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, mapError("connect to PostgreSQL", err)
	}
	return pool, nil
}

// migrate applies the embedded migrations with goose, each in its own
// transaction, while holding an advisory lock so that replicas starting
// together take turns instead of racing on DDL.
func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return migrateWith(pool, logger, func(p *goose.Provider) ([]*goose.MigrationResult, error) { return p.Up(ctx) })
}

// migrateWith runs up (Up, or UpTo in tests) on a goose provider of the
// embedded migrations and logs what it applied.
func migrateWith(pool *pgxpool.Pool, logger *slog.Logger, up func(*goose.Provider) ([]*goose.MigrationResult, error)) error {
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return store.Internal("read migrations", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, files,
		goose.WithSessionLocker(advisoryLock{migrationLockID}),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(logger.With(slog.String("component", "migrate"))),
	)
	if err != nil {
		return store.Internal("prepare migrations", err)
	}
	results, err := up(p)
	if err != nil {
		return mapError("apply migrations", err)
	}
	for _, r := range results {
		logger.Info("applied migration", slog.Int64("version", r.Source.Version),
			slog.String("file", r.Source.Path), slog.Duration("took", r.Duration))
	}
	return nil
}

// advisoryLock is a goose.SessionLocker that waits on pg_advisory_lock.
// goose's own locker polls pg_try_advisory_lock every few seconds, which
// would make every replica but the first wait that long even when there is
// nothing to migrate; waiting on the server wakes it as soon as the lock is
// free, and the context still bounds the wait.
type advisoryLock struct{ id int64 }

func (l advisoryLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

func (l advisoryLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.id); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
