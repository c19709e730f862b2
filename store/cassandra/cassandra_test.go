package cassandra_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/storetest"
)

// The tests and benchmarks of a run share one Timeline on one keyspace of
// their own and keep apart by random client ids.
func TestMain(m *testing.M) { backendtest.Main(m) }

func open(t testing.TB) *cassandra.Timeline { return backendtest.Cassandra(t) }

func TestTimelineContract(t *testing.T) {
	tl := open(t)
	storetest.RunTimelineTests(t, func(t *testing.T) store.TimelineStore { return tl })
}

func TestOpenIsRepeatable(t *testing.T) {
	tl := open(t)
	// A second Open on the same keyspace finds it migrated and changes nothing.
	again, err := cassandra.Open(t.Context(), backendtest.CassandraConfig(t), backendtest.Logger())
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	var n int
	if err := tl.Session().Query(`SELECT count(*) FROM schema_migrations`).ScanContext(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("schema_migrations has %d rows, want 3", n)
	}
}

// ownKeyspace opens a timeline on a keyspace of the test's own, dropped
// at its end, for tests that change what every client of it sees.
func ownKeyspace(t *testing.T, suffix string) (*cassandra.Timeline, cassandra.Config) {
	t.Helper()
	cfg := backendtest.CassandraConfig(t)
	cfg.Keyspace = fmt.Sprintf("%s_%s", cfg.Keyspace, suffix)
	tl, err := cassandra.Open(t.Context(), cfg, backendtest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tl.Session().Query(`DROP KEYSPACE IF EXISTS ` + cfg.Keyspace).Exec()
		tl.Close()
	})
	return tl, cfg
}

// Events stored before ids were claimed are claimed by the migration with
// the fingerprint of what they say, so they cannot be replaced either.
func TestMigrationClaimsStoredEvents(t *testing.T) {
	tl, cfg := ownKeyspace(t, "claims")
	s := tl.Session()
	// An order as the previous version stored it: rows, no claim.
	client := uuid.New()
	old := &store.Event{ClientID: client, Time: time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC), Kind: store.KindOrder,
		Source: "orders", SourceID: "E-legacy", Actor: "oms", Summary: "Filled buy 10 ZCZ5",
		Attrs: store.Attrs{Order: &store.OrderAttrs{OrderID: "O-1", Status: "filled", Side: "buy", Quantity: 10}}}
	if err := old.Prepare(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		cql  string
		args []any
	}{
		{`INSERT INTO events (client_id, bucket, time, id, kind, source, source_id, actor, summary, body, truncated, sentiment, attrs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', false, '', ?)`,
			[]any{[16]byte(client), cassandra.BucketOf(old.Time), old.Time, [16]byte(old.ID), "order", "orders", "E-legacy", "oms", old.Summary,
				`{"order":{"order_id":"O-1","status":"filled","side":"buy","quantity":10}}`}},
		{`INSERT INTO event_ids (client_id, id, time) VALUES (?, ?, ?)`, []any{[16]byte(client), [16]byte(old.ID), old.Time}},
		{`INSERT INTO client_buckets (client_id, bucket) VALUES (?, ?)`, []any{[16]byte(client), cassandra.BucketOf(old.Time)}},
		{`DELETE FROM schema_migrations WHERE version = 2`, nil},
	} {
		if err := s.Query(q.cql, q.args...).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	again, err := cassandra.Open(t.Context(), cfg, backendtest.Logger())
	if err != nil {
		t.Fatalf("Open after an upgrade: %v", err)
	}
	defer again.Close()

	other := *old
	other.Attrs.Order = &store.OrderAttrs{OrderID: "O-1", Status: "filled", Side: "sell", Quantity: 900}
	other.Fingerprint = ""
	if err := again.AppendEvents(t.Context(), &other); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("a stored order's id with other content: %v, want a conflict", err)
	}
	repeat := *old
	repeat.Time = old.Time.Add(48 * time.Hour)
	if err := again.AppendEvents(t.Context(), &repeat); err != nil {
		t.Errorf("the stored order again: %v", err)
	}
	page, err := again.Events(t.Context(), client, store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Attrs.Order.Quantity != 10 || !page.Events[0].Time.Equal(old.Time) {
		t.Errorf("after the upgrade the timeline holds %v, want the first order only", page.Events)
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
	cfg := cassandra.Config{Hosts: []string{"127.0.0.1:1"}, Keyspace: "brokersync_unreachable", Timeout: 2 * time.Second}
	_, err := cassandra.Open(t.Context(), cfg, backendtest.Logger())
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
// (no test here runs in parallel with it) and is skipped with -short. It
// waits for other packages' tests that use Cassandra to finish and keeps
// them waiting until it is done.
func TestRecoversAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts Cassandra: not in -short")
	}
	script := testenv.ServicesScript(t)
	tl := open(t)
	backendtest.StopsCassandra(t)
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
