package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// /client show tells a broker what to know before a call: fills and
// notional per window, what the client trades, the last contacts each way
// (a note is not one) and the client's recent sentiment.
func testShowActivity(t *testing.T, h *harness) {
	// Labels are padded to line up; one space stands for the padding here.
	plain := func() string {
		return strings.Join(strings.FieldsFunc(bot.PlainText(h.ok(h.broker, "/client", "show "+h.acme)), func(r rune) bool { return r == ' ' }), " ")
	}
	if p := plain(); !strings.Contains(p, "Activity") || !strings.Contains(p, "none in 365 days") || !strings.Contains(p, "Last contact in: none") {
		t.Errorf("a new client's activity:\n%s", p)
	}
	cl := h.client(h.acme)
	now := time.Now().UTC()
	for _, f := range []store.Fill{
		{EventID: uuid.New(), ClientID: cl.ID, At: now.Add(-2 * time.Hour), Commodity: "wti", Contract: "CLZ9", Side: "buy", Quantity: 2, Price: 70.5},
		{EventID: uuid.New(), ClientID: cl.ID, At: now.Add(-40 * 24 * time.Hour), Commodity: "corn", Contract: "ZCZ9", Side: "sell", Quantity: 10, Price: 4.5},
	} {
		if _, err := h.st.Stats.RecordFill(h.ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	h.ok(h.broker, "/log", h.acme+" call inbound 10 min Asked about the crude spread, very happy with the fills")
	h.ok(h.broker, "/note", h.acme+" follow up on the hedge next week")
	p := plain()
	for _, want := range []string{
		"Fills: 1 fill (2 contracts) 30d · 2 fills (12 contracts) 90d · 2 fills (12 contracts) 365d",
		"Notional (USD): 141k 30d · 366k 90d · 366k 365d",
		"Traded: corn, wti (agriculture, energy)",
		"Last fill: ", "2 hours ago",
		"Last contact in: call ", "within the hour",
		"Last contact out: none",
		"Sentiment: +",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("activity lacks %q:\n%s", want, p)
		}
	}
	// The note added nothing: still no outbound contact; an outbound email does.
	h.ok(h.broker, "/log", h.acme+" meeting Quarterly review at their office")
	if p := plain(); !strings.Contains(p, "Last contact out: meeting ") {
		t.Errorf("after a meeting:\n%s", p)
	}

	// Responsiveness: a recommendation logged now is within its window; one
	// of ten days ago followed by a corn fill three days later counts.
	if p := plain(); strings.Contains(p, "Recommendations:") || strings.Contains(p, "Replies:") {
		t.Errorf("responsiveness before any recommendation or reply:\n%s", p)
	}
	h.ok(h.broker, "/log", h.acme+" recommendation Buy WTI on the dip below 68")
	if p := plain(); !strings.Contains(p, "Recommendations: none decided yet; 1 still within 5 business days") {
		t.Errorf("after a recommendation:\n%s", p)
	}
	day := 24 * time.Hour
	if _, err := h.st.Stats.RecordRecommendations(h.ctx, store.Recommendation{EventID: uuid.New(), ClientID: cl.ID, At: now.Add(-10 * day), Commodity: "corn"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.Stats.RecordFill(h.ctx, store.Fill{EventID: uuid.New(), ClientID: cl.ID, At: now.Add(-7 * day), Commodity: "corn", Contract: "ZCZ9", Side: "buy", Quantity: 1, Price: 4.4}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.Stats.RecordContacts(h.ctx,
		store.Contact{EventID: uuid.New(), ClientID: cl.ID, At: now.Add(-3 * day), Kind: store.KindEmail, Direction: store.Outbound},
		store.Contact{EventID: uuid.New(), ClientID: cl.ID, At: now.Add(-2*day - 6*time.Hour), Kind: store.KindEmail, Direction: store.Inbound}); err != nil {
		t.Fatal(err)
	}
	p = plain()
	for _, want := range []string{"Recommendations: followed 1 of 1 recommendation (100%); 1 still within 5 business days", "Replies: replies in 18.0 h (median of 1)"} {
		if !strings.Contains(p, want) {
			t.Errorf("activity lacks %q:\n%s", want, p)
		}
	}
	if p := bot.PlainText(h.ok(h.broker, "/segment", "preview "+"desk:"+h.desk+" responsive>=0.5 reply.median<1d")); !strings.Contains(p, h.acme) || !strings.Contains(p, "followed 1 of 1") {
		t.Errorf("preview by responsiveness:\n%s", p)
	}
}

func TestMoney(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 950: "950", 9999: "9999", 12500: "12.5k", 141000: "141k", 3.2e6: "3.2m", -5e6: "-5m", 1.1e9: "1.1bn"} {
		if got := bot.Money(v); got != want {
			t.Errorf("Money(%v) = %q, want %q", v, got, want)
		}
	}
}
