package webhooks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks"
)

// fakeScorer calls every text mildly negative, so tests see that call
// transcripts are scored and orders are not.
type fakeScorer struct{}

func (fakeScorer) Score(string) sentiment.Result {
	return sentiment.Result{Score: -0.25, Label: "negative"}
}

// contract is a contract of root (symbol and month letter) next year, so
// that the tests, which run at the real time, never name an expired one.
func (e *env) contract(root string) string {
	return fmt.Sprintf("%s%02d", root, (e.now.Year()+1)%100)
}

func (e *env) nextYear() string { return fmt.Sprint(e.now.Year() + 1) }

func (e *env) fill(id string, c *store.Client, qty float64) map[string]any {
	return map[string]any{
		"id": id, "order_id": "O-" + id, "exec_id": "X-" + id, "client": c.Handle,
		"status": "filled", "side": "buy", "contract": e.contract("ZCZ"),
		"quantity": qty, "cum_qty": qty, "last_qty": qty, "last_px": 452.25, "avg_px": 452.25,
		"currency": "USD", "order_type": "limit", "time_in_force": "gtc",
		"time": e.now.Add(-time.Minute).Format(time.RFC3339),
	}
}

func TestOrderAppliedOnceAcrossRetries(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		body := mustJSON(e.fill("E-1", e.acme, 10))
		for attempt := range 3 {
			// A retry is signed anew a little later, as a sender would.
			e.now = e.now.Add(time.Second)
			r := e.post(t, "/webhooks/orders", body, nil)
			if r.status != http.StatusOK {
				t.Fatalf("attempt %d: %d %v", attempt, r.status, r.body)
			}
			wantNew := 0.0
			if attempt == 0 {
				wantNew = 1
			}
			if r.body["new_fills"] != wantNew || r.body["accepted"] != 1.0 {
				t.Errorf("attempt %d answered %v; want accepted 1, new_fills %v", attempt, r.body, wantNew)
			}
		}
		evs := e.events(t, e.acme)
		if len(evs) != 1 {
			t.Fatalf("acme has %d events after three deliveries, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Kind != store.KindOrder || ev.Summary != "Filled buy 10 "+e.contract("ZCZ")+" (Dec "+e.nextYear()+" corn) @ 452.25" || ev.Sentiment != nil {
			t.Errorf("event %v (sentiment %v)", ev, ev.Sentiment)
		}
		if o := ev.Attrs.Order; o == nil || o.ExecID != "X-E-1" || o.Commodity != "corn" || o.Quantity != 10 || o.Price != 452.25 {
			t.Errorf("order attributes %+v", ev.Attrs.Order)
		}
		if st := e.stats(t, e.acme); st.Trades30d != 1 || st.Volume30d != 10 || st.Commodities[0] != "corn" {
			t.Errorf("acme's statistics %+v; want one fill of 10 corn", st)
		}
	})
}

// The same event delivered by several connections at once still counts once.
func TestConcurrentDeliveriesCountOnce(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		body := mustJSON(e.fill("E-race", e.acme, 7))
		var wg sync.WaitGroup
		var mu sync.Mutex
		newFills := 0.0
		for range 8 {
			wg.Go(func() {
				r := e.post(t, "/webhooks/orders", body, nil)
				if r.status != http.StatusOK {
					t.Errorf("%d %v", r.status, r.body)
					return
				}
				mu.Lock()
				newFills += r.body["new_fills"].(float64)
				mu.Unlock()
			})
		}
		wg.Wait()
		if newFills != 1 {
			t.Errorf("%v deliveries reported a new fill, want exactly 1", newFills)
		}
		if n, st := len(e.events(t, e.acme)), e.stats(t, e.acme); n != 1 || st.Volume30d != 7 {
			t.Errorf("%d events, volume %v; want 1 and 7", n, st.Volume30d)
		}
	})
}

