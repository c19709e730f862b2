package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/segment"
	"github.com/brokersync/brokersync/store/storetest"
)

// Every test gets a database of its own, cloned from a template that is
// migrated once per run: CREATE DATABASE ... TEMPLATE copies files and takes
// tens of milliseconds, where migrating afresh takes far longer.
var template struct {
	once    sync.Once
	baseURL string // the server's URL as given; its database is used to create others
	name    string
	err     error
}

// afterAll holds clean-ups of things shared by several tests or benchmarks,
// run once they have all finished.
var afterAll []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range slices.Backward(afterAll) {
		f()
	}
	if template.name != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := backendtest.DropDatabase(ctx, template.baseURL, template.name); err != nil {
			fmt.Fprintf(os.Stderr, "dropping template database %s: %v\n", template.name, err)
		}
		cancel()
	}
	os.Exit(code)
}

// newDatabaseURL returns the URL of a new, migrated database that is dropped
// when t ends.
func newDatabaseURL(t testing.TB) string {
	t.Helper()
	return newEmptyDatabaseURL(t, migratedTemplate(t))
}

// migratedTemplate returns the name of the template database, creating and
// migrating it on first use. Without a server it skips t (or fails it in CI).
func migratedTemplate(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	template.once.Do(func() {
		ctx := context.Background()
		name := uniqueName("bs_pgtmpl")
		u, err := backendtest.CreateDatabase(ctx, base, name, "")
		if err != nil {
			template.err = err
			return
		}
		template.baseURL, template.name = base, name
		template.err = postgres.Migrate(ctx, u)
	})
	if template.err != nil {
		t.Fatalf("preparing the template database: %v", template.err)
	}
	return template.name
}

// newEmptyDatabaseURL returns the URL of a new database copied from
// template (the server's default, unmigrated, when template is ""), dropped
// when t ends.
func newEmptyDatabaseURL(t testing.TB, template string) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	name := uniqueName("bs_pgtest")
	u, err := backendtest.CreateDatabase(t.Context(), base, name, template)
	if err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := backendtest.DropDatabase(ctx, base, name); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	return u
}

func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", prefix, os.Getpid(), hex.EncodeToString(b))
}

func openStore(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), newDatabaseURL(t), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestClientStore(t *testing.T) {
	storetest.RunClientStoreTests(t, func(t *testing.T) store.ClientStore { return openStore(t) })
}

// Two brokers saving the same new address at the same moment: the database,
// not a check-then-insert in Go, decides, and the loser is told who won.
func TestConcurrentCreatesOfOneEmail(t *testing.T) {
	db := openStore(t)
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := storetest.SimpleClient(i)
			c.Emails[0].Address = "contested@example.com"
			errs <- db.CreateClient(t.Context(), c, "U0BROKER")
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch store.ErrorCode(err) {
		case "":
			won++
		case store.ECONFLICT:
			var e *store.Error
			if !errors.As(err, &e) || e.Field != "email.work" {
				t.Errorf("conflict %v does not name email.work", err)
			}
		default:
			t.Errorf("CreateClient: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates of one address succeeded, want exactly 1", won)
	}
}

