package webhooks_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/webhooks"
)

var fuzzPaths = []string{"/webhooks/orders", "/webhooks/calls", "/webhooks/market"}

// FuzzWebhookBody posts signed bodies of any shape to the three webhooks:
// none may panic or answer 5xx, and every refusal of a bad body or event is
// a 4xx whose message names the field at fault (events[i].field: …) or says
// what is wrong with the body as a whole.
func FuzzWebhookBody(f *testing.F) {
	e := newEnv(f, embeddedStores(f))
	now := e.now.Format(time.RFC3339)
	fill := e.fill("F-1", e.acme, 10)
	call := map[string]any{"id": "C-1", "from": e.acme.Phones[0].Number, "to": "+12125550199", "direction": "inbound",
		"duration_seconds": 600, "started_at": now, "transcript": "thanks"}
	move := map[string]any{"id": "M-1", "commodity": "corn", "change_pct": -4.2, "price": 431.5, "time": now}
	for i, seed := range []any{fill, call, move} {
		f.Add(uint8(i), mustJSON(seed))
		f.Add(uint8(i), mustJSON(map[string]any{"events": []any{seed, seed}}))
	}
	for _, s := range []string{
		`{"id":"x","client":"acme","contract":"ZZZ9","status":"filled","side":"buy","quantity":1,"last_qty":1,"last_px":1,"time":"` + now + `"}`,
		`{"id":"x","from":"+15555550100","direction":"inbound","started_at":"` + now + `"}`,
		`{"events":[1,"a",null,{}]}`, `{"events":{}}`, `{"quantity":"ten"}`, `{"quantity":1e999}`,
		`[]`, ``, `{`, `{"id":` + strings.Repeat("[", 100), `{"duration_seconds":-1,"direction":"out","to":"12"}`,
		`{"contract":"CBOT:ZSX6","exchange":"LME","commodity":"wheat"}`, `{"time":"20261130-14:30:00.000","status":"2","side":"1"}`,
	} {
		for i := range fuzzPaths {
			f.Add(uint8(i), []byte(s))
		}
	}
	handler := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, e.now, body))
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, w.Code, w.Body)
		}
		if w.Code == http.StatusOK {
			return
		}
		var answer struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || answer.Error.Code == "" || answer.Error.Message == "" {
			t.Fatalf("%s %q: %d answer %s is not {\"error\": {\"code\", \"message\"}}", path, body, w.Code, w.Body)
		}
		if (w.Code == http.StatusBadRequest || w.Code == http.StatusUnprocessableEntity) && !namesWhatIsWrong(answer.Error.Message) {
			t.Fatalf("%s %q: %d %q names no field", path, body, w.Code, answer.Error.Message)
		}
	})
}

// bodyProblems start the messages about a body as a whole.
var bodyProblems = []string{"empty body", "body is not a JSON object", "malformed JSON", `"events"`, "reading the body"}

var fieldPrefix = regexp.MustCompile(`^(?:events\[\d+\]\.)?([a-z_]+): `)

// eventFields are the fields of the three kinds of event, and "event" for an
// event that is not an object.
var eventFields = func() map[string]bool {
	m := map[string]bool{"event": true}
	for _, v := range []any{ingest.OrderEvent{}, ingest.CallEvent{}, ingest.MarketMove{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			m[name] = true
		}
	}
	return m
}()

func namesWhatIsWrong(msg string) bool {
	for _, p := range bodyProblems {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	m := fieldPrefix.FindStringSubmatch(msg)
	return m != nil && eventFields[m[1]]
}