func TestOrderBatch(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		placed := e.fill("B-1", e.acme, 10)
		placed["status"], placed["cum_qty"], placed["last_qty"], placed["last_px"] = "placed", 0, nil, nil
		partial := e.fill("B-2", e.acme, 10)
		partial["status"], partial["cum_qty"], partial["last_qty"] = "partially_filled", 4, 4
		rest := e.fill("B-3", e.acme, 10)
		rest["last_qty"] = 6
		other := e.fill("B-4", e.plains, 2)
		other["contract"], other["side"], other["last_px"] = e.contract("CLF"), "sell", 71.3
		body := mustJSON(map[string]any{"events": []any{placed, partial, rest, other}})
		r := e.post(t, "/webhooks/orders", body, nil)
		if r.status != http.StatusOK || r.body["accepted"] != 4.0 || r.body["new_fills"] != 3.0 {
			t.Fatalf("%d %v; want 4 accepted, 3 new fills", r.status, r.body)
		}
		evs := r.body["events"].([]any)
		if got := evs[3].(map[string]any)["client"]; got != e.plains.Handle {
			t.Errorf("event 3 matched %v, want %s", got, e.plains.Handle)
		}
		if n := len(e.events(t, e.acme)); n != 3 {
			t.Errorf("acme has %d events, want 3", n)
		}
		if st := e.stats(t, e.acme); st.Trades30d != 2 || st.Volume30d != 10 {
			t.Errorf("acme %+v; want 2 fills, 10 contracts", st)
		}
		if st := e.stats(t, e.plains); st.Volume30d != 2 || st.Commodities[0] != "wti" {
			t.Errorf("plains %+v; want 2 wti", st)
		}
	})
}