// An import validates the next chunk while copying the last one; a bad or
// conflicting client in a later chunk still leaves nothing behind and is
// named.
func TestImportAcrossChunks(t *testing.T) {
	postgres.SetImportChunk(t, 100)
	db := openStore(t)
	ctx := t.Context()
	existing := benchClient(99_999)
	if err := db.CreateClient(ctx, existing, "U0BROKER"); err != nil {
		t.Fatal(err)
	}
	batch := func() []*store.Client {
		cs := make([]*store.Client, 500)
		for i := range cs {
			cs[i] = benchClient(i)
		}
		return cs
	}
	failures := []struct {
		name     string
		edit     func(cs []*store.Client)
		code     store.Code
		field    string
		mentions []string
	}{
		{"invalid in the last chunk", func(cs []*store.Client) { cs[499].Emails[0].Address = "nobody" },
			store.EINVALID, "email.work", []string{"bench-000499", "#500"}},
		{"duplicate across chunks", func(cs []*store.Client) { cs[450].Phones[1].Number = cs[15].Phones[1].Number },
			store.ECONFLICT, "phone.mobile", []string{"bench-000015", "bench-000450"}},
		{"existing client's email in a later chunk", func(cs []*store.Client) { cs[340].Emails[1].Address = existing.Emails[1].Address },
			store.ECONFLICT, "email.personal", []string{"bench-000340", existing.Handle}},
	}
	for _, f := range failures {
		cs := batch()
		f.edit(cs)
		err := db.ImportClients(ctx, cs, "U0IMPORTER")
		var e *store.Error
		if store.ErrorCode(err) != f.code || !errors.As(err, &e) || e.Field != f.field {
			t.Errorf("%s: %v, want %s naming %s", f.name, err, f.code, f.field)
		}
		// The command line shows err.Error(): the operator of an import
		// may learn who holds a value.
		for _, m := range f.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: %q does not mention %s", f.name, err.Error(), m)
			}
		}
		if n := countClients(t, db); n != 1 {
			t.Errorf("%s: %d clients stored, want only the existing one", f.name, n)
		}
	}
	cs := batch()
	if err := db.ImportClients(ctx, cs, "U0IMPORTER"); err != nil {
		t.Fatalf("import of 500 in chunks of 100: %v", err)
	}
	if n := countClients(t, db); n != 501 {
		t.Errorf("%d clients stored, want 501", n)
	}
	got, err := db.ClientByPhone(ctx, cs[377].Phones[1].Number)
	if err != nil || got.ID != cs[377].ID {
		t.Errorf("client #378 by phone: %v, %v", got, err)
	}
}

func countClients(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(t.Context(), "SELECT count(*) FROM clients").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := t.Context()
	dbURL := newEmptyDatabaseURL(t, "")
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	before := migrationRows(t, dbURL)
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if after := migrationRows(t, dbURL); after != before {
		t.Errorf("second Migrate recorded %d migrations, first %d; want no change", after, before)
	}
}

// Replicas starting together on an empty database: all start, and each
// migration is applied once.
func TestConcurrentOpen(t *testing.T) {
	dbURL := newEmptyDatabaseURL(t, "")
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), dbURL, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
			if err == nil {
				err = db.Ping(t.Context())
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	emptyURL := newEmptyDatabaseURL(t, "")
	if err := postgres.Migrate(t.Context(), emptyURL); err != nil {
		t.Fatal(err)
	}
	if got, want := migrationRows(t, dbURL), migrationRows(t, emptyURL); got != want {
		t.Errorf("after %d concurrent Opens %d migrations are recorded, want %d", n, got, want)
	}
}

func migrationRows(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM goose_db_version").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name string
		url  string
		want store.Code
	}{
		{"malformed url", "postgres://x:y@[::1", store.EINVALID},
		{"nothing listening", "postgres://brokersync:brokersync@127.0.0.1:1/brokersync?connect_timeout=2", store.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.Open(ctx, tt.url, store.DefaultCatalogue(), nil)
			if err == nil {
				db.Close()
			}
			if store.ErrorCode(err) != tt.want {
				t.Errorf("Open(%s) = %v, want %s", tt.url, err, tt.want)
			}
		})
	}
}

// A request that runs out of time is worth retrying, not an internal error.
func TestDeadlineIsUnavailable(t *testing.T) {
	db := openStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := db.ClientByHandle(ctx, "anyone")
	if store.ErrorCode(err) != store.EUNAVAILABLE {
		t.Errorf("lookup past its deadline: %v, want EUNAVAILABLE", err)
	}
}

