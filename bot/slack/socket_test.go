package slack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Socket Mode carries the same requests over a WebSocket: the answer rides
// on the acknowledgement, and messages are stored before theirs.
func TestSocketMode(t *testing.T) {
	e := newEnv(t, options{})
	ch := "CSOCK" + strings.ToUpper(e.sfx)
	e.slack.AddMembers(ch, e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#"+ch+">", "", nil)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.handler.SocketMode().Run(ctx) }()

	send := func(env map[string]any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(env)
		select {
		case e.slack.Socket <- b:
		case <-time.After(10 * time.Second):
			t.Fatal("socket mode client never connected")
		}
		select {
		case a := <-e.slack.Acks:
			var m map[string]any
			if err := json.Unmarshal(a, &m); err != nil {
				t.Fatalf("ack %q: %v", a, err)
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("no ack for %s", b)
		}
		return nil
	}

	ack := send(map[string]any{"type": "slash_commands", "envelope_id": "env-1", "accepts_response_payload": true, "payload": map[string]any{
		"command": "/client", "text": "show " + e.acme, "user_id": e.broker, "channel_id": ch, "trigger_id": "sm-1-" + e.sfx,
		"response_url": e.slack.ResponseURL("sm-1-" + e.sfx),
	}})
	if ack["envelope_id"] != "env-1" || !strings.Contains(mustJSON(ack["payload"]), "Acme Grain Co-op") {
		t.Errorf("slash command ack %v", ack)
	}

	ack = send(map[string]any{"type": "events_api", "envelope_id": "env-2", "retry_attempt": 0, "payload": map[string]any{
		"type": "event_callback", "event_id": "EvS-" + e.sfx,
		"event": map[string]any{"type": "message", "channel": ch, "user": "UCLIENT", "text": "Thanks, great fill", "ts": "1767225600.000400"},
	}})
	if ack["envelope_id"] != "env-2" {
		t.Errorf("event ack %v", ack)
	}
	if chats := e.events(store.KindChat); len(chats) != 1 || chats[0].Summary != "Thanks, great fill" {
		t.Errorf("chat events %+v", chats)
	}

	ack = send(map[string]any{"type": "interactive", "envelope_id": "env-3", "payload": map[string]any{
		"type": "block_actions", "trigger_id": "sm-3-" + e.sfx, "user": map[string]any{"id": e.broker}, "channel": map[string]any{"id": ch},
		"response_url": e.slack.ResponseURL("sm-3-" + e.sfx),
		"actions":      []map[string]any{{"type": "button", "block_id": "b1", "action_id": "open_timeline", "value": e.acme}},
	}})
	if ack["envelope_id"] != "env-3" {
		t.Errorf("interaction ack %v", ack)
	}
	if got := e.slack.Responses("sm-3-"+e.sfx, 1, 5*time.Second); len(got) != 1 || !strings.Contains(string(got[0]), "Thanks, great fill") {
		t.Errorf("timeline through response_url: %s", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Run did not return after cancel")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
