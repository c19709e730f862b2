package cassandra

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/brokersync/brokersync/store"
)

// Migrations are CQL files named NNNN_name.cql, applied in version order and
// recorded in schema_migrations. Statements must be idempotent (IF NOT EXISTS,
// ALTER ... ADD guarded by a new version) because Cassandra has no DDL
// transactions: a migration that fails half-way is re-run from its start.
//
//go:embed migrations/*.cql
var migrationFiles embed.FS

type migration struct {
	version    int
	name       string
	statements []string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".cql") {
			return nil, fmt.Errorf("migration %s: want NNNN_name.cql", name)
		}
		text, err := fs.ReadFile(migrationFiles, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, statements: splitCQL(string(text))})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// splitCQL splits a file into statements on semicolons at line ends, after
// dropping "--" comment lines and trailing comments. Our migrations keep
// string literals free of "--" and ";", which keeps this simple.
func splitCQL(text string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(line, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// migrationSteps are the parts of migrations that CQL cannot say, run after
// the version's statements. Like them, each must be safe to run again.
var migrationSteps = map[int]func(context.Context, *gocql.Session) error{
	2:    backfillClaims,
	2000: backfillDayCounts,
}

// backfillDayCounts counts the days of every event stored before
// timeline_days existed: each client's months (client_buckets), each day
// of them with events. A day counted meanwhile by a new append is counted
// again, which changes nothing.
func backfillDayCounts(ctx context.Context, s *gocql.Session) error {
	t := &Timeline{session: s}
	iter := s.Query(`SELECT client_id, bucket FROM client_buckets`).PageSize(1000).IterContext(ctx)
	var (
		client [16]byte
		bucket int
	)
	for iter.Scan(&client, &bucket) {
		times := s.Query(`SELECT time FROM events WHERE client_id = ? AND bucket = ?`, client, bucket).PageSize(5000).IterContext(ctx)
		var (
			days []clientDay
			at   time.Time
		)
		for times.Scan(&at) {
			d := clientDay{client, store.DayNumber(at)}
			if len(days) == 0 || days[len(days)-1] != d {
				days = append(days, d)
			}
		}
		err := times.Close()
		if err == nil {
			err = t.countDays(ctx, days)
		}
		if err != nil {
			iter.Close()
			return err
		}
	}
	return iter.Close()
}

// backfillClaims claims the id of every event stored before event_claims
// existed, with the fingerprint of its stored content, so that those events
// cannot be replaced either. A claim made meanwhile by a new append is left
// as it is (IF NOT EXISTS).
func backfillClaims(ctx context.Context, s *gocql.Session) error {
	iter := s.Query(`SELECT client_id, id, time FROM event_ids`).PageSize(1000).IterContext(ctx)
	var (
		client, id [16]byte
		at         time.Time
	)
	for iter.Scan(&client, &id, &at) {
		rows := s.Query(selectEvent, client, BucketOf(at), at, id).IterContext(ctx)
		e, ok := scanEvent(rows, client)
		if err := rows.Close(); err != nil {
			iter.Close()
			return err
		}
		if !ok {
			continue // an index row without its event: nothing to protect
		}
		fp, err := e.ContentFingerprint()
		if err != nil {
			iter.Close()
			return err
		}
		if _, err := s.Query(insertClaim, client, id, at, fp).Idempotent(false).MapScanCASContext(ctx, map[string]any{}); err != nil {
			iter.Close()
			return err
		}
		if err := s.Query(insertOwner, id, client).ExecContext(ctx); err != nil {
			iter.Close()
			return err
		}
	}
	return iter.Close()
}

// migrate applies the migrations that schema_migrations does not list yet.
// Running it again, or from two processes at once, is safe: every statement
// is idempotent and recording a version is an upsert.
func migrate(ctx context.Context, s *gocql.Session, logger *slog.Logger) error {
	ms, err := loadMigrations()
	if err != nil {
		return store.Internal("load cassandra migrations", err)
	}
	err = s.Query(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text, applied_at timestamp)`).ExecContext(ctx)
	if err != nil {
		return mapErr("create schema_migrations", err)
	}
	// A stale read here (a replica that missed the insert) only re-runs
	// idempotent statements.
	applied := map[int]bool{}
	iter := s.Query(`SELECT version FROM schema_migrations`).IterContext(ctx)
	var v int
	for iter.Scan(&v) {
		applied[v] = true
	}
	if err := iter.Close(); err != nil {
		return mapErr("read schema_migrations", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		start := time.Now()
		for _, stmt := range m.statements {
			// DDL is not prepared by the driver; it waits for schema agreement
			// after each statement, so the next one sees the new table.
			if err := s.Query(stmt).ExecContext(ctx); err != nil {
				return mapErr("migration "+m.name, err)
			}
		}
		if step := migrationSteps[m.version]; step != nil {
			if err := step(ctx, s); err != nil {
				return mapErr("migration "+m.name, err)
			}
		}
		err := s.Query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now()).ExecContext(ctx)
		if err != nil {
			return mapErr("record migration "+m.name, err)
		}
		logger.Info("migration applied", slog.String("store", "cassandra"), slog.Int("version", m.version),
			slog.String("name", m.name), slog.Duration("took", time.Since(start)))
	}
	return nil
}