// Every bad request is refused with a clear 4xx and stores nothing.
func TestBadRequestsStoreNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		good := e.fill("G-1", e.acme, 10)
		goodBody := mustJSON(good)
		with := func(k string, v any) []byte {
			m := e.fill("G-1", e.acme, 10)
			m[k] = v
			return mustJSON(m)
		}
		header := func(v string) func(*http.Request) {
			return func(r *http.Request) { r.Header.Set(webhooks.SignatureHeader, v) }
		}
		badBatch := mustJSON(map[string]any{"events": []any{good, e.fill("G-2", e.plains, 1), map[string]any{"id": "G-3", "client": e.acme.Handle, "status": "filled", "side": "buy", "contract": "ZCQQ", "quantity": 1, "last_qty": 1, "last_px": 1, "time": e.now.Format(time.RFC3339)}}})
		unknownContract := e.fill("G-4", e.acme, 1)
		unknownContract["contract"] = "ZZZ9"
		unknownContractInBatch := mustJSON(map[string]any{"events": []any{good, e.fill("G-2", e.plains, 1), good, unknownContract}})
		unknownInBatch := mustJSON(map[string]any{"events": []any{good, e.fill("G-2", &store.Client{Handle: "nobody-here"}, 1)}})
		tests := []struct {
			name, path string
			body       []byte
			sign       func(*http.Request)
			status     int
			mentions   []string
		}{
			{"no signature", "/webhooks/orders", goodBody, func(r *http.Request) { r.Header.Del(webhooks.SignatureHeader) }, 401, []string{"missing", webhooks.SignatureHeader}},
			{"wrong secret", "/webhooks/orders", goodBody, header(webhooks.Sign("not-the-secret", e.now, goodBody)), 401, []string{"does not match"}},
			{"body changed after signing", "/webhooks/orders", with("quantity", 1000), header(webhooks.Sign(secret, e.now, goodBody)), 401, []string{"does not match"}},
			{"stale timestamp", "/webhooks/orders", goodBody, header(webhooks.Sign(secret, e.now.Add(-6*time.Minute), goodBody)), 401, []string{"6m0s old"}},
			{"future timestamp", "/webhooks/orders", goodBody, header(webhooks.Sign(secret, e.now.Add(10*time.Minute), goodBody)), 401, []string{"future"}},
			{"garbled header", "/webhooks/orders", goodBody, header("v1=abc"), 401, []string{"malformed"}},
			{"token on a signed-only endpoint", "/webhooks/orders?token=" + secret, goodBody, func(r *http.Request) { r.Header.Del(webhooks.SignatureHeader) }, 401, []string{"missing"}},
			{"malformed JSON", "/webhooks/orders", []byte(`{"id": "G-1", "client":`), nil, 400, []string{"malformed JSON"}},
			{"trailing garbage", "/webhooks/orders", append(append([]byte{}, goodBody...), []byte(`}`)...), nil, 400, []string{"malformed JSON"}},
			{"not an object", "/webhooks/orders", []byte(`[1, 2]`), nil, 400, []string{"not a JSON object"}},
			{"empty body", "/webhooks/orders", nil, nil, 400, []string{"empty body"}},
			{"wrong type", "/webhooks/orders", with("quantity", "ten"), nil, 400, []string{"quantity", "number"}},
			{"missing field", "/webhooks/orders", with("last_px", nil), nil, 400, []string{"last_px", "required"}},
			{"bad contract in a batch", "/webhooks/orders", badBatch, nil, 400, []string{"events[2].contract", `"ZCQQ"`}},
			{"ambiguous symbol", "/webhooks/orders", with("contract", e.contract("ZSX")), nil, 400, []string{"exchange", "LME"}},
			{"empty batch", "/webhooks/orders", []byte(`{"events": []}`), nil, 400, []string{"empty"}},
			{"events not an array", "/webhooks/orders", []byte(`{"events": {"id": "x"}}`), nil, 400, []string{"array"}},
			{"unknown client", "/webhooks/orders", with("client", "nobody-here"), nil, 422, []string{"client", `"nobody-here"`}},
			{"contract not in the catalogue", "/webhooks/orders", with("contract", "ZZZ9"), nil, 422, []string{`contract: "ZZZ9" is not a contract in the catalogue`}},
			{"contract not in the catalogue in a batch", "/webhooks/orders", unknownContractInBatch, nil, 422, []string{`events[3].contract: "ZZZ9" is not a contract in the catalogue`}},
			{"commodity not in the catalogue", "/webhooks/orders", with("commodity", "tulips"), nil, 422, []string{`commodity: "tulips" is not a commodity in the catalogue`}},
			{"expired contract", "/webhooks/orders", with("contract", "ZCZ25"), nil, 400, []string{"contract", `"ZCZ25"`, "expired"}},
			{"bad month code", "/webhooks/orders", with("contract", "ZCA6"), nil, 400, []string{"contract", `"A" is not a month code`}},
			{"call from a number no one can have", "/webhooks/calls", mustJSON(map[string]any{"id": "C-1", "from": "+15555550100", "to": "+12125550199", "direction": "inbound", "started_at": e.now.Format(time.RFC3339)}), nil, 422, []string{"from", "+15555550100", "not a number in use"}},
			{"call from too short a number", "/webhooks/calls", mustJSON(map[string]any{"id": "C-1", "from": "+1312555", "to": "+12125550199", "direction": "inbound", "started_at": e.now.Format(time.RFC3339)}), nil, 400, []string{"from", "too few digits"}},
			{"unknown client in a batch", "/webhooks/orders", unknownInBatch, nil, 422, []string{"events[1].client"}},
			{"too large", "/webhooks/orders", bytes.Repeat([]byte(" "), 1<<20+1), nil, 413, []string{"larger than"}},
			{"too many events", "/webhooks/orders", mustJSON(map[string]any{"events": make([]any, 1001)}), nil, 400, []string{"at most 1000"}},
			{"call from an unknown number", "/webhooks/calls", mustJSON(map[string]any{"id": "C-1", "from": "+13125559999", "to": "+12125550199", "direction": "inbound", "started_at": e.now.Format(time.RFC3339)}), nil, 422, []string{"from", "+13125559999"}},
			{"call without a direction", "/webhooks/calls", mustJSON(map[string]any{"id": "C-1", "from": e.acme.Phones[0].Number, "started_at": e.now.Format(time.RFC3339)}), nil, 400, []string{"direction"}},
			{"market with a wrong token", "/webhooks/market?token=guess", mustJSON(map[string]any{"id": "M-1", "commodity": "corn", "change_pct": -4.2, "time": e.now.Format(time.RFC3339)}), func(r *http.Request) { r.Header.Del(webhooks.SignatureHeader) }, 401, []string{"token"}},
			{"market without change", "/webhooks/market", mustJSON(map[string]any{"id": "M-1", "commodity": "corn", "time": e.now.Format(time.RFC3339)}), nil, 400, []string{"change_pct"}},
			{"market in an unknown commodity", "/webhooks/market", mustJSON(map[string]any{"id": "M-1", "commodity": "tulips", "change_pct": 5, "time": e.now.Format(time.RFC3339)}), nil, 422, []string{"commodity", "tulips"}},
			{"market in a contract not in the catalogue", "/webhooks/market", mustJSON(map[string]any{"id": "M-1", "contract": "ZZZ9", "change_pct": 5, "time": e.now.Format(time.RFC3339)}), nil, 422, []string{`contract: "ZZZ9" is not a contract in the catalogue`}},
		}
		for _, tc := range tests {
			r := e.post(t, tc.path, tc.body, tc.sign)
			if r.status != tc.status {
				t.Errorf("%s: status %d (%v), want %d", tc.name, r.status, r.body, tc.status)
				continue
			}
			msg := r.errorMessage()
			if r.errorCode() == "" || msg == "" {
				t.Errorf("%s: body %v is not {\"error\": {\"code\", \"message\"}}", tc.name, r.body)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("%s: message %q does not mention %s", tc.name, msg, m)
				}
			}
		}
		e.assertUntouched(t, "after every bad request")
		// The good body itself is fine: the refusals were about the requests.
		if r := e.post(t, "/webhooks/orders", goodBody, nil); r.status != http.StatusOK {
			t.Errorf("the good order: %d %v", r.status, r.body)
		}
	})
}

