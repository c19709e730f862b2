// Package slacktest plays Slack's side for tests and load commands: the Web API
// methods BrokerSync calls, response_url endpoints and a Socket Mode
// WebSocket, with the failures Slack is known for (429s, lost answers).
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// FakeSlack plays Slack's side: the Web API methods BrokerSync calls
// (users.info, conversations.info, conversations.members, views.open,
// chat.postEphemeral, chat.postMessage, chat.update, conversations.open,
// conversations.history, apps.connections.open, and files.uploadV2's
// files.getUploadURLExternal, upload URL and files.completeUploadExternal), response_url endpoints,
// and a Socket Mode WebSocket. Serve its Handler (httptest.NewServer) and
// point the bot at BaseURL+"/api/".
type FakeSlack struct {
	mu         sync.Mutex
	users      map[string]map[string]any
	channels   map[string]string   // id -> name, for conversations.info
	members    map[string][]string // channel -> members, for conversations.members
	limited    map[string]int      // method -> 429s still to answer
	failing    map[string]string   // method -> Slack error it answers
	calls      map[string]int
	views      []json.RawMessage
	ephemeral  []map[string]string
	responses  map[string][]json.RawMessage
	respLimit  map[string]int // response path -> 429s still to answer
	posted     []Posted
	updated    []Posted       // chat.update calls: the message's channel and ts, the new text and blocks
	lost       map[string]int // method -> answers still to lose after acting
	gap        time.Duration  // least time between posts to one channel; 0 for none
	lastPost   map[string]time.Time
	onPost     func(Posted)
	limited429 int
	pending    map[string]*Uploaded // file id -> a file getUploadURLExternal gave a URL for
	uploaded   []Uploaded

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
		responses: map[string][]json.RawMessage{}, respLimit: map[string]int{}, lost: map[string]int{},
		lastPost: map[string]time.Time{}, pending: map[string]*Uploaded{}, RetryAfter: 1,
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

// LoseAnswers makes the next n calls of a Web API method do what they ask
// (a chat.postMessage posts) and then answer 500 as if the answer was lost:
// what a client sees when Slack accepted a post and the connection or the
// process died before the ts came back.
func (f *FakeSlack) LoseAnswers(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost[method] = n
}

// LimitPerChannel makes chat.postMessage strict about Slack's per-channel
// limit: two messages it accepts in one channel are always at least
// 1/perSecond apart (no burst), and a message that comes sooner is answered
// 429 with the whole seconds left to wait in Retry-After, as Slack does.
func (f *FakeSlack) LimitPerChannel(perSecond float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gap = time.Duration(float64(time.Second) / perSecond)
}

// OnPost makes fn run for every message chat.postMessage accepts, before
// the fake answers: a test can hold the answer back, or kill the poster.
func (f *FakeSlack) OnPost(fn func(Posted)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onPost = fn
}

// RateLimited returns how many 429s LimitPerChannel caused.
func (f *FakeSlack) RateLimited() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limited429
}

// Posted is a message chat.postMessage accepted.
type Posted struct {
	At       time.Time // when the fake accepted it
	Token    string    // the bot token it came with
	Channel  string
	TS       string
	Text     string
	Blocks   string // JSON
	Metadata Metadata
}

// Metadata is a message's metadata (chat.postMessage `metadata`).
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Posted returns every message chat.postMessage accepted, in order.
func (f *FakeSlack) Posted() []Posted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Posted(nil), f.posted...)
}

// Updated returns every message chat.update changed, in order, waiting up
// to wait for at least n.
func (f *FakeSlack) Updated(n int, wait time.Duration) []Posted {
	deadline := time.Now().Add(wait)
	for {
		f.mu.Lock()
		got := append([]Posted(nil), f.updated...)
		f.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// Uploaded is a file shared with files.uploadV2: a URL from
// files.getUploadURLExternal, the file posted to it, then
// files.completeUploadExternal.
type Uploaded struct {
	ID             string
	Filename       string
	Title          string
	Length         int // as announced to getUploadURLExternal
	Content        []byte
	Channel        string
	InitialComment string
}

// Uploaded returns the files shared so far, in order.
func (f *FakeSlack) Uploaded() []Uploaded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Uploaded(nil), f.uploaded...)
}

// upload takes the file posted to an upload URL (multipart, as Slack's
// upload endpoint takes it).
func (f *FakeSlack) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/api/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	content, err := io.ReadAll(file)
	if err != nil {
		http.Error(w, "unreadable file", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.pending[id]
	if !ok {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	if len(content) != u.Length {
		http.Error(w, "length does not match", http.StatusBadRequest)
		return
	}
	u.Content = content
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(content)))
}

