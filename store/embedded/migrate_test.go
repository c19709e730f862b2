package embedded

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// migratedTo opens a store in dir migrated up to version only, as an
// earlier release left it.
func migratedTo(t *testing.T, dir string, version int64) *sql.DB {
	t.Helper()
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
	if _, err := p.UpTo(t.Context(), version); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestAccountsMigration upgrades a store whose profiles were written before
// account numbers had a table of their own: the numbers come out
// upper-cased, once each, and find their client.
func TestAccountsMigration(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := migratedTo(t, dir, 400)
	_, err := db.ExecContext(ctx, `INSERT INTO clients (id, handle, name, search, stage, profile, created_at, updated_at, version)
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

// TestDayCountsMigration upgrades a store whose events were written before
// day counts were kept: the migration counts them as AppendEvents would.
func TestDayCountsMigration(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := migratedTo(t, dir, 1999)
	client := uuid.New()
	old := []*store.Event{
		{Time: time.UnixMilli(-1), Kind: store.KindNote, Sentiment: &store.Sentiment{Score: -0.5, Label: "negative"}},
		{Time: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), Kind: store.KindOrder,
			Attrs: store.Attrs{Order: &store.OrderAttrs{Side: "sell", Quantity: 3, Price: 12.5, Status: "filled"}}},
		{Time: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Kind: store.KindOrder,
			Attrs: store.Attrs{Order: &store.OrderAttrs{Side: "buy", Quantity: 2, Status: "placed"}}},
		{Time: time.Date(2025, 3, 1, 23, 59, 0, 0, time.UTC), Kind: store.KindEmail, Sentiment: &store.Sentiment{Score: 0.25, Label: "positive"}},
	}
	for i, e := range old {
		e.ClientID, e.Source, e.SourceID = client, "test", fmt.Sprint(i)
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
		attrs, _ := json.Marshal(e.Attrs)
		var score, label any
		if s := e.Sentiment; s != nil {
			score, label = s.Score, s.Label
		}
		_, err := db.ExecContext(ctx, `INSERT INTO events (id, client_id, time, kind, source, source_id, sentiment_score, sentiment_label, attrs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID.String(), client.String(), e.Time.UnixMilli(), string(e.Kind), e.Source, e.SourceID, score, label, string(attrs))
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	d, err := Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("migrating a timeline: %v", err)
	}
	defer d.Close()
	got, err := d.Timeline().DayCounts(ctx, client, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := store.CountEvents(old); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the migration DayCounts = %+v\nwant %+v", got, want)
	}
}

// TestActivityMigration upgrades a store with a client and a fill from
// before activity rows and the profile's horizon and commodities had
// columns: those are filled in from the profile, and the client's activity
// row starts stale, is counted once by the periodic refresh, and the
// filters answer from it as from the tables.
func TestActivityMigration(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := migratedTo(t, dir, 1700)
	const id = "0b5a1a6e-4f0e-4c1e-9a57-0c2f6f3d5e01"
	now := time.Now().UTC()
	if _, err := db.ExecContext(ctx, `INSERT INTO clients (id, handle, name, search, team, stage, profile, created_at, updated_at, version)
		VALUES (?, 'old-client', 'Old Client', 'old-client', 'grains', 'active', ?, 0, 0, 1)`, id,
		`{"ID": "`+id+`", "Handle": "old-client", "Name": "Old Client", "Team": "grains", "Stage": "active", "Risk": {"Horizon": "long"}, "Trading": {"Commodities": ["corn", "wheat"]}}`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO client_fills (event_id, client_id, at, commodity, side, quantity, price, notional, currency)
		VALUES ('7c1f0c52-3a1e-4a43-8c7e-2b0d9f6e1a10', ?, ?, 'gold', 'buy', 2, 2000, 400000, 'USD')`, id, now.Add(-24*time.Hour).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	d, err := Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("migrating to activity rows: %v", err)
	}
	defer d.Close()
	match := func(filter string) int {
		t.Helper()
		f, err := segment.Parse(filter, store.DefaultCatalogue())
		if err != nil {
			t.Fatal(err)
		}
		n, err := d.CountClients(ctx, segment.Query{Filter: f, Now: now})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		return n
	}
	for _, filter := range []string{"prefers:corn", "asset:agriculture", "horizon:long", "traded:gold", "notional.30d>=400k", "last.fill<2d"} {
		if match(filter) != 1 {
			t.Errorf("%s does not match the client from before the migration", filter)
		}
	}
	for i, want := range []int{1, 0} {
		n, err := d.RefreshActivity(ctx, now)
		if err != nil || n != want {
			t.Errorf("refresh %d counted %d rows (%v), want %d", i+1, n, err, want)
		}
	}
	for _, filter := range []string{"traded:gold", "notional.30d>=400k", "last.fill<2d", "-trades.30d>1"} {
		if match(filter) != 1 {
			t.Errorf("%s does not match the client after the refresh", filter)
		}
	}
}