// TestAccountsMigration upgrades a database whose profiles were written
// before account numbers had a table of their own: the numbers come out
// upper-cased, once each, and find their client.
func TestAccountsMigration(t *testing.T) {
	ctx := t.Context()
	url := newEmptyDatabaseURL(t, "")
	if err := postgres.MigrateTo(ctx, url, 400); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `INSERT INTO clients (id, handle, name, stage, stage_changed_at, search, profile, created_at, updated_at)
		VALUES (gen_random_uuid(), $1, 'Old Client', 'active', now(), $1, $2, now(), now())`,
		"old-client", `{"kind": "entity", "accounts": [" acc-7 ", "ACC-3", "acc-3"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatalf("migrating profiles with account numbers: %v", err)
	}
	db, err := postgres.Open(ctx, url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, account := range []string{"ACC-7", "acc-3"} {
		c, err := db.ClientByAccount(ctx, account)
		if err != nil {
			t.Fatalf("ClientByAccount(%s) after the migration: %v", account, err)
		}
		if got := strings.Join(c.Accounts, ","); c.Handle != "old-client" || got != "ACC-7,ACC-3" {
			t.Errorf("ClientByAccount(%s) = %s with accounts %s, want old-client with ACC-7,ACC-3", account, c.Handle, got)
		}
	}
}

// TestDeskChangesMigration: members already on a desk when the history
// began have their addition in it, by whoever added them, when they did.
func TestDeskChangesMigration(t *testing.T) {
	ctx := t.Context()
	url := newEmptyDatabaseURL(t, "")
	if err := postgres.MigrateTo(ctx, url, 500); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	added := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if _, err := conn.Exec(ctx, `INSERT INTO team_members (slack_id, desk, role, added_by, added_at)
		VALUES ('U0JANE', 'grain-desk', 'broker', 'U0ADMIN', $1)`, added); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.DeskHistory(ctx, "grain-desk", 0)
	want := []store.DeskChange{{At: added, Actor: "U0ADMIN", SlackID: "U0JANE", Desk: "grain-desk", NewRole: store.RoleBroker}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("DeskHistory after the migration = %+v, %v; want %+v", got, err, want)
	}
}

func TestTeamStoreContract(t *testing.T) {
	db := openStore(t)
	storetest.RunTeamStoreTests(t, func(*testing.T) storetest.TeamBackend { return db })
}

// TestActivityMigration upgrades a database with a client and a fill from
// before activity rows and the profile's commodities had columns: the
// commodities are filled in from the profile, and the client's activity
// row starts stale, is counted once by the periodic refresh, and the
// filters answer from it as from the tables.
func TestActivityMigration(t *testing.T) {
	ctx := t.Context()
	url := newEmptyDatabaseURL(t, "")
	if err := postgres.MigrateTo(ctx, url, 1700); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	id := uuid.New()
	now := time.Now().UTC()
	if _, err := conn.Exec(ctx, `INSERT INTO clients (id, handle, name, team, stage, stage_changed_at, search, profile, created_at, updated_at)
		VALUES ($1, 'old-client', 'Old Client', 'grains', 'active', now(), 'old-client', $2, now(), now())`,
		id, `{"kind": "entity", "trading": {"commodities": ["corn", "wheat"]}}`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO client_fills (event_id, client_id, at, commodity, side, quantity, price, notional, currency)
		VALUES (gen_random_uuid(), $1, $2, 'gold', 'buy', 2, 2000, 400000, 'USD')`, id, now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatalf("migrating to activity rows: %v", err)
	}
	db, err := postgres.Open(ctx, url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	match := func(filter string) int {
		t.Helper()
		f, err := segment.Parse(filter, store.DefaultCatalogue())
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.CountClients(ctx, segment.Query{Filter: f, Now: now})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		return n
	}
	for _, filter := range []string{"prefers:corn", "asset:agriculture", "traded:gold", "notional.30d>=400k", "last.fill<2d"} {
		if match(filter) != 1 {
			t.Errorf("%s does not match the client from before the migration", filter)
		}
	}
	for i, want := range []int{1, 0} {
		n, err := db.RefreshActivity(ctx, now)
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