// A sender rotating its secret signs with both; either matching is enough.
func TestSignatureRotation(t *testing.T) {
	e := newEnv(t, embeddedStores(t))
	body := mustJSON(e.fill("R-1", e.acme, 1))
	old := webhooks.Sign("old-secret", e.now, body)
	cur := webhooks.Sign(secret, e.now, body)
	_, v1, _ := strings.Cut(cur, ",")
	r := e.post(t, "/webhooks/orders", body, func(r *http.Request) {
		r.Header.Set(webhooks.SignatureHeader, old+","+v1+",v0=ignored")
	})
	if r.status != http.StatusOK {
		t.Errorf("two v1 signatures, the second right: %d %v", r.status, r.body)
	}
}

func TestCallsWebhook(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		call := map[string]any{
			"id": "CALL-1", "from": e.acme.Phones[0].Number, "to": "+12125550199", "direction": "inbound",
			"duration_seconds": 725, "started_at": e.now.Add(-time.Hour).Format(time.RFC3339),
			"summary":    "Client unhappy with slippage on the gold stop",
			"transcript": "I'm not happy with the slippage on yesterday's gold stop. Call me.",
		}
		outbound := map[string]any{"id": "CALL-2", "from": "ext 204", "to": e.plains.Phones[0].Number, "direction": "outbound",
			"duration_seconds": 65, "started_at": e.now.Add(-time.Minute).Format(time.RFC3339)}
		named := map[string]any{"id": "CALL-3", "direction": "outbound", "client": e.idle.Handle, "started_at": e.now.Format(time.RFC3339)}
		body := mustJSON(map[string]any{"events": []any{call, outbound, named}})
		for range 2 {
			if r := e.post(t, "/webhooks/calls", body, nil); r.status != http.StatusOK || r.body["accepted"] != 3.0 {
				t.Fatalf("%d %v", r.status, r.body)
			}
		}
		evs := e.events(t, e.acme)
		if len(evs) != 1 {
			t.Fatalf("acme has %d events after two deliveries, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Kind != store.KindCall || ev.Body != call["transcript"] || ev.Summary != call["summary"] || ev.Attrs.Call.Duration != 725*time.Second {
			t.Errorf("call event %+v %+v", ev, ev.Attrs.Call)
		}
		if ev.Sentiment == nil || ev.Sentiment.Label != "negative" {
			t.Errorf("the transcript was not scored: %+v", ev.Sentiment)
		}
		if evs := e.events(t, e.plains); len(evs) != 1 || evs[0].Summary != "Outbound call, 1m 5s" {
			t.Errorf("plains: %v", evs)
		}
		if n := len(e.events(t, e.idle)); n != 1 {
			t.Errorf("idle (named by handle) has %d events, want 1", n)
		}
	})
}

