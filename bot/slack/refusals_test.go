package slack_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/internal/httpbody/httpbodytest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/bot"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store/embedded"
)

// slackServer is the Slack endpoints alone, on the embedded store, with the
// server's read timeout and its log in a buffer.
func slackServer(t *testing.T, readTimeout time.Duration) (*httptest.Server, *testenv.LogBuffer) {
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b, err := bot.New(bot.Config{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: db.Timeline(), Teams: db, Links: db, Recorder: &ingest.Recorder{Timeline: db.Timeline()}})
	if err != nil {
		t.Fatal(err)
	}
	log := &testenv.LogBuffer{}
	h, err := bslack.New(bslack.Config{Bot: b, API: bslack.NewAPI("xoxb-test", "http://127.0.0.1:1/api/"), SigningSecret: secret, Once: db,
		Logger: slog.New(slog.NewJSONHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	h.Routes(r)
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(func() { srv.Close(); h.Close(time.Second) })
	return srv, log
}

// A request whose body stops half-way is answered 408 once the read timeout
// passes: the sender was slow, the body was not too large.
func TestSlowBodyIsRequestTimeout(t *testing.T) {
	srv, _ := slackServer(t, 300*time.Millisecond)
	resp, body := httpbodytest.Stall(t, srv.Listener.Addr().String(), "/slack/commands", "application/x-www-form-urlencoded", "command=%2Fnote")
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled body: %d %s, want 408", resp.StatusCode, body)
	}
}

// A flood of unsigned requests is logged one line per interval, not one
// line each.
func TestRefusalFloodLogsBounded(t *testing.T) {
	srv, log := slackServer(t, 0)
	for range 40 {
		resp, err := http.Post(srv.URL+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("command=%2Fnote&text=x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned request: %d, want 401", resp.StatusCode)
		}
	}
	if n := strings.Count(log.String(), "rejected unsigned or stale request"); n != 1 {
		t.Errorf("40 unsigned requests wrote %d log lines, want 1", n)
	}
}
