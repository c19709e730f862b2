package webhooks_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/internal/httpbody/httpbodytest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/webhooks"
)

// server is the whole HTTP server (health, metrics, webhooks) on the
// embedded store, with a clock the test moves and its log in a buffer.
type server struct {
	*webhooks.Server
	now time.Time
	log *testenv.LogBuffer
}

func newServer(t *testing.T) *server {
	st := embeddedStores(t)
	s := &server{now: time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), log: &testenv.LogBuffer{}}
	logger := slog.New(slog.NewJSONHandler(s.log, nil))
	s.Server = webhooks.New(logger, prometheus.NewRegistry())
	webhooks.NewInbound(webhooks.InboundConfig{
		Catalogue: store.DefaultCatalogue(),
		Secret:    secret, Clients: st.clients, Trades: st.trades,
		Recorder: &ingest.Recorder{Timeline: st.timeline, Scorer: fakeScorer{}},
		Now:      func() time.Time { return s.now }, Logger: logger,
	}).Mount(s.Router())
	return s
}

// Every answer, not only the web pages, tells browsers not to frame it,
// sniff it or run anything in it.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	srv := httptest.NewServer(newServer(t))
	defer srv.Close()
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/healthz"}, {http.MethodGet, "/readyz"}, {http.MethodGet, "/metrics"},
		{http.MethodPost, "/webhooks/orders"}, {http.MethodGet, "/no/such/page"},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "frame-ancestors 'none'",
		} {
			if got := resp.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("%s %s (%d): %s = %q, want %q", req.method, req.path, resp.StatusCode, h, got, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s %s: Content-Security-Policy %q allows content", req.method, req.path, csp)
		}
	}
}

// A sender that stops half-way through its body is answered 408 Request
// Timeout once the server's read timeout passes, not 413 or 400.
func TestSlowBodyIsRequestTimeout(t *testing.T) {
	srv := httptest.NewUnstartedServer(newServer(t))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, body := httpbodytest.Stall(t, srv.Listener.Addr().String(), "/webhooks/orders", "application/json", `{"id": "E-1"`)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled body: %d %s, want 408", resp.StatusCode, body)
	}
}

// A flood of unsigned requests writes one log line per interval, saying how
// many it held back, while the request metric counts every one.
func TestRefusalFloodLogsBounded(t *testing.T) {
	s := newServer(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func() {
		resp, err := http.Post(srv.URL+"/webhooks/orders", "application/json", strings.NewReader(`{"id":"E-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned request: %d, want 401", resp.StatusCode)
		}
	}
	for range 50 {
		post()
	}
	if n := strings.Count(s.log.String(), "webhook refused"); n != 1 {
		t.Errorf("50 unsigned requests wrote %d log lines, want 1:\n%s", n, s.log)
	}
	s.now = s.now.Add(11 * time.Second)
	post()
	lines := strings.Split(strings.TrimSpace(s.log.String()), "\n")
	if n := strings.Count(s.log.String(), "webhook refused"); n != 2 || !strings.Contains(lines[len(lines)-1], `"refusals_not_logged":49`) {
		t.Errorf("after the interval: %d lines, last %q; want a second line counting the 49 held back", n, lines[len(lines)-1])
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if want := `brokersync_http_requests_total{code="401",route="/webhooks/orders"} 51`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %s", want)
	}
}
