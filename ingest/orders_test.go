package ingest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

var now = time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

func order() ingest.OrderEvent {
	return ingest.OrderEvent{
		ID: "EX-1", OrderID: "O-1", ExecID: "X-1", Client: "acme-grain", Status: "filled", Side: "buy",
		Contract: "ZCZ6", Quantity: f(10), CumQty: f(10), LastQty: f(10), LastPx: f(452.25), AvgPx: f(452.25),
		Currency: "usd", OrderType: "limit", TimeInForce: "GTC", Time: "2026-11-30T14:30:00Z",
	}
}

func TestParseOrderSummaries(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ingest.OrderEvent)
		want   string
		fill   bool
	}{
		{"filled at once", func(*ingest.OrderEvent) {}, "Filled buy 10 ZCZ6 (Dec 2026 corn) @ 452.25", true},
		{"last fill of several", func(e *ingest.OrderEvent) { e.LastQty, e.LastPx, e.AvgPx = f(4), f(452.5), f(452.35) },
			"Filled buy 4 ZCZ6 (Dec 2026 corn) @ 452.5, order of 10 complete (avg 452.35)", true},
		{"partial", func(e *ingest.OrderEvent) { e.Status, e.LastQty, e.CumQty = "partially filled", f(3), f(5) },
			"Partially filled buy 3 ZCZ6 (Dec 2026 corn) @ 452.25, 5 of 10 filled", true},
		{"placed limit", func(e *ingest.OrderEvent) {
			e.Status, e.Price, e.LastQty, e.LastPx, e.CumQty = "new", f(452), nil, nil, nil
		},
			"Placed buy 10 ZCZ6 (Dec 2026 corn), limit 452 GTC", false},
		{"placed market, FIX codes", func(e *ingest.OrderEvent) { e.Status, e.Side, e.OrderType, e.TimeInForce = "0", "2", "market", "day" },
			"Placed sell 10 ZCZ6 (Dec 2026 corn) at market", false},
		{"cancelled part-filled", func(e *ingest.OrderEvent) { e.Status, e.CumQty = "canceled", f(5) },
			"Cancelled buy 10 ZCZ6 (Dec 2026 corn), 5 filled", false},
		{"rejected", func(e *ingest.OrderEvent) { e.Status, e.CumQty = "rejected", f(0) }, "Rejected buy 10 ZCZ6 (Dec 2026 corn)", false},
		{"negative spread price", func(e *ingest.OrderEvent) { e.LastPx = f(-2.5) }, "Filled buy 10 ZCZ6 (Dec 2026 corn) @ -2.5", true},
		{"id defaults to exec id", func(e *ingest.OrderEvent) { e.ID = "" }, "Filled buy 10 ZCZ6 (Dec 2026 corn) @ 452.25", true},
	}
	client := &store.Client{ID: store.EventID("test", "client"), Handle: "acme-grain"}
	for _, tc := range tests {
		ev := order()
		tc.change(&ev)
		o, err := ingest.ParseOrder(ev, now, store.DefaultCatalogue())
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		e := o.Event(client)
		if e.Summary != tc.want {
			t.Errorf("%s: summary %q, want %q", tc.name, e.Summary, tc.want)
		}
		fill := o.Fill(client)
		if (fill != nil) != tc.fill {
			t.Errorf("%s: fill %+v, want a fill: %v", tc.name, fill, tc.fill)
		}
		if fill != nil && (fill.EventID != e.ID || fill.Quantity != *ev.LastQty || fill.Commodity != "corn" || !fill.At.Equal(e.Time)) {
			t.Errorf("%s: fill %+v does not match event %v", tc.name, fill, e)
		}
		if err := e.Prepare(); err != nil {
			t.Errorf("%s: the event does not prepare: %v", tc.name, err)
		}
	}
}

func TestParseOrderRejects(t *testing.T) {
	tests := []struct {
		field  string
		change func(*ingest.OrderEvent)
	}{
		{"id", func(e *ingest.OrderEvent) { e.ID, e.ExecID = "", "" }},
		{"id", func(e *ingest.OrderEvent) { e.ID = strings.Repeat("x", 201) }},
		{"client", func(e *ingest.OrderEvent) { e.Client = " " }},
		{"status", func(e *ingest.OrderEvent) { e.Status = "expired" }},
		{"status", func(e *ingest.OrderEvent) { e.Status = "" }},
		{"side", func(e *ingest.OrderEvent) { e.Side = "short" }},
		{"contract", func(e *ingest.OrderEvent) { e.Contract = "ZCA6" }},
		{"contract", func(e *ingest.OrderEvent) { e.Contract = "ZCZ5" }}, // expired a year before the fill
		{"quantity", func(e *ingest.OrderEvent) { e.Quantity = nil }},
		{"quantity", func(e *ingest.OrderEvent) { e.Quantity = f(0) }},
		{"cum_qty", func(e *ingest.OrderEvent) { e.CumQty = f(11) }},
		{"last_qty", func(e *ingest.OrderEvent) { e.LastQty = nil }},
		{"last_qty", func(e *ingest.OrderEvent) { e.LastQty = f(12) }},
		{"last_px", func(e *ingest.OrderEvent) { e.LastPx = nil }},
		{"currency", func(e *ingest.OrderEvent) { e.Currency = "dollars" }},
		{"order_type", func(e *ingest.OrderEvent) { e.OrderType = "iceberg" }},
		{"time_in_force", func(e *ingest.OrderEvent) { e.TimeInForce = "forever" }},
		{"time", func(e *ingest.OrderEvent) { e.Time = "" }},
		{"time", func(e *ingest.OrderEvent) { e.Time = "30/11/2026 14:30" }},
		{"time", func(e *ingest.OrderEvent) { e.Time = "2026-12-25T00:00:00Z" }}, // in the future
	}
	for _, tc := range tests {
		ev := order()
		tc.change(&ev)
		_, err := ingest.ParseOrder(ev, now, store.DefaultCatalogue())
		var se *store.Error
		if !asStoreError(err, &se) || se.Code != store.EINVALID || se.Field != tc.field {
			t.Errorf("%s: got %v, want EINVALID on %s", tc.field, err, tc.field)
		}
	}
}

