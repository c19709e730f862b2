package postgres

import (
	"context"
	"log/slog"

	"github.com/pressly/goose/v3"
)

// The lookup statements, so that benchmarks can time the same query issued
// directly with pgx.
const (
	ClientByHandleSQL = clientByHandleSQL
	ClientByEmailSQL  = clientByEmailSQL
)

// ResponsivenessRow is a client_responsiveness row's values, in the order
// of its columns, as the store writes them.
var ResponsivenessRow = responsivenessRow

// SetImportChunk makes imports work in chunks of n clients until the test
// ends, so that a small import exercises the hand-over between chunks. The
// test must not run in parallel with others.
func SetImportChunk(t interface{ Cleanup(func()) }, n int) {
	old := importChunk
	importChunk = n
	t.Cleanup(func() { importChunk = old })
}

// MigrateTo applies the migrations up to version, leaving the database as an
// older BrokerSync did.
func MigrateTo(ctx context.Context, url string, version int64) error {
	pool, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrateWith(pool, slog.New(slog.DiscardHandler), func(p *goose.Provider) ([]*goose.MigrationResult, error) {
		return p.UpTo(ctx, version)
	})
}
