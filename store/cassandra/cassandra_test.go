package cassandra_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/storetest"
)

// All tests and benchmarks of a run share one Timeline on one fresh keyspace,
// brokersync_test_<random>, dropped when the run ends; tests isolate
// themselves by random client ids. Creating a keyspace costs seconds of DDL,
// a client id nothing.
var shared struct {
	once     sync.Once
	hosts    []string
	keyspace string
	tl       *cassandra.Timeline
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.tl != nil {
		// The session is bound to the keyspace, but DROP works from it. A
		// busy node may take longer than one request timeout to drop a
		// keyspace; it goes on server-side, and IF EXISTS makes the retry safe.
		var err error
		for range 3 {
			if err = shared.tl.Session().Query(`DROP KEYSPACE IF EXISTS ` + shared.keyspace).Exec(); err == nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "drop test keyspace %s: %v\n", shared.keyspace, err)
		}
		shared.tl.Close()
	}
	os.Exit(code)
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func hosts(t testing.TB) []string {
	return strings.Split(testenv.CassandraHosts(t), ",")
}

// open returns the run's shared Timeline, creating its keyspace on first use.
func open(t testing.TB) *cassandra.Timeline {
	t.Helper()
	hs := hosts(t)
	shared.once.Do(func() {
		b := make([]byte, 6)
		rand.Read(b)
		shared.hosts = hs
		shared.keyspace = "brokersync_test_" + hex.EncodeToString(b)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.tl, shared.err = cassandra.Open(ctx, config(hs, shared.keyspace), testLogger())
	})
	if shared.err != nil {
		t.Fatalf("open cassandra timeline: %v", shared.err)
	}
	return shared.tl
}

func config(hosts []string, keyspace string) cassandra.Config {
	return cassandra.Config{
		Hosts:       hosts,
		Keyspace:    keyspace,
		Replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}",
		Consistency: "ONE",
		Timeout:     10 * time.Second,
	}
}

func TestTimelineContract(t *testing.T) {
	tl := open(t)
	storetest.RunTimelineTests(t, func(t *testing.T) store.TimelineStore { return tl })
}

func TestOpenIsRepeatable(t *testing.T) {
	tl := open(t)
	// A second Open on the same keyspace finds it migrated and changes nothing.
	again, err := cassandra.Open(t.Context(), config(shared.hosts, shared.keyspace), testLogger())
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	var n int
	if err := tl.Session().Query(`SELECT count(*) FROM schema_migrations`).ScanContext(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("schema_migrations has %d rows, want 1", n)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	for _, cfg := range []cassandra.Config{
		{Keyspace: "ok"},
		{Hosts: []string{"127.0.0.1"}, Keyspace: "bad-name"},
		{Hosts: []string{"127.0.0.1"}, Keyspace: "ok; DROP KEYSPACE x"},
		{Hosts: []string{"127.0.0.1"}, Keyspace: "ok", Replication: "{'class':'SimpleStrategy'}; DROP TABLE x"},
		{Hosts: []string{"127.0.0.1"}, Keyspace: "ok", Consistency: "MOSTLY"},
	} {
		_, err := cassandra.Open(t.Context(), cfg, nil)
		if store.ErrorCode(err) != store.EINVALID {
			t.Errorf("Open(%+v) = %v, want EINVALID", cfg, err)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	// Nothing listens on port 1: connection refused at once.
	cfg := config([]string{"127.0.0.1:1"}, "brokersync_unreachable")
	cfg.Timeout = 2 * time.Second
	_, err := cassandra.Open(t.Context(), cfg, testLogger())
	if !store.IsRetryable(err) {
		t.Fatalf("Open on a closed port = %v (code %q), want EUNAVAILABLE", err, store.ErrorCode(err))
	}
}

func note(client uuid.UUID, n int) *store.Event {
	return &store.Event{
		ClientID: client, Time: time.Now(), Kind: store.KindNote,
		Source: "faulttest", SourceID: fmt.Sprintf("%s/%d", client, n), Summary: "note",
	}
}

// TestRecoversAfterRestart stops the real Cassandra, checks that the store
// reports EUNAVAILABLE, starts Cassandra again and checks that the same
// Timeline comes back by itself. It must stay the last test of the package
// (no test here runs in parallel with it) and is skipped with -short. Other
// packages' tests that use Cassandra must not run at the same time: run it
// with -p 1 or on its own (-run TestRecoversAfterRestart).
func TestRecoversAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts Cassandra: not in -short")
	}
	script := testenv.ServicesScript(t)
	tl := open(t)
	client := uuid.New()
	if err := tl.AppendEvents(t.Context(), note(client, 1)); err != nil {
		t.Fatalf("append before the restart: %v", err)
	}

	services := func(action string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, script, action, "cassandra").CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s cassandra: %v\n%s", script, action, err, out)
		}
		t.Logf("%s cassandra:\n%s", action, out)
	}
	services("stop")
	// Whatever happens below, leave a running server to whoever comes next.
	t.Cleanup(func() { services("start") })

	down, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := tl.Ping(down); !store.IsRetryable(err) {
		t.Fatalf("Ping with Cassandra stopped = %v (code %q), want EUNAVAILABLE", err, store.ErrorCode(err))
	}
	if err := tl.AppendEvents(down, note(client, 2)); !store.IsRetryable(err) {
		t.Fatalf("AppendEvents with Cassandra stopped = %v (code %q), want EUNAVAILABLE", err, store.ErrorCode(err))
	}
	if _, err := tl.Events(down, client, store.EventQuery{}); !store.IsRetryable(err) {
		t.Fatalf("Events with Cassandra stopped = %v (code %q), want EUNAVAILABLE", err, store.ErrorCode(err))
	}

	services("start")
	start := time.Now()
	const bound = 60 * time.Second
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := tl.Ping(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Since(start) > bound {
			t.Fatalf("Ping still failing %v after Cassandra was ready: %v", bound, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("Ping recovered %v after Cassandra was ready", time.Since(start).Round(time.Millisecond))

	if err := tl.AppendEvents(t.Context(), note(client, 2)); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	page, err := tl.Events(t.Context(), client, store.EventQuery{})
	if err != nil {
		t.Fatalf("Events after recovery: %v", err)
	}
	if len(page.Events) != 2 {
		t.Fatalf("after recovery the client has %d events, want 2", len(page.Events))
	}
}
