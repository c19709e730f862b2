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
}

func TestMoney(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 950: "950", 9999: "9999", 12500: "12.5k", 141000: "141k", 3.2e6: "3.2m", -5e6: "-5m", 1.1e9: "1.1bn"} {
		if got := bot.Money(v); got != want {
			t.Errorf("Money(%v) = %q, want %q", v, got, want)
		}
	}
}
