package slack_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Unsigned, wrongly signed and stale requests get 401 on every endpoint
// and change nothing; the same request correctly signed is applied.
func TestSignatureChecked(t *testing.T) {
	e := newEnv(t, options{})
	old := time.Now().Add(-6 * time.Minute).Unix()
	future := time.Now().Add(6 * time.Minute).Unix()
	bad := []struct {
		name    string
		headers func(body string) map[string]string
	}{
		{"no signature", func(string) map[string]string { return map[string]string{"X-Slack-Signature": ""} }},
		{"no timestamp", func(string) map[string]string { return map[string]string{"X-Slack-Request-Timestamp": ""} }},
		{"wrong signature", func(string) map[string]string {
			return map[string]string{"X-Slack-Signature": "v0=" + strings.Repeat("ab", 32)}
		}},
		{"not hex", func(string) map[string]string { return map[string]string{"X-Slack-Signature": "v0=zz"} }},
		{"other scheme", func(body string) map[string]string {
			return map[string]string{"X-Slack-Signature": strings.Replace(sign(time.Now().Unix(), body), "v0=", "v1=", 1)}
		}},
		{"stale timestamp", func(body string) map[string]string {
			return map[string]string{"X-Slack-Request-Timestamp": strconv.FormatInt(old, 10), "X-Slack-Signature": sign(old, body)}
		}},
		{"future timestamp", func(body string) map[string]string {
			return map[string]string{"X-Slack-Request-Timestamp": strconv.FormatInt(future, 10), "X-Slack-Signature": sign(future, body)}
		}},
		{"signature of another body", func(string) map[string]string {
			return map[string]string{"X-Slack-Signature": sign(time.Now().Unix(), "text=something+else")}
		}},
	}
	noteForm := "command=%2Fnote&user_id=" + e.broker + "&channel_id=C1&trigger_id=T-" + e.sfx + "&response_url=" + e.slack.ResponseURL("x") + "&text=" + e.acme + "+secret+note"
	eventBody := `{"type":"event_callback","event_id":"Ev-` + e.sfx + `","event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.1"}}`
	interactionBody := "payload=" + `{"type":"block_actions"}`
	verifyBody := `{"type":"url_verification","challenge":"abc"}`
	for _, b := range bad {
		for _, req := range []struct{ path, ctype, body string }{
			{"/slack/commands", "application/x-www-form-urlencoded", noteForm},
			{"/slack/events", "application/json", eventBody},
			{"/slack/events", "application/json", verifyBody},
			{"/slack/interactions", "application/x-www-form-urlencoded", interactionBody},
		} {
			r := e.post(req.path, req.ctype, req.body, b.headers(req.body))
			if r.StatusCode != 401 || strings.Contains(r.Body, "abc") {
				t.Errorf("%s to %s: %d %q, want 401", b.name, req.path, r.StatusCode, r.Body)
			}
		}
	}
	if n := len(e.events(store.KindNote)); n != 0 {
		t.Fatalf("a rejected request wrote %d notes", n)
	}
	if got := e.slack.Responses("x", 1, 100*time.Millisecond); len(got) != 0 {
		t.Errorf("a rejected request was answered: %s", got)
	}
	// The same command, correctly signed, is applied.
	r := e.post("/slack/commands", "application/x-www-form-urlencoded", noteForm, nil)
	if r.StatusCode != 200 || len(e.events(store.KindNote)) != 1 {
		t.Errorf("signed command: %d %q", r.StatusCode, r.Body)
	}
}

func TestURLVerification(t *testing.T) {
	e := newEnv(t, options{})
	r := e.post("/slack/events", "application/json", `{"token":"x","type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`, nil)
	if r.StatusCode != 200 || r.json(t)["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q", r.StatusCode, r.Body)
	}
	if r := e.post("/slack/events", "application/json", `{not json`, nil); r.StatusCode != 400 {
		t.Errorf("malformed event: %d", r.StatusCode)
	}
}

