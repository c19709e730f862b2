package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/bottest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// serve with Slack configured runs the reminder scheduler: a reminder that
// came due while the server was down is posted to the broker's DM once it
// starts, and once only.
func TestServePostsDueReminders(t *testing.T) {
	fake := bottest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.BaseURL = srv.URL
	fake.AddUser("U0JANE", "jane", "America/Chicago", false, false)

	dir := t.TempDir()
	db, err := embedded.Open(t.Context(), dir, slog.New(slog.DiscardHandler))
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
	db, err = embedded.Open(t.Context(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Reminder(t.Context(), r.ID)
	if err != nil || got.State != store.ReminderPosted || got.MessageTS != posted[0].TS {
		t.Errorf("after serve: %+v %v", got, err)
	}
}
