package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/slack/slacktest"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks"
)

// serve with Slack configured runs the reminder scheduler: a reminder that
// came due while the server was down is posted to the broker's DM once it
// starts, and once only.
func TestServePostsDueReminders(t *testing.T) {
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL
	fake.AddUser("U0JANE", "jane", "America/Chicago", false, false)

	dir := t.TempDir()
	db, err := embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain Co-op"}
	if err := db.CreateClient(t.Context(), c, "U0JANE"); err != nil {
		t.Fatal(err)
	}
	r := &store.Reminder{ClientID: c.ID, Broker: "U0JANE", Due: time.Now().Add(-time.Minute), Text: "call back about Dec corn", Source: "command"}
	if err := db.CreateReminder(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	db.Close()

	getenv := env(t, "BROKERSYNC_DATA_DIR", dir, "BROKERSYNC_HTTP_ADDR", freeAddr(t),
		"SLACK_BOT_TOKEN", "xoxb-test", "SLACK_SIGNING_SECRET", "secret", "SLACK_API_URL", srv.URL+"/api/")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()
	deadline := time.Now().Add(20 * time.Second)
	for len(fake.Posted()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a second post would come now
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	posted := fake.Posted()
	if len(posted) != 1 {
		t.Fatalf("Slack received %d messages, want 1", len(posted))
	}
	if p := posted[0]; p.Channel != "DU0JANE" || !strings.Contains(p.Text, "acme-grain") || !strings.Contains(p.Text, "call back about Dec corn") {
		t.Errorf("posted %+v", p)
	}
	db, err = embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Reminder(t.Context(), r.ID)
	if err != nil || got.State != store.ReminderPosted || got.MessageTS != posted[0].TS {
		t.Errorf("after serve: %+v %v", got, err)
	}
}

// serve hands recorded events to the follow-up triggers: a fill through the
// signed order webhook leaves a follow-up for the client's broker, due in
// the broker's working hours a day later; the same fill again leaves no
// second one.
func TestServeFillTriggersFollowup(t *testing.T) {
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL
	fake.AddUser("U0JANE", "jane", "America/Chicago", false, false)

	dir := t.TempDir()
	db, err := embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain Co-op", Broker: "U0JANE"}
	if err := db.CreateClient(t.Context(), c, "U0JANE"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	const secret = "fill-webhook-secret"
	addr := freeAddr(t)
	getenv := env(t, "BROKERSYNC_DATA_DIR", dir, "BROKERSYNC_HTTP_ADDR", addr, "BROKERSYNC_WEBHOOK_SECRET", secret,
		"SLACK_BOT_TOKEN", "xoxb-test", "SLACK_SIGNING_SECRET", "secret", "SLACK_API_URL", srv.URL+"/api/")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()

	filledAt := time.Now().UTC()
	body, _ := json.Marshal(map[string]any{"events": []map[string]any{{
		"id": "fill-1", "order_id": "O-1", "exec_id": "X-1", "client": "acme-grain", "status": "filled",
		"side": "buy", "contract": "ZCZ6", "quantity": 5, "cum_qty": 5, "last_qty": 5,
		"last_px": 452.25, "avg_px": 452.25, "currency": "USD", "order_type": "limit", "time_in_force": "day",
		"time": filledAt.Format(time.RFC3339Nano),
	}}})
	send := func() int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/orders", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, time.Now(), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(20 * time.Second)
	for send() != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if code := send(); code != http.StatusOK { // delivered again
		t.Fatalf("second delivery: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	db, err = embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.ListReminders(t.Context(), store.ReminderFilter{ClientID: c.ID})
	if err != nil || len(rs) != 1 {
		t.Fatalf("follow-ups %+v %v; want one", rs, err)
	}
	r := rs[0]
	chicago, _ := time.LoadLocation("America/Chicago")
	due := r.Due.In(chicago)
	if r.Source != "fill" || r.Broker != "U0JANE" || r.Due.Before(filledAt.Add(24*time.Hour-time.Minute)) ||
		due.Weekday() == time.Saturday || due.Weekday() == time.Sunday || due.Hour() < 8 || due.Hour() >= 18 {
		t.Errorf("follow-up %+v due %v: want Jane's, a day after the fill or later, in her working hours", r, due)
	}
}

// End to end through serve: /remind over signed Slack HTTP, then one
// chat.postMessage to the broker's DM about two minutes later, naming the
// client and the text. It takes the two minutes.
func TestServeRemindOverSlackHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test waits two minutes")
	}
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL
	fake.AddUser("U0JANE", "jane", "America/Chicago", false, false)

	dir := t.TempDir()
	db, err := embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddMember(t.Context(), store.Member{SlackID: "U0JANE", Desk: "grain-desk", Role: store.RoleBroker, AddedBy: "U0ADMIN"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain Co-op", Team: "grain-desk", Broker: "U0JANE"}
	if err := db.CreateClient(t.Context(), c, "U0JANE"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	const signing = "remind-signing-secret"
	addr := freeAddr(t)
	getenv := env(t, "BROKERSYNC_DATA_DIR", dir, "BROKERSYNC_HTTP_ADDR", addr,
		"SLACK_BOT_TOKEN", "xoxb-test", "SLACK_SIGNING_SECRET", signing, "SLACK_API_URL", srv.URL+"/api/")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	form := url.Values{"command": {"/remind"}, "text": {"acme-grain in 2 minutes call back about Dec corn"},
		"user_id": {"U0JANE"}, "channel_id": {"D0JANE"}, "team_id": {"T1"}, "trigger_id": {"remind-e2e"},
		"response_url": {fake.ResponseURL("remind-e2e")}}
	body := []byte(form.Encode())
	var answer string
	var sentAt time.Time
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/commands", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		ts := time.Now().Unix()
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", slackSignature(signing, ts, body))
		sentAt = time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			answer = string(b)
			break
		}
		t.Fatalf("/remind: %d %s", resp.StatusCode, b)
	}
	if strings.TrimSpace(answer) == "" {
		// A slow answer (a loaded machine) is acknowledged at once and
		// sent to the response URL, as Slack's 3-second rule asks.
		if rs := fake.Responses("remind-e2e", 1, 30*time.Second); len(rs) > 0 {
			answer = string(rs[0])
		}
	}
	if !strings.Contains(answer, "I will remind you about Acme Grain Co-op") || !strings.Contains(answer, "your time") {
		t.Fatalf("/remind answered %q", answer)
	}
	deadline = time.Now().Add(2*time.Minute + 30*time.Second)
	for len(fake.Posted()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a second post would come now
	posted := fake.Posted()
	if len(posted) != 1 {
		t.Fatalf("Slack received %d messages, want 1", len(posted))
	}
	p := posted[0]
	if p.Channel != "DU0JANE" || !strings.Contains(p.Text, "Acme Grain Co-op") || !strings.Contains(p.Text, "call back about Dec corn") {
		t.Errorf("posted %+v", p)
	}
	if after := p.At.Sub(sentAt); after < 119*time.Second || after > 2*time.Minute+10*time.Second {
		t.Errorf("posted %v after the command, want about 2 minutes", after)
	}
}
