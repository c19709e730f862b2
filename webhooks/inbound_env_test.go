package webhooks_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/webhooks"
)

const secret = "whsec_test_0123456789"

// env is a running inbound webhook server over one set of stores, with three
// clients: acme (follows corn, has a phone), plains and idle.
type env struct {
	clients  store.ClientStore
	trades   store.TradeStore
	timeline store.TimelineStore
	srv      *httptest.Server
	now      time.Time
	acme     *store.Client
	plains   *store.Client
	idle     *store.Client
}

// backends runs fn against the embedded store, and against PostgreSQL and
// Cassandra when the test environment has them.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("embedded", func(t *testing.T) { fn(t, newEnv(t, embeddedStores(t))) })
	t.Run("postgres+cassandra", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: skipping the real backends")
		}
		fn(t, newEnv(t, realStores(t)))
	})
}

type stores struct {
	clients  store.ClientStore
	trades   store.TradeStore
	timeline store.TimelineStore
}

func embeddedStores(t testing.TB) stores {
	db, err := embedded.Open(context.Background(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return stores{clients: db, trades: db, timeline: db.Timeline()}
}

// The real backends of a run share one new database and one new keyspace,
// dropped by TestMain; tests keep apart by their own clients.
var real struct {
	once     sync.Once
	pgBase   string
	pgName   string
	keyspace string
	pg       *postgres.DB
	tl       *cassandra.Timeline
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if real.tl != nil {
		if err := real.tl.Session().Query(`DROP KEYSPACE IF EXISTS ` + real.keyspace).Exec(); err != nil {
			fmt.Fprintf(os.Stderr, "drop keyspace %s: %v\n", real.keyspace, err)
		}
		real.tl.Close()
	}
	if real.pg != nil {
		real.pg.Close()
		if err := pgExec(ctx, real.pgBase, "DROP DATABASE IF EXISTS "+pgx.Identifier{real.pgName}.Sanitize()+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", real.pgName, err)
		}
	}
	os.Exit(code)
}

func realStores(t testing.TB) stores {
	base, hosts := testenv.PostgresURL(t), testenv.CassandraHosts(t)
	real.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		b := make([]byte, 6)
		rand.Read(b)
		suffix := hex.EncodeToString(b)
		real.pgBase, real.pgName = base, "bs_webhooks_"+suffix
		if real.err = pgExec(ctx, base, "CREATE DATABASE "+pgx.Identifier{real.pgName}.Sanitize()); real.err != nil {
			real.pgName = ""
			return
		}
		u, err := url.Parse(base)
		if err != nil {
			real.err = err
			return
		}
		u.Path = "/" + real.pgName
		logger := slog.New(slog.DiscardHandler)
		if real.pg, real.err = postgres.Open(ctx, u.String(), logger); real.err != nil {
			return
		}
		real.keyspace = "brokersync_webhooks_" + suffix
		real.tl, real.err = cassandra.Open(ctx, cassandra.Config{
			Hosts: strings.Split(hosts, ","), Keyspace: real.keyspace, Consistency: "ONE", Timeout: 10 * time.Second,
		}, logger)
	})
	if real.err != nil {
		t.Fatalf("opening PostgreSQL and Cassandra: %v", real.err)
	}
	return stores{clients: real.pg, trades: real.pg, timeline: real.tl}
}

func pgExec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// clientSeq keeps handles and phone numbers unique within a run, since the
// real backends' tests share one database.
var clientSeq atomic.Int64

func newEnv(t testing.TB, s stores) *env {
	e := &env{clients: s.clients, trades: s.trades, timeline: s.timeline, now: time.Now().UTC().Truncate(time.Second)}
	e.acme, e.plains, e.idle = e.client(t, "acme", "corn"), e.client(t, "plains"), e.client(t, "idle", "gold")
	in := webhooks.NewInbound(webhooks.InboundConfig{
		Secret:   secret,
		Clients:  s.clients,
		Trades:   s.trades,
		Recorder: &ingest.Recorder{Timeline: s.timeline, Scorer: fakeScorer{}},
		Now:      func() time.Time { return e.now },
	})
	r := chi.NewRouter()
	in.Mount(r)
	e.srv = httptest.NewServer(r)
	t.Cleanup(e.srv.Close)
	return e
}

// client creates a client with a phone number of its own, following
// commodities.
func (e *env) client(t testing.TB, name string, commodities ...string) *store.Client {
	t.Helper()
	n := clientSeq.Add(1)
	c := &store.Client{
		Handle: fmt.Sprintf("%s-%d", name, n), Name: name,
		Phones:  []store.Phone{{Kind: store.Work, Number: fmt.Sprintf("+1312555%04d", n)}},
		Trading: store.TradingPrefs{Commodities: commodities},
	}
	if err := e.clients.CreateClient(context.Background(), c, "U0TEST"); err != nil {
		t.Fatalf("create client %s: %v", c.Handle, err)
	}
	return c
}

// response is a decoded answer.
type response struct {
	status int
	body   map[string]any
}

func (r response) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r response) errorMessage() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// post sends body signed at the env's clock, unless sign changes headers.
func (e *env) post(t testing.TB, path string, body []byte, sign func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, e.now, body))
	if sign != nil {
		sign(req)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %q", path, resp.StatusCode, raw)
	}
	return r
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (e *env) events(t testing.TB, c *store.Client) []*store.Event {
	t.Helper()
	page, err := e.timeline.Events(context.Background(), c.ID, store.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// countEvents pages through a client's whole timeline.
func (e *env) countEvents(t testing.TB, c *store.Client) int {
	t.Helper()
	n, q := 0, store.EventQuery{Limit: 1000}
	for {
		page, err := e.timeline.Events(context.Background(), c.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Events)
		if page.Next == "" {
			return n
		}
		q.Cursor = page.Next
	}
}

func (e *env) stats(t testing.TB, c *store.Client) store.TradeStats {
	t.Helper()
	st, err := e.trades.TradeStats(context.Background(), c.ID, e.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// assertUntouched checks that no client has any event or fill.
func (e *env) assertUntouched(t testing.TB, what string) {
	t.Helper()
	for _, c := range []*store.Client{e.acme, e.plains, e.idle} {
		if evs := e.events(t, c); len(evs) != 0 {
			t.Errorf("%s: %s has %d events, want none: first %v", what, c.Handle, len(evs), evs[0])
		}
		if st := e.stats(t, c); st.Trades365d != 0 {
			t.Errorf("%s: %s has %d fills counted, want none", what, c.Handle, st.Trades365d)
		}
	}
}
