package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

// A message whose delivery dies half-way (the process is killed after the
// claim, before the store) is not lost: a retry while the first delivery
// still holds its lease is told to come back (503, not a 200 that would end
// Slack's retries), the retry after the lease stores it, and later retries
// are duplicates.
func TestEventNotLostWhenDeliveryDies(t *testing.T) {
	const lease = 2 * time.Second
	e := newEnv(t, options{lease: lease})
	ch := "CDIE" + strings.ToUpper(e.sfx)
	e.slack.AddMembers(ch, e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#"+ch+">", "", nil)
	id := "EvDie-" + e.sfx
	msg := map[string]any{"type": "message", "channel": ch, "user": "UCLIENT", "text": "Sell 5 Mar wheat at market", "ts": "1767225600.000400"}

	entered, release := e.timeline.HangNextWrite()
	defer release()
	// Slack gives up on the first delivery after three seconds; this one
	// gives up at once, as the connection to a killed process does.
	b, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": id, "team_id": "T1", "event": msg})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.server.URL+"/slack/events", bytes.NewReader(b))
		ts := time.Now().Unix()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", sign(ts, string(b)))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first delivery never reached the timeline")
	}
	start := time.Now()
	retry := func(n int) response {
		return e.event(id, msg, map[string]string{"X-Slack-Retry-Num": strconv.Itoa(n), "X-Slack-Retry-Reason": "http_timeout"})
	}
	if r := retry(1); time.Since(start) < lease && r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("retry while the first delivery holds its lease: %d %q, want 503", r.StatusCode, r.Body)
	}
	// The first delivery is dead to the world from here on; its lease runs out.
	time.Sleep(time.Until(start.Add(lease + 100*time.Millisecond)))
	if r := retry(2); r.StatusCode != 200 {
		t.Fatalf("retry after the lease: %d %q, want 200", r.StatusCode, r.Body)
	}
	if chats := e.events(store.KindChat); len(chats) != 1 || chats[0].Summary != "Sell 5 Mar wheat at market" {
		t.Fatalf("chat events after the retry %+v, want the message once", chats)
	}
	// The dead delivery fails at last and releases its key: that must not
	// undo the retry's work.
	release()
	time.Sleep(50 * time.Millisecond)
	if r := retry(3); r.StatusCode != 200 {
		t.Fatalf("retry after done: %d %q", r.StatusCode, r.Body)
	}
	if n := len(e.events(store.KindChat)); n != 1 {
		t.Errorf("chat events %d, want 1", n)
	}
}

// A command that failed on our side does not hold its trigger: a second
// delivery of it is applied (once), not dropped as a duplicate.
func TestFailedCommandAppliedOnRedelivery(t *testing.T) {
	e := newEnv(t, options{})
	trigger := "fail-" + e.sfx
	e.timeline.FailWrites(store.Unavailable("timeline", context.DeadlineExceeded))
	if r := e.command(e.broker, "/note", e.acme+" margin call at 9", trigger, nil); r.StatusCode != 200 || strings.Contains(r.Body, "Logged") {
		t.Fatalf("with the timeline down: %d %q", r.StatusCode, r.Body)
	}
	e.timeline.FailWrites(nil)
	if r := e.command(e.broker, "/note", e.acme+" margin call at 9", trigger, map[string]string{"X-Slack-Retry-Num": "1"}); !strings.Contains(r.Body, "Logged") {
		t.Fatalf("second delivery: %d %q, want it logged", r.StatusCode, r.Body)
	}
	if r := e.command(e.broker, "/note", e.acme+" margin call at 9", trigger, map[string]string{"X-Slack-Retry-Num": "2"}); r.StatusCode != 200 || r.Body != "" {
		t.Fatalf("third delivery: %d %q, want an empty 200", r.StatusCode, r.Body)
	}
	if n := len(e.events(store.KindNote)); n != 1 {
		t.Errorf("notes %d, want 1", n)
	}
}

// The same for the "Log to client" shortcut in a linked channel.
func TestFailedShortcutAppliedOnRedelivery(t *testing.T) {
	e := newEnv(t, options{})
	ch := "CSC" + strings.ToUpper(e.sfx)
	e.slack.AddMembers(ch, e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#"+ch+">", "", nil)
	trigger := "scf-" + e.sfx
	shortcut := map[string]any{
		"type": "message_action", "callback_id": "log_to_client", "trigger_id": trigger,
		"user": map[string]any{"id": e.broker}, "channel": map[string]any{"id": ch},
		"response_url": e.slack.ResponseURL(trigger),
		"message":      map[string]any{"type": "message", "user": "UCLIENT", "ts": "1767225600.000500", "text": "Roll my Dec corn into March"},
	}
	e.timeline.FailWrites(store.Unavailable("timeline", context.DeadlineExceeded))
	e.interact(shortcut)
	if got := e.slack.Responses(trigger, 1, 5*time.Second); len(got) != 1 || strings.Contains(string(got[0]), "Logged to") {
		t.Fatalf("with the timeline down: %s", got)
	}
	e.timeline.FailWrites(nil)
	e.interact(shortcut)
	if got := e.slack.Responses(trigger, 2, 5*time.Second); len(got) != 2 || !strings.Contains(string(got[1]), "Logged to "+e.acme) {
		t.Fatalf("second delivery: %s, want it logged", got)
	}
	e.interact(shortcut)
	if n := len(e.events(store.KindChat)); n != 1 {
		t.Errorf("chat events %d, want 1", n)
	}
	if got := e.slack.Responses(trigger, 3, 300*time.Millisecond); len(got) != 2 {
		t.Errorf("a duplicate was answered again: %s", got)
	}
}
