package imap_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// backend is a set of stores the ingester writes to.
type backend struct {
	name        string
	clients     store.ClientStore
	timeline    store.TimelineStore
	checkpoints store.CheckpointStore
	leases      store.LeaseStore
	// env lets a child process (the crash test) open the same stores.
	env []string
}

func (b *backend) recorder() *ingest.Recorder {
	return &ingest.Recorder{Timeline: b.timeline, Scorer: scorer()}
}

// forEachBackend runs fn against the embedded store and, where `make test`
// provides them, against PostgreSQL (profiles, checkpoints) with Cassandra
// (timeline), as production runs.
func forEachBackend(t *testing.T, fn func(t *testing.T, b *backend)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		fn(t, openEmbedded(t, t.TempDir()))
	})
	t.Run("postgres+cassandra", func(t *testing.T) {
		t.Parallel()
		fn(t, openReal(t))
	})
}

// quietLogger logs warnings and errors; BROKERSYNC_TEST_LOG=debug shows all.
func quietLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("BROKERSYNC_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func openEmbedded(t testing.TB, dir string) *backend {
	t.Helper()
	db, err := embedded.Open(context.Background(), dir, store.DefaultCatalogue(), quietLogger())
	if err != nil {
		t.Fatalf("open embedded store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return &backend{name: "embedded", clients: db, timeline: db.Timeline(), checkpoints: db, leases: db,
		env: []string{"CRASH_BACKEND=embedded", "CRASH_DIR=" + dir}}
}

// openReal returns the real PostgreSQL and Cassandra. The tests of a run
// share one database and one keyspace and keep apart by random client
// addresses and mailbox folders.
func openReal(t testing.TB) *backend {
	t.Helper()
	pg, tl := backendtest.Postgres(t), backendtest.Cassandra(t)
	cfg := backendtest.CassandraConfig(t)
	return &backend{name: "postgres+cassandra", clients: pg, timeline: tl, checkpoints: pg, leases: pg,
		env: []string{"CRASH_BACKEND=real", "CRASH_POSTGRES_URL=" + backendtest.PostgresURL(t),
			"CRASH_CASSANDRA_HOSTS=" + strings.Join(cfg.Hosts, ","), "CRASH_KEYSPACE=" + cfg.Keyspace}}
}

func TestMain(m *testing.M) {
	if os.Getenv("CRASH_CHILD") == "1" {
		os.Exit(crashChild())
	}
	backendtest.Main(m)
}

// newClient creates a client owning the given addresses (at most four: a
// client has one address of each kind).
func newClient(t testing.TB, cs store.ClientStore, emails ...string) *store.Client {
	t.Helper()
	c := &store.Client{Handle: "c-" + uuid.NewString()[:13], Name: "Client " + emails[0]}
	kinds := []store.ContactKind{store.Work, store.Personal, store.Home, store.Mobile}
	for i, e := range emails {
		c.Emails = append(c.Emails, store.Email{Kind: kinds[i], Address: e})
	}
	if err := cs.CreateClient(context.Background(), c, "imap-test"); err != nil {
		t.Fatalf("create client %s: %v", emails[0], err)
	}
	return c
}

// timeline returns every email event of a client, newest first.
func timeline(t testing.TB, tl store.TimelineStore, clientID uuid.UUID) []*store.Event {
	t.Helper()
	var out []*store.Event
	q := store.EventQuery{Kinds: []store.Kind{store.KindEmail}, Limit: 1000}
	for {
		page, err := tl.Events(context.Background(), clientID, q)
		if err != nil {
			t.Fatalf("read timeline: %v", err)
		}
		out = append(out, page.Events...)
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