func TestMarketMoveReachesFollowersAndTraders(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		// Oats is this test's alone, since the real backends' tests share one
		// database: follower follows oats, trader trades it, idle neither.
		follower, trader := e.client(t, "follower", "oats"), e.client(t, "trader")
		order := e.fill("T-1", trader, 5)
		order["contract"] = e.contract("ZOZ")
		if r := e.post(t, "/webhooks/orders", mustJSON(order), nil); r.status != http.StatusOK {
			t.Fatalf("order: %d %v", r.status, r.body)
		}
		move := mustJSON(map[string]any{"id": "MV-1", "contract": e.contract("ZOZ"), "change_pct": -4.2, "price": 431.5,
			"time": e.now.Format(time.RFC3339), "headline": "USDA raises yield estimate"})
		for _, sign := range []func(*http.Request){nil, func(r *http.Request) { r.Header.Del(webhooks.SignatureHeader) }} {
			path := "/webhooks/market"
			if sign != nil {
				path += "?token=" + secret // a sender that cannot sign
			}
			r := e.post(t, path, move, sign)
			var got []string
			for _, ev := range r.body["events"].([]any) {
				got = append(got, ev.(map[string]any)["client"].(string))
			}
			if r.status != http.StatusOK || strings.Join(got, " ") != follower.Handle+" "+trader.Handle {
				t.Fatalf("%d %v; want %s and %s concerned", r.status, r.body, follower.Handle, trader.Handle)
			}
		}
		want := "Market move: " + e.contract("ZOZ") + " (Dec " + e.nextYear() + " oats) down 4.2% at 431.5"
		for c, reason := range map[*store.Client]string{follower: "follows", trader: "trades"} {
			var moves []*store.Event
			for _, ev := range e.events(t, c) {
				if ev.Kind == store.KindEvent {
					moves = append(moves, ev)
				}
			}
			if len(moves) != 1 {
				t.Errorf("%s has %d market events after two deliveries, want 1", c.Handle, len(moves))
				continue
			}
			x := moves[0].Attrs.Extra
			if moves[0].Summary != want || x["reason"] != reason || x["commodity"] != "oats" || x["change_pct"] != "-4.2" || x["market_id"] != "MV-1" {
				t.Errorf("%s: %q %v", c.Handle, moves[0].Summary, x)
			}
		}
		if n := len(e.events(t, e.idle)); n != 0 {
			t.Errorf("idle neither trades nor follows oats but got %d events", n)
		}
	})
}

func TestDisabledWithoutSecret(t *testing.T) {
	r := chi.NewRouter()
	webhooks.NewInbound(webhooks.InboundConfig{}).Mount(r)
	body := []byte(`{"id": "x"}`)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/orders", bytes.NewReader(body))
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign("", time.Now(), body))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "BROKERSYNC_WEBHOOK_SECRET") {
		t.Errorf("with no secret configured: %d %s; want 403 naming the setting", w.Code, w.Body)
	}
}

// flakyTimeline fails appends while down is set, as a timeline store does
// when its cluster cannot be reached.
type flakyTimeline struct {
	store.TimelineStore
	down atomic.Bool
}

func (f *flakyTimeline) AppendEvents(ctx context.Context, evs ...*store.Event) error {
	if f.down.Load() {
		return store.Unavailable("timeline", errors.New("connection refused"))
	}
	return f.TimelineStore.AppendEvents(ctx, evs...)
}

// A store outage answers 503 with Retry-After and counts nothing; the
// sender's retry after it is applied once.
func TestStoreOutageAsksForRetry(t *testing.T) {
	s := embeddedStores(t)
	flaky := &flakyTimeline{TimelineStore: s.timeline}
	s.timeline = flaky
	e := newEnv(t, s)
	body := mustJSON(e.fill("O-1", e.acme, 3))
	flaky.down.Store(true)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/webhooks/orders", bytes.NewReader(body))
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, e.now, body))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("during the outage: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.assertUntouched(t, "during the outage")
	flaky.down.Store(false)
	if r := e.post(t, "/webhooks/orders", body, nil); r.status != http.StatusOK || r.body["new_fills"] != 1.0 {
		t.Errorf("the retry: %d %v", r.status, r.body)
	}
	if st := e.stats(t, e.acme); st.Volume30d != 3 {
		t.Errorf("after the retry: volume %v, want 3", st.Volume30d)
	}
}

