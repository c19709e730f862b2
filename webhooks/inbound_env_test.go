package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks"
)

const (
	secret       = "whsec_test_0123456789"
	twilioToken  = "twilio_auth_token_test"
	aircallToken = "aircall_webhook_token_test"
)

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
	turn     func() // benchPair calls it before each of the env's turns
}

// backends runs fn against the embedded store, and against PostgreSQL and
// Cassandra when the test environment has them.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("embedded", func(t *testing.T) { fn(t, newEnv(t, embeddedStores(t))) })
	t.Run("postgres+cassandra", func(t *testing.T) { fn(t, newEnv(t, realStores(t))) })
}

type stores struct {
	clients  store.ClientStore
	trades   store.TradeStore
	timeline store.TimelineStore
	// subscriber, when set, makes a subscriber of the recorder (the
	// workflows of the benchmark).
	subscriber func(*ingest.Recorder) ingest.Subscriber
}

func embeddedStores(t testing.TB) stores {
	db, err := embedded.Open(context.Background(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return stores{clients: db, trades: db, timeline: db.Timeline()}
}

func TestMain(m *testing.M) { backendtest.Main(m) }

// realStores are the real PostgreSQL and Cassandra; the tests of a run share
// one database and one keyspace and keep apart by their own clients.
func realStores(t testing.TB) stores {
	pg := backendtest.Postgres(t)
	return stores{clients: pg, trades: pg, timeline: backendtest.Cassandra(t)}
}

// clientSeq keeps handles and phone numbers unique within a run, since the
// real backends' tests share one database.
var clientSeq atomic.Int64

func newEnv(t testing.TB, s stores) *env {
	e := &env{clients: s.clients, trades: s.trades, timeline: s.timeline, now: time.Now().UTC().Truncate(time.Second)}
	e.acme, e.plains, e.idle = e.client(t, "acme", "corn"), e.client(t, "plains"), e.client(t, "idle", "gold")
	r := chi.NewRouter()
	e.srv = httptest.NewServer(r) // started first: Twilio signs the URL it calls
	t.Cleanup(e.srv.Close)
	rec := &ingest.Recorder{Timeline: s.timeline, Scorer: fakeScorer{}}
	if s.subscriber != nil {
		rec.Subscribers = append(rec.Subscribers, s.subscriber(rec))
	}
	webhooks.NewInbound(webhooks.InboundConfig{
		Catalogue:       store.DefaultCatalogue(),
		Secret:          secret,
		Clients:         s.clients,
		Trades:          s.trades,
		Recorder:        rec,
		Now:             func() time.Time { return e.now },
		PublicURL:       e.srv.URL,
		TwilioAuthToken: twilioToken,
		AircallToken:    aircallToken,
	}).Mount(r)
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
	return e.do(t, req)
}

// do sends req and decodes the JSON answer.
func (e *env) do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %q", req.URL.Path, resp.StatusCode, raw)
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
func (e *env) countEvents(t testing.TB, c *store.Client, kinds ...store.Kind) int {
	t.Helper()
	n, q := 0, store.EventQuery{Limit: 1000, Kinds: kinds}
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
