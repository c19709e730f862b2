package bottest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// FakeSlack plays Slack's side: the Web API methods BrokerSync calls
// (users.info, conversations.info, conversations.members, views.open,
// chat.postEphemeral, apps.connections.open),
// response_url endpoints, and a Socket Mode WebSocket. Serve its Handler
// (httptest.NewServer) and point the bot at BaseURL+"/api/".
type FakeSlack struct {
	mu        sync.Mutex
	users     map[string]map[string]any
	channels  map[string]string   // id -> name, for conversations.info
	members   map[string][]string // channel -> members, for conversations.members
	limited   map[string]int      // method -> 429s still to answer
	failing   map[string]string   // method -> Slack error it answers
	calls     map[string]int
	views     []json.RawMessage
	ephemeral []map[string]string
	responses map[string][]json.RawMessage
	respLimit map[string]int // response path -> 429s still to answer

	// RetryAfter is the Retry-After of the 429s (seconds).
	RetryAfter int

	// BaseURL is set by the caller once the server runs (for socket URLs).
	BaseURL string
	// Socket carries envelopes to a connected Socket Mode client; Acks
	// carries back what the client acknowledged.
	Socket chan []byte
	Acks   chan []byte
}

// NewFakeSlack returns a fake with no users.
func NewFakeSlack() *FakeSlack {
	return &FakeSlack{
		users: map[string]map[string]any{}, channels: map[string]string{}, members: map[string][]string{},
		failing: map[string]string{}, limited: map[string]int{}, calls: map[string]int{},
		responses: map[string][]json.RawMessage{}, respLimit: map[string]int{}, RetryAfter: 1,
		Socket: make(chan []byte, 16), Acks: make(chan []byte, 16),
	}
}

// AddUser adds a user as users.info returns it.
func (f *FakeSlack) AddUser(id, name, tz string, admin, isBot bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = map[string]any{"id": id, "name": name, "tz": tz, "is_admin": admin, "is_bot": isBot,
		"profile": map[string]any{"display_name": name, "email": name + "@example.com"}}
}

// AddChannel adds a channel as conversations.info returns it.
func (f *FakeSlack) AddChannel(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[id] = name
}

// AddMembers makes a channel the app is in, with these members (in the
// order conversations.members lists them, two a page).
func (f *FakeSlack) AddMembers(channel string, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[channel] = append(f.members[channel], members...)
}

// FailWith makes every call of a Web API method answer {"ok": false,
// "error": slackErr} ("" to stop).
func (f *FakeSlack) FailWith(method, slackErr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing[method] = slackErr
}

// RateLimit makes the next n calls of a Web API method answer 429.
func (f *FakeSlack) RateLimit(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited[method] = n
}

// RateLimitResponses makes the next n posts to a response path answer 429.
func (f *FakeSlack) RateLimitResponses(path string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respLimit[path] = n
}

// Calls returns how often a Web API method was called.
func (f *FakeSlack) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Views returns the views opened so far.
func (f *FakeSlack) Views() []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]json.RawMessage(nil), f.views...)
}

// Ephemeral returns the ephemeral messages posted so far (form fields).
func (f *FakeSlack) Ephemeral() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.ephemeral...)
}

// ResponseURL returns a response_url whose posts the fake keeps.
func (f *FakeSlack) ResponseURL(id string) string { return f.BaseURL + "/response/" + id }

// Responses returns what was posted to a response_url, waiting up to wait
// for at least n posts.
func (f *FakeSlack) Responses(id string, n int, wait time.Duration) []json.RawMessage {
	deadline := time.Now().Add(wait)
	for {
		f.mu.Lock()
		got := append([]json.RawMessage(nil), f.responses["/response/"+id]...)
		f.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Handler serves the fake.
func (f *FakeSlack) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", f.api)
	mux.HandleFunc("/response/", f.response)
	mux.HandleFunc("/socket", f.socket)
	return mux
}

func (f *FakeSlack) api(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	// Methods take a form or, like views.open, a JSON body.
	var jsonBody map[string]json.RawMessage
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.NewDecoder(r.Body).Decode(&jsonBody)
	} else {
		_ = r.ParseForm()
	}
	f.mu.Lock()
	f.calls[method]++
	if f.limited[method] > 0 {
		f.limited[method]--
		f.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		http.Error(w, `{"ok":false,"error":"ratelimited"}`, http.StatusTooManyRequests)
		return
	}
	var out any
	if e := f.failing[method]; e != "" {
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": e})
		return
	}
	switch method {
	case "users.info":
		u, ok := f.users[r.Form.Get("user")]
		if ok {
			out = map[string]any{"ok": true, "user": u}
		} else {
			out = map[string]any{"ok": false, "error": "user_not_found"}
		}
	case "conversations.info":
		if name, ok := f.channels[r.Form.Get("channel")]; ok {
			out = map[string]any{"ok": true, "channel": map[string]any{"id": r.Form.Get("channel"), "name": name}}
		} else {
			out = map[string]any{"ok": false, "error": "channel_not_found"}
		}
	case "conversations.members":
		ms, ok := f.members[r.Form.Get("channel")]
		if !ok {
			out = map[string]any{"ok": false, "error": "channel_not_found"}
			break
		}
		// Two a page, so that callers must follow the cursor.
		start, _ := strconv.Atoi(r.Form.Get("cursor"))
		end := min(start+2, len(ms))
		next := ""
		if end < len(ms) {
			next = strconv.Itoa(end)
		}
		out = map[string]any{"ok": true, "members": ms[min(start, end):end], "response_metadata": map[string]any{"next_cursor": next}}
	case "views.open":
		v := jsonBody["view"]
		if v == nil {
			v = json.RawMessage(r.Form.Get("view"))
		}
		f.views = append(f.views, v)
		out = map[string]any{"ok": true, "view": map[string]any{"id": "V" + strconv.Itoa(len(f.views))}}
	case "chat.postEphemeral":
		m := map[string]string{}
		for k := range r.Form {
			m[k] = r.Form.Get(k)
		}
		f.ephemeral = append(f.ephemeral, m)
		out = map[string]any{"ok": true, "message_ts": "1700000000.000001"}
	case "apps.connections.open":
		out = map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.BaseURL, "http") + "/socket"}
	case "auth.test":
		out = map[string]any{"ok": true, "user_id": "UBOT", "bot_id": "BBOT"}
	default:
		out = map[string]any{"ok": false, "error": "unknown_method"}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (f *FakeSlack) response(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.respLimit[r.URL.Path] > 0 {
		f.respLimit[r.URL.Path]--
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
		return
	}
	f.responses[r.URL.Path] = append(f.responses[r.URL.Path], body)
	_, _ = io.WriteString(w, "ok")
}

// socket is Slack's side of a Socket Mode connection: hello, then whatever
// the test sends on Socket, with acknowledgements sent back on Acks.
func (f *FakeSlack) socket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // slack-go sends Slack's origin
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			f.Acks <- msg
		}
	}()
	for {
		select {
		case env := <-f.Socket:
			if err := conn.WriteMessage(websocket.TextMessage, env); err != nil {
				return
			}
		case <-done:
			return
		case <-r.Context().Done():
			return
		}
	}
}
