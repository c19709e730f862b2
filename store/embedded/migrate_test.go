package embedded

import (
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/pressly/goose/v3"
)

// TestAccountsMigration upgrades a store whose profiles were written before
// account numbers had a table of their own: the numbers come out
// upper-cased, once each, and find their client.
func TestAccountsMigration(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fsSub()
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 400); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO clients (id, handle, name, search, stage, profile, created_at, updated_at, version)
		VALUES ('0b5a1a6e-4f0e-4c1e-9a57-0c2f6f3d5e01', 'old-client', 'Old Client', 'old-client', 'active', ?, 0, 0, 1)`,
		`{"ID": "0b5a1a6e-4f0e-4c1e-9a57-0c2f6f3d5e01", "Handle": "old-client", "Name": "Old Client", "Stage": "active", "Accounts": [" acc-7 ", "ACC-3", "acc-3"]}`)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	d, err := Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("migrating profiles with account numbers: %v", err)
	}
	defer d.Close()
	for _, account := range []string{"ACC-7", "acc-3"} {
		c, err := d.ClientByAccount(ctx, account)
		if err != nil {
			t.Fatalf("ClientByAccount(%s) after the migration: %v", account, err)
		}
		if got := strings.Join(c.Accounts, ","); c.Handle != "old-client" || got != "ACC-7,ACC-3" {
			t.Errorf("ClientByAccount(%s) = %s with accounts %s, want old-client with ACC-7,ACC-3", account, c.Handle, got)
		}
	}
}