func TestParseEventTimeFIX(t *testing.T) {
	got, err := ingest.ParseEventTime("time", "20261130-14:30:00.250", now)
	if want := time.Date(2026, 11, 30, 14, 30, 0, 250e6, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("FIX UTCTimestamp: %v, %v; want %v", got, err, want)
	}
	got, err = ingest.ParseEventTime("time", "2026-11-30T08:30:00-06:00", now)
	if err != nil || got != time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC) {
		t.Errorf("RFC 3339 with offset: %v, %v", got, err)
	}
}

func TestParseCall(t *testing.T) {
	client := &store.Client{ID: store.EventID("test", "client"), Handle: "acme-grain"}
	in := ingest.CallEvent{ID: "call-1", From: "+1 (312) 555-0100", To: "2125550199", Direction: "inbound",
		DurationSeconds: f(725), StartedAt: "2026-11-30T14:00:00Z", Transcript: "Thanks, great fill on the crude."}
	c, err := ingest.ParseCall(in, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.FarEnd != "+13125550100" {
		t.Errorf("far end %q, want the caller in E.164", c.FarEnd)
	}
	e := c.Event(client)
	if e.Summary != "Inbound call, 12m 5s" || e.Body != in.Transcript || e.Attrs.Call.To != "+12125550199" || e.Kind != store.KindCall {
		t.Errorf("event %+v %+v", e, e.Attrs.Call)
	}
	out := in
	out.Direction, out.From, out.To = "outbound", "ext 204", "+13125550100"
	if c, err := ingest.ParseCall(out, now); err != nil || c.FarEnd != "+13125550100" || c.Attrs.From != "ext 204" {
		t.Errorf("outbound from an extension: %+v, %v", c, err)
	}

	bad := []struct {
		field  string
		change func(*ingest.CallEvent)
	}{
		{"id", func(e *ingest.CallEvent) { e.ID = "" }},
		{"direction", func(e *ingest.CallEvent) { e.Direction = "sideways" }},
		{"from", func(e *ingest.CallEvent) { e.From = "not a number" }},
		{"from", func(e *ingest.CallEvent) { e.From = "" }},
		{"to", func(e *ingest.CallEvent) { e.Direction, e.To = "outbound", "12" }},
		{"duration_seconds", func(e *ingest.CallEvent) { e.DurationSeconds = f(-1) }},
		{"duration_seconds", func(e *ingest.CallEvent) { e.DurationSeconds = f(725000) }},
		{"started_at", func(e *ingest.CallEvent) { e.StartedAt = "yesterday" }},
	}
	for _, tc := range bad {
		ev := in
		tc.change(&ev)
		_, err := ingest.ParseCall(ev, now)
		var se *store.Error
		if !asStoreError(err, &se) || se.Code != store.EINVALID || se.Field != tc.field {
			t.Errorf("%s: got %v, want EINVALID on %s", tc.field, err, tc.field)
		}
	}
	// A number written in E.164 that no one can have (area code 555) is
	// not a format mistake: the refusal says what is wrong, and is ENOTFOUND
	// (422) like a number no client has.
	for _, tc := range []struct {
		from, says string
		code       store.Code
	}{
		{"+15555550100", "not a number in use", store.ENOTFOUND},
		{"+1 312 555", "too few digits", store.EINVALID},
		{"+1312555010099", "too many digits", store.EINVALID},
		{"+999123456", "no country code", store.EINVALID},
	} {
		ev := in
		ev.From = tc.from
		_, err := ingest.ParseCall(ev, now)
		var se *store.Error
		if !asStoreError(err, &se) || se.Code != tc.code || se.Field != "from" || !strings.Contains(se.Message, tc.says) || strings.Contains(se.Message, "use E.164") {
			t.Errorf("from %s: got %v; want %s on from saying %q", tc.from, err, tc.code, tc.says)
		}
	}
	named := in
	named.From, named.Client = "", "acme-grain"
	if _, err := ingest.ParseCall(named, now); err != nil {
		t.Errorf("a call naming its client needs no number: %v", err)
	}
}