// A fast command is answered in the acknowledgement itself, as Block Kit.
func TestCommandAnsweredInline(t *testing.T) {
	e := newEnv(t, options{})
	r := e.command(e.broker, "/client", "show "+e.acme, "", nil)
	if r.StatusCode != 200 {
		t.Fatalf("status %d", r.StatusCode)
	}
	m := r.json(t)
	if m["response_type"] != "ephemeral" || !strings.Contains(m["text"].(string), "Acme Grain Co-op") {
		t.Errorf("answer %v", m)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m["blocks"])
	blocks := buf.String()
	for _, want := range []string{`"type":"header"`, `"type":"actions"`, `"action_id":"open_timeline"`, `"action_id":"add_note"`,
		`"url":"https://brokersync.example.com/clients/` + e.acme + `/timeline?u=` + e.broker + `"`, "<@" + e.broker + ">"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("blocks lack %s: %s", want, blocks)
		}
	}
	// Bad input is answered inline too, briefly, and only to the asker.
	r = e.command(e.broker, "/client", "set "+e.acme+" risk=eleven", "", nil)
	if m := r.json(t); m["response_type"] != "ephemeral" || !strings.Contains(m["text"].(string), "risk") {
		t.Errorf("bad input answer %v", m)
	}
}

// slowTeams delays every rights lookup, making every command slow.
type slowTeams struct {
	store.TeamStore
	delay time.Duration
}

func (s slowTeams) Memberships(ctx context.Context, id string) ([]store.Member, error) {
	time.Sleep(s.delay)
	return s.TeamStore.Memberships(ctx, id)
}

// A command slower than the budget is acknowledged at once and answered
// through response_url.
func TestSlowCommandAnsweredLater(t *testing.T) {
	e := newEnv(t, options{budget: 20 * time.Millisecond, teams: func(ts store.TeamStore) store.TeamStore {
		return slowTeams{ts, 1500 * time.Millisecond}
	}})
	start := time.Now()
	r := e.command(e.broker, "/client", "show "+e.acme, "slow-"+e.sfx, nil)
	if took := time.Since(start); took > time.Second {
		t.Errorf("acknowledged after %v, while the command takes 1.5 s", took)
	}
	if r.StatusCode != 200 || r.Body != "" {
		t.Errorf("ack %d %q, want an empty 200", r.StatusCode, r.Body)
	}
	got := e.slack.Responses("slow-"+e.sfx, 1, 5*time.Second)
	if len(got) != 1 || !strings.Contains(string(got[0]), "Acme Grain Co-op") || !strings.Contains(string(got[0]), `"response_type":"ephemeral"`) {
		t.Fatalf("response_url got %s", got)
	}
}

// Slack's response_url may answer 429: the answer is posted again after
// Retry-After.
func TestResponseURLHonoursRetryAfter(t *testing.T) {
	e := newEnv(t, options{budget: time.Millisecond, teams: func(ts store.TeamStore) store.TeamStore {
		return slowTeams{ts, 50 * time.Millisecond}
	}})
	e.slack.RateLimitResponses("/response/limited-"+e.sfx, 1)
	start := time.Now()
	e.command(e.broker, "/timeline", e.acme, "limited-"+e.sfx, nil)
	got := e.slack.Responses("limited-"+e.sfx, 1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("answer not delivered after a 429: %s", got)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("delivered after %v, before Retry-After: 1 had passed", took)
	}
}

// The Web API's 429s (users.info here) are waited out as Retry-After asks,
// and users.info is asked once per user, not once per command.
func TestWebAPIRateLimitAndCache(t *testing.T) {
	e := newEnv(t, options{})
	before := e.slack.Calls("users.info")
	e.slack.RateLimit("users.info", 1)
	// The admin flag comes from users.info: /team works only if the lookup
	// survived the 429.
	r := e.command(e.admin, "/team", "list", "", nil)
	if m := r.json(t); !strings.Contains(m["text"].(string), "memberships") {
		t.Fatalf("admin after a 429: %v", m)
	}
	for range 5 {
		e.command(e.admin, "/team", "list", "", nil)
	}
	if n := e.slack.Calls("users.info") - before; n != 2 { // the 429 and its retry
		t.Errorf("users.info called %d times, want 2", n)
	}
}