func (f *FakeSlack) api(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if strings.HasPrefix(method, "upload/") {
		f.upload(w, r)
		return
	}
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
	// Time stands still while the fake holds its lock: the limit is
	// checked and a post accepted at one instant, the one Posted.At keeps.
	now := time.Now()
	if method == "chat.postMessage" && f.gap > 0 {
		ch := r.Form.Get("channel")
		if last, ok := f.lastPost[ch]; ok {
			if wait := last.Add(f.gap).Sub(now); wait > 0 {
				f.limited429++
				f.mu.Unlock()
				// Slack's Retry-After is in whole seconds.
				w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				http.Error(w, `{"ok":false,"error":"ratelimited"}`, http.StatusTooManyRequests)
				return
			}
		}
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
	case "chat.postMessage":
		p := Posted{At: now, Token: token(r), Channel: r.Form.Get("channel"), Text: r.Form.Get("text"), Blocks: r.Form.Get("blocks"),
			TS: fmt.Sprintf("1800000000.%06d", len(f.posted)+1)}
		if m := r.Form.Get("metadata"); m != "" {
			_ = json.Unmarshal([]byte(m), &p.Metadata)
		}
		if p.Channel == "" {
			out = map[string]any{"ok": false, "error": "channel_not_found"}
			break
		}
		f.posted = append(f.posted, p)
		f.lastPost[p.Channel] = now
		out = map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS}
	case "chat.update":
		ch, ts := r.Form.Get("channel"), r.Form.Get("ts")
		found := false
		for _, p := range f.posted {
			found = found || p.Channel == ch && p.TS == ts
		}
		if !found {
			out = map[string]any{"ok": false, "error": "message_not_found"}
			break
		}
		f.updated = append(f.updated, Posted{At: time.Now(), Token: token(r), Channel: ch, TS: ts, Text: r.Form.Get("text"), Blocks: r.Form.Get("blocks")})
		out = map[string]any{"ok": true, "channel": ch, "ts": ts}
	case "conversations.open":
		users := r.Form.Get("users")
		if _, ok := f.users[users]; !ok || strings.Contains(users, ",") {
			out = map[string]any{"ok": false, "error": "user_not_found"}
			break
		}
		out = map[string]any{"ok": true, "channel": map[string]any{"id": "D" + users}}
	case "conversations.history":
		out = f.history(r.Form)
	case "files.getUploadURLExternal":
		n, err := strconv.Atoi(r.Form.Get("length"))
		if err != nil || n <= 0 || r.Form.Get("filename") == "" {
			out = map[string]any{"ok": false, "error": "invalid_arguments"}
			break
		}
		id := "F" + strconv.Itoa(len(f.pending)+1)
		f.pending[id] = &Uploaded{ID: id, Filename: r.Form.Get("filename"), Length: n}
		out = map[string]any{"ok": true, "file_id": id, "upload_url": f.BaseURL + "/api/upload/" + id}
	case "files.completeUploadExternal":
		var files []struct{ ID, Title string }
		if err := json.Unmarshal([]byte(r.Form.Get("files")), &files); err != nil || len(files) == 0 {
			out = map[string]any{"ok": false, "error": "invalid_arguments"}
			break
		}
		var done []map[string]any
		for _, fl := range files {
			u, ok := f.pending[fl.ID]
			if !ok || u.Content == nil {
				out = map[string]any{"ok": false, "error": "file_not_found"}
				break
			}
			u.Title, u.Channel, u.InitialComment = fl.Title, r.Form.Get("channel_id"), r.Form.Get("initial_comment")
			f.uploaded = append(f.uploaded, *u)
			delete(f.pending, fl.ID)
			done = append(done, map[string]any{"id": u.ID, "title": u.Title})
		}
		if out == nil {
			out = map[string]any{"ok": true, "files": done}
		}
	case "auth.test":
		out = map[string]any{"ok": true, "user_id": "UBOT", "bot_id": "BBOT"}
	default:
		out = map[string]any{"ok": false, "error": "unknown_method"}
	}
	if f.lost[method] > 0 {
		f.lost[method]--
		f.mu.Unlock()
		http.Error(w, "upstream connect error", http.StatusInternalServerError)
		return
	}
	var accepted *Posted
	if method == "chat.postMessage" && len(f.posted) > 0 && out.(map[string]any)["ok"] == true {
		accepted = &f.posted[len(f.posted)-1]
	}
	p, onPost := Posted{}, f.onPost
	if accepted != nil {
		p = *accepted
	}
	f.mu.Unlock()
	if accepted != nil && onPost != nil {
		onPost(p)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// token is the token a Web API call came with: a form field or a header.
func token(r *http.Request) string {
	if t := r.Form.Get("token"); t != "" {
		return t
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// history answers conversations.history from the posted messages, newest
// first, with their metadata only when include_all_metadata is set. It
// pages with a cursor (the index of the next message) like Slack does.
func (f *FakeSlack) history(form url.Values) map[string]any {
	channel := form.Get("channel")
	oldest, _ := strconv.ParseFloat(form.Get("oldest"), 64)
	limit, _ := strconv.Atoi(form.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	withMeta := form.Get("include_all_metadata") == "1" || form.Get("include_all_metadata") == "true"
	var all []map[string]any
	for i := len(f.posted) - 1; i >= 0; i-- {
		p := f.posted[i]
		ts, _ := strconv.ParseFloat(p.TS, 64)
		if p.Channel != channel || ts < oldest {
			continue
		}
		m := map[string]any{"type": "message", "ts": p.TS, "text": p.Text, "bot_id": "BBOT"}
		if withMeta && p.Metadata.EventType != "" {
			m["metadata"] = p.Metadata
		}
		all = append(all, m)
	}
	start, _ := strconv.Atoi(form.Get("cursor"))
	start = min(start, len(all))
	end := min(start+limit, len(all))
	out := map[string]any{"ok": true, "messages": all[start:end], "has_more": end < len(all)}
	if end < len(all) {
		out["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	return out
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
