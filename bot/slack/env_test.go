package slack_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/slack/slacktest"

	"github.com/go-chi/chi/v5"
	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// env is a running Slack adapter over the embedded store, with a fake Slack
// on the other side.
type env struct {
	t        testing.TB
	slack    *slacktest.FakeSlack
	server   *httptest.Server // BrokerSync's HTTP server
	handler  *bslack.Handler
	clients  store.ClientStore
	teams    store.TeamStore
	timeline *bottest.FailingTimeline
	// reminders is what /remind sets.
	reminders store.ReminderStore
	backing   *backing // the stores, for a second replica on them
	bot       *bot.Bot
	sfx       string
	admin     string
	broker    string
	manager   string
	stranger  string
	desk      string
	acme      string
	seq       atomic.Int64
}

func logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type options struct {
	budget time.Duration
	lease  time.Duration                         // of a delivery's key; default store.DefaultOnceLease
	teams  func(store.TeamStore) store.TeamStore // wraps the team store (to slow it down)
}

// backing is what a bot runs on: PostgreSQL and Cassandra, or the embedded store.
type backing struct {
	clients   store.ClientStore
	teams     store.TeamStore
	links     store.LinkStore
	once      store.OnceStore
	timeline  store.TimelineStore
	reminders store.ReminderStore
	segments  bot.Segments
}

// onBackends, when set, makes newEnv run on the real servers instead of a
// fresh embedded store (TestOnBackends; the tests here do not run in parallel).
var onBackends *backing

func newEnv(t testing.TB, o options) *env {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	e := &env{t: t, sfx: hex.EncodeToString(b)}
	S := strings.ToUpper(e.sfx)
	e.admin, e.broker, e.manager, e.stranger = "UADM"+S, "UBRK"+S, "UMGR"+S, "USTR"+S
	e.desk, e.acme = "grain-"+e.sfx, "acme-"+e.sfx

	e.slack = slacktest.NewFakeSlack()
	fake := httptest.NewServer(e.slack.Handler())
	t.Cleanup(fake.Close)
	e.slack.BaseURL = fake.URL
	e.slack.AddUser(e.admin, "ada", "UTC", true, false)
	e.slack.AddUser(e.broker, "jane", "America/Chicago", false, false)
	e.slack.AddUser(e.manager, "maria", "Europe/London", false, false)
	e.slack.AddUser(e.stranger, "sam", "UTC", false, false)

	st := onBackends
	if st == nil {
		db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), logger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st = &backing{clients: db, teams: db, links: db, once: db, timeline: db.Timeline(), reminders: db, segments: db}
	}
	e.clients, e.teams, e.reminders, e.backing = st.clients, st.teams, st.reminders, st
	e.timeline = bottest.NewFailingTimeline(st.timeline)
	api := bslack.NewAPI("xoxb-test", fake.URL+"/api/", slack.OptionAppLevelToken("xapp-1-test"))
	teams := st.teams
	if o.teams != nil {
		teams = o.teams(teams)
	}
	b2, err := bot.New(bot.Config{
		Catalogue: store.DefaultCatalogue(),
		Clients:   st.clients, Timeline: e.timeline, Teams: teams, Links: st.links, Reminders: st.reminders, Segments: st.segments,
		Directory: bslack.NewDirectory(api, time.Minute, logger()),
		Recorder:  &ingest.Recorder{Timeline: e.timeline, Scorer: bottest.Scorer},
		TimelineURL: func(handle, user string) string {
			return "https://brokersync.example.com/clients/" + handle + "/timeline?u=" + user
		},
		Logger: logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.budget == 0 {
		// Tests read answers in the acknowledgement; a busy CI machine under
		// -race must not push them to response_url.
		o.budget = 10 * time.Second
	}
	e.bot = b2
	e.handler, err = bslack.New(bslack.Config{Bot: b2, API: api, SigningSecret: secret, Once: st.once, Lease: o.lease, Logger: logger(), AckBudget: o.budget})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	e.handler.Routes(r)
	e.server = httptest.NewServer(r)
	t.Cleanup(func() {
		e.server.Close()
		e.handler.Close(5 * time.Second)
	})

	for _, m := range []store.Member{
		{SlackID: e.broker, Desk: e.desk, Role: store.RoleBroker, AddedBy: e.admin},
		{SlackID: e.manager, Desk: e.desk, Role: store.RoleManager, AddedBy: e.admin},
	} {
		if err := e.teams.AddMember(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	resp := e.command(e.broker, "/client", `add `+e.acme+` "Acme Grain Co-op"`, "setup-"+e.sfx, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	if resp.Body == "" { // answered later (a slow store): wait for the client to exist
		e.slack.Responses("setup-"+e.sfx, 1, 10*time.Second)
	}
	return e
}

// sign returns Slack's v0 signature of body at ts.
func sign(ts int64, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

type response struct {
	StatusCode int
	Body       string
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("answer is not JSON: %q", r.Body)
	}
	return m
}

// post sends a correctly signed request, with headers overriding (an empty
// value removes the header).
func (e *env) post(path, contentType, body string, headers map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.server.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", sign(ts, body))
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

// command posts a slash command; trigger "" makes a fresh one.
func (e *env) command(user, command, text, trigger string, headers map[string]string) response {
	e.t.Helper()
	if trigger == "" {
		trigger = fmt.Sprintf("trig-%s-%d", e.sfx, e.seq.Add(1))
	}
	form := url.Values{
		"command": {command}, "text": {text}, "user_id": {user}, "channel_id": {"C" + strings.ToUpper(e.sfx)},
		"team_id": {"T1"}, "trigger_id": {trigger}, "response_url": {e.slack.ResponseURL(trigger)},
	}
	return e.post("/slack/commands", "application/x-www-form-urlencoded", form.Encode(), headers)
}

// interact posts an interaction payload.
func (e *env) interact(payload any) response {
	e.t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post("/slack/interactions", "application/x-www-form-urlencoded", url.Values{"payload": {string(b)}}.Encode(), nil)
}

// event posts an Events API envelope.
func (e *env) event(id string, inner map[string]any, headers map[string]string) response {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": id, "team_id": "T1", "event": inner})
	return e.post("/slack/events", "application/json", string(b), headers)
}

func (e *env) client(handle string) *store.Client {
	e.t.Helper()
	c, err := e.clients.ClientByHandle(e.t.Context(), handle)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) events(kind store.Kind) []*store.Event {
	e.t.Helper()
	p, err := e.timeline.Events(e.t.Context(), e.client(e.acme).ID, store.EventQuery{Kinds: []store.Kind{kind}, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Events
}