// A retried slash command (same trigger, X-Slack-Retry-Num) is not applied
// or answered twice.
func TestRetriedCommandAppliedOnce(t *testing.T) {
	e := newEnv(t, options{})
	trigger := "retry-" + e.sfx
	first := e.command(e.broker, "/note", e.acme+" call back about margin", trigger, nil)
	again := e.command(e.broker, "/note", e.acme+" call back about margin", trigger, map[string]string{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
	if first.StatusCode != 200 || !strings.Contains(first.Body, "Logged") {
		t.Errorf("first: %d %q", first.StatusCode, first.Body)
	}
	if again.StatusCode != 200 || again.Body != "" {
		t.Errorf("retry: %d %q, want an empty 200", again.StatusCode, again.Body)
	}
	if n := len(e.events(store.KindNote)); n != 1 {
		t.Errorf("notes %d, want 1", n)
	}
}

// A user without rights is refused, shown nothing and changes nothing.
func TestRefused(t *testing.T) {
	e := newEnv(t, options{})
	for _, c := range [][2]string{{"/client", "show " + e.acme}, {"/client", "set " + e.acme + " risk=9"}, {"/note", e.acme + " hi"}, {"/team", "add <@" + e.stranger + "> x-desk broker"}} {
		r := e.command(e.stranger, c[0], c[1], "", nil)
		if m := r.json(t); !strings.Contains(m["text"].(string), "Ask an admin") || strings.Contains(r.Body, "Acme") {
			t.Errorf("%s %s: %v", c[0], c[1], m)
		}
	}
	r := e.command(e.manager, "/client", "set "+e.acme+" risk=9", "", nil)
	if m := r.json(t); !strings.Contains(m["text"].(string), "only its brokers") {
		t.Errorf("manager: %v", m)
	}
	if c := e.client(e.acme); c.Risk.Tolerance != 0 || c.Version != 1 {
		t.Errorf("refused commands changed the client: %+v", c)
	}
	if n := len(e.events(store.KindNote)); n != 0 {
		t.Errorf("notes %d", n)
	}
}

func TestChannelMessagesBecomeChatEvents(t *testing.T) {
	e := newEnv(t, options{})
	ch := "CDESK" + strings.ToUpper(e.sfx)
	e.slack.AddMembers(ch, e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#"+ch+"|acme>", "", nil)

	msg := map[string]any{"type": "message", "channel": ch, "user": "UCLIENT", "text": "Thanks, great fill on the crude", "ts": "1767225600.000100", "channel_type": "channel"}
	if r := e.event("Ev1-"+e.sfx, msg, nil); r.StatusCode != 200 {
		t.Fatalf("event: %d", r.StatusCode)
	}
	// Slack retries the same event id; even with a different body it is not applied again.
	retry := map[string]any{"type": "message", "channel": ch, "user": "UCLIENT", "text": "CHANGED", "ts": "1767225600.000100"}
	if r := e.event("Ev1-"+e.sfx, retry, map[string]string{"X-Slack-Retry-Num": "1"}); r.StatusCode != 200 {
		t.Fatalf("retry: %d", r.StatusCode)
	}
	chats := e.events(store.KindChat)
	if len(chats) != 1 || chats[0].Summary != "Thanks, great fill on the crude" || chats[0].Sentiment.Label != "positive" || chats[0].Source != "slack" {
		t.Fatalf("chat events %+v", chats)
	}
	edit := map[string]any{"type": "message", "subtype": "message_changed", "channel": ch, "ts": "1767225700.000001",
		"message":          map[string]any{"type": "message", "user": "UCLIENT", "text": "Not happy with the slippage", "ts": "1767225600.000100"},
		"previous_message": map[string]any{"type": "message", "user": "UCLIENT", "text": "Thanks, great fill on the crude", "ts": "1767225600.000100"}}
	e.event("Ev2-"+e.sfx, edit, nil)
	del := map[string]any{"type": "message", "subtype": "message_deleted", "channel": ch, "ts": "1767225800.000001", "deleted_ts": "1767225600.000100",
		"previous_message": map[string]any{"type": "message", "user": "UCLIENT", "text": "Not happy with the slippage", "ts": "1767225600.000100"}}
	e.event("Ev3-"+e.sfx, del, nil)
	chats = e.events(store.KindChat)
	if len(chats) != 1 || !chats[0].Attrs.Chat.Edited || !chats[0].Attrs.Chat.Deleted || chats[0].Summary != "Not happy with the slippage" ||
		chats[0].Sentiment.Label != "negative" || chats[0].Attrs.Extra["original"] != "Thanks, great fill on the crude" {
		t.Errorf("after edit and delete: %+v %+v", chats[0], chats[0].Attrs)
	}
	// Bots, joins and other channels are not conversation with the client.
	for i, m := range []map[string]any{
		{"type": "message", "subtype": "bot_message", "bot_id": "B1", "channel": ch, "text": "beep", "ts": "1767225900.1"},
		{"type": "message", "bot_id": "B1", "channel": ch, "text": "beep", "ts": "1767225900.2"},
		{"type": "message", "subtype": "channel_join", "channel": ch, "user": "U9", "text": "<@U9> has joined", "ts": "1767225900.3"},
		{"type": "message", "channel": "COTHER", "user": "U9", "text": "elsewhere", "ts": "1767225900.4"},
		{"type": "reaction_added", "user": "U9", "reaction": "thumbsup"},
	} {
		if r := e.event("Ev-skip-"+strconv.Itoa(i)+e.sfx, m, nil); r.StatusCode != 200 {
			t.Errorf("%v: %d", m, r.StatusCode)
		}
	}
	if n := len(e.events(store.KindChat)); n != 1 {
		t.Errorf("chat events %d, want 1", n)
	}
}

// A message that cannot be stored is answered 500, and Slack's retry of it
// is applied once the store is back.
func TestEventRetriedAfterFailure(t *testing.T) {
	e := newEnv(t, options{})
	ch := "CFAIL" + strings.ToUpper(e.sfx)
	e.slack.AddMembers(ch, e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#"+ch+">", "", nil)
	e.timeline.FailWrites(store.Unavailable("timeline", context.DeadlineExceeded))
	msg := map[string]any{"type": "message", "channel": ch, "user": "UCLIENT", "text": "Buy 10 Dec corn at 4.52", "ts": "1767225600.000200"}
	if r := e.event("EvF-"+e.sfx, msg, nil); r.StatusCode != 500 {
		t.Fatalf("failed store: %d, want 500", r.StatusCode)
	}
	e.timeline.FailWrites(nil)
	if r := e.event("EvF-"+e.sfx, msg, map[string]string{"X-Slack-Retry-Num": "1"}); r.StatusCode != 200 {
		t.Fatalf("retry: %d", r.StatusCode)
	}
	if n := len(e.events(store.KindChat)); n != 1 {
		t.Errorf("chat events %d, want 1", n)
	}
}

// /client link asks Slack (conversations.members, page after page) whether
// the user is in the channel: a private channel of another desk, or one
// the app cannot see, is not linked.
func TestLinkAsksWhoIsInTheChannel(t *testing.T) {
	e := newEnv(t, options{})
	S := strings.ToUpper(e.sfx)
	mine, theirs, unseen := "CMINE"+S, "CPRIV"+S, "CGONE"+S
	// The broker is listed on the third page.
	e.slack.AddMembers(mine, "U1", "U2", "U3", "U4", e.broker)
	e.slack.AddMembers(theirs, "U1", "U2", "U3", "U4", "U5")
	for _, tc := range []struct{ ch, says string }{
		{theirs, "You are not in"},
		{unseen, "invite the BrokerSync app"},
		{mine, "Linked <#" + mine + ">"},
	} {
		r := e.command(e.broker, "/client", "link "+e.acme+" <#"+tc.ch+">", "", nil)
		if text, _ := r.json(t)["text"].(string); !strings.Contains(text, tc.says) {
			t.Errorf("link %s: %q, want it to say %q", tc.ch, text, tc.says)
		}
	}
	if n := e.slack.Calls("conversations.members"); n != 3+3+1 {
		t.Errorf("conversations.members called %d times, want 7 (every page of two channels, one refusal)", n)
	}
	// An app installed without the scopes says what to do about it.
	e.slack.FailWith("conversations.members", "missing_scope")
	r := e.command(e.broker, "/client", "link "+e.acme+" <#"+mine+">", "", nil)
	if text, _ := r.json(t)["text"].(string); !strings.Contains(text, "channels:read") || !strings.Contains(text, "reinstall") {
		t.Errorf("link without the scope: %q", text)
	}
}