// An id used once is never used for other content: another quantity, side,
// client or call under a known id is refused with 409 and changes nothing,
// while the same delivery again is still applied once.
func TestReusedIDIsRefused(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		first := e.fill("R-1", e.acme, 10)
		if r := e.post(t, "/webhooks/orders", mustJSON(first), nil); r.status != http.StatusOK {
			t.Fatalf("first delivery: %d %v", r.status, r.body)
		}
		bigger := e.fill("R-1", e.acme, 500)
		bigger["side"] = "sell"
		elsewhere := e.fill("R-1", e.plains, 10)
		fresh := e.fill("R-2", e.acme, 3)
		for _, tc := range []struct {
			name string
			body []byte
			want string
		}{
			{"other quantity and side", mustJSON(bigger), `id: "R-1" is already recorded`},
			{"another client", mustJSON(elsewhere), `id: "R-1" is already recorded`},
			{"in a batch with a new event", mustJSON(map[string]any{"events": []any{fresh, bigger}}), `events[1].id: "R-1" is already recorded`},
		} {
			r := e.post(t, "/webhooks/orders", tc.body, nil)
			if r.status != http.StatusConflict || r.errorCode() != string(store.ECONFLICT) || !strings.Contains(r.errorMessage(), tc.want) {
				t.Errorf("%s: %d %v; want 409 with %q", tc.name, r.status, r.body, tc.want)
			}
		}
		evs := e.events(t, e.acme)
		if len(evs) != 1 || evs[0].Attrs.Order.Quantity != 10 || evs[0].Attrs.Order.Side != "buy" {
			t.Fatalf("acme's timeline after reuse: %v; want only the first fill of 10", evs)
		}
		if n := len(e.events(t, e.plains)); n != 0 {
			t.Errorf("plains got %d events from a reused id", n)
		}
		if st := e.stats(t, e.acme); st.Trades30d != 1 || st.Volume30d != 10 {
			t.Errorf("acme's statistics %+v; want the one fill of 10", st)
		}
		if r := e.post(t, "/webhooks/orders", mustJSON(first), nil); r.status != http.StatusOK || r.body["new_fills"] != 0.0 {
			t.Errorf("the first delivery again: %d %v; want 200 and no new fill", r.status, r.body)
		}

		call := map[string]any{"id": "RC-1", "direction": "outbound", "client": e.acme.Handle,
			"started_at": e.now.Format(time.RFC3339), "summary": "Talked through the Dec spread"}
		if r := e.post(t, "/webhooks/calls", mustJSON(call), nil); r.status != http.StatusOK {
			t.Fatalf("call: %d %v", r.status, r.body)
		}
		call["summary"] = "Client asked to close everything"
		if r := e.post(t, "/webhooks/calls", mustJSON(call), nil); r.status != http.StatusConflict {
			t.Errorf("a call id reused with another summary: %d %v; want 409", r.status, r.body)
		}
	})
}

// A reused id refuses only its own request: deliveries written in the same
// group by other senders are stored.
func TestReusedIDRefusesOnlyItsSender(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		if r := e.post(t, "/webhooks/orders", mustJSON(e.fill("G-0", e.acme, 1)), nil); r.status != http.StatusOK {
			t.Fatalf("%d %v", r.status, r.body)
		}
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				if i%3 == 0 {
					r := e.post(t, "/webhooks/orders", mustJSON(e.fill("G-0", e.plains, float64(i+2))), nil)
					if r.status != http.StatusConflict {
						t.Errorf("reuse %d: %d %v; want 409", i, r.status, r.body)
					}
					return
				}
				r := e.post(t, "/webhooks/orders", mustJSON(e.fill(fmt.Sprintf("G-%d", i+1), e.acme, 1)), nil)
				if r.status != http.StatusOK {
					t.Errorf("innocent %d: %d %v", i, r.status, r.body)
				}
			})
		}
		wg.Wait()
		if n := len(e.events(t, e.acme)); n != 9 {
			t.Errorf("acme has %d events, want 9 (the first and 8 innocent fills)", n)
		}
		if n := len(e.events(t, e.plains)); n != 0 {
			t.Errorf("plains has %d events from reused ids", n)
		}
	})
}
