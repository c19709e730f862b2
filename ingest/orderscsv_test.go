package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

func asStoreError(err error, target **store.Error) bool { return errors.As(err, target) }

// desk is an embedded store with two clients, and the intake over it.
type desk struct {
	db     *embedded.DB
	intake *ingest.Intake
	acme   *store.Client
	plains *store.Client
}

func newDesk(t *testing.T) *desk {
	t.Helper()
	db, err := embedded.Open(context.Background(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := &desk{db: db}
	d.acme = &store.Client{Handle: "acme-grain", Name: "Acme Grain Co-op", Accounts: []string{"ACC-1001"},
		Phones: []store.Phone{{Kind: store.Work, Number: "+13125550100"}}}
	d.plains = &store.Client{Handle: "plains-coop", Name: "Plains Co-op"}
	for _, c := range []*store.Client{d.acme, d.plains} {
		if err := db.CreateClient(t.Context(), c, "U0TEST"); err != nil {
			t.Fatal(err)
		}
	}
	d.intake = &ingest.Intake{Catalogue: store.DefaultCatalogue(), Clients: db, Trades: db, Recorder: &ingest.Recorder{Timeline: db.Timeline()},
		Now: func() time.Time { return now }}
	return d
}

func (d *desk) events(t *testing.T, c *store.Client) []*store.Event {
	t.Helper()
	page, err := d.db.Timeline().Events(t.Context(), c.ID, store.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func (d *desk) volume(t *testing.T, c *store.Client) float64 {
	t.Helper()
	st, err := d.db.TradeStats(t.Context(), c.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	return st.Volume365d
}

const history = `id,order_id,client,status,side,contract,quantity,cum_qty,last_qty,last_px,time,notes
E-1,O-1,acme-grain,placed,buy,ZCZ6,10,0,,,2026-03-02T15:00:00Z,"working a buy, 4.52 limit"
E-2,O-1,acme-grain,partially_filled,buy,ZCZ6,10,4,4,452.25,2026-03-02T15:04:05Z,
E-3,O-1,acme-grain,filled,buy,ZCZ6,10,10,6,452.5,2026-03-02T15:05:00Z,
E-4,O-2,plains-coop,filled,sell,CLF7,2,2,2,71.3,20260303-09:00:00,
`

func TestImportOrders(t *testing.T) {
	d := newDesk(t)
	file, err := ingest.ReadOrdersCSV(strings.NewReader("\ufeff" + history))
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.intake.ImportOrders(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 4 || st.NewFills != 3 || st.DuplicateFills != 0 {
		t.Errorf("first import: %+v; want 4 events, 3 new fills", st)
	}
	evs := d.events(t, d.acme)
	if len(evs) != 3 || evs[0].Summary != "Filled buy 6 ZCZ6 (Dec 2026 corn) @ 452.5, order of 10 complete" {
		t.Errorf("acme's timeline: %v", evs)
	}
	if evs[2].Body != "working a buy, 4.52 limit" {
		t.Errorf("broker notes not kept: %q", evs[2].Body)
	}
	if v := d.volume(t, d.acme); v != 10 {
		t.Errorf("acme's volume %v, want 10 (4 + 6; the placement is no fill)", v)
	}

	// Importing the same history again changes nothing.
	file, _ = ingest.ReadOrdersCSV(strings.NewReader(history))
	st, err = d.intake.ImportOrders(t.Context(), file)
	if err != nil || st.NewFills != 0 || st.DuplicateFills != 3 {
		t.Errorf("second import: %+v, %v; want 0 new fills, 3 duplicates", st, err)
	}
	if n := len(d.events(t, d.acme)); n != 3 {
		t.Errorf("after re-import acme has %d events, want 3", n)
	}
	if v := d.volume(t, d.acme); v != 10 {
		t.Errorf("after re-import acme's volume %v, want 10", v)
	}
}

// Every bad file is refused whole, naming the line, and stores nothing.
func TestImportOrdersRejects(t *testing.T) {
	header := "id,client,status,side,contract,quantity,last_qty,last_px,time\n"
	good := "E-1,acme-grain,filled,buy,ZCZ6,10,10,452.25,2026-03-02T15:04:05Z\n"
	tests := []struct {
		name, file string
		mentions   []string
	}{
		{"empty", "", []string{"empty"}},
		{"header only", header, []string{"no order events"}},
		{"unknown column", "id,client,status,side,contract,quantity,time,colour\n", []string{"line 1", `"colour"`}},
		{"duplicate column", "id,client,client,status,side,contract,quantity,time\n", []string{"line 1", "twice"}},
		{"missing column", "id,client,status,contract,quantity,time\n", []string{"line 1", `"side"`}},
		{"bad number", header + good + "E-2,acme-grain,filled,buy,ZCZ6,1 000,10,452.25,2026-03-02T15:04:05Z\n", []string{"line 3", "quantity", `"1 000"`}},
		{"short row", header + good + "E-2,acme-grain\n", []string{"line 3"}},
		{"bad contract", header + good + "E-2,acme-grain,filled,buy,ZCA6,10,10,452.25,2026-03-02T15:04:05Z\n", []string{"line 3", "contract", `"ZCA6"`}},
		{"contract not in the catalogue", header + good + "E-2,acme-grain,filled,buy,ZZZ9,10,10,452.25,2026-03-02T15:04:05Z\n", []string{"line 3", `contract: "ZZZ9" is not a contract in the catalogue`}},
		{"unknown client", header + good + "E-2,nobody-here,filled,buy,ZCZ6,10,10,452.25,2026-03-02T15:04:05Z\n", []string{"line 3", "client", `"nobody-here"`}},
		{"quoted newline shifts lines", header + `E-0,acme-grain,placed,buy,ZCZ6,10,,,"2026-03-02T15:04:05Z"` + "\n" + "E-9,acme-grain,placed,buy,\"ZC\nZ6\",10,,,2026-03-02T15:04:05Z\n", []string{"line 3", "contract"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t)
			file, err := ingest.ReadOrdersCSV(strings.NewReader(tc.file))
			if err == nil {
				_, err = d.intake.ImportOrders(t.Context(), file)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %s", err, m)
				}
			}
			if n := len(d.events(t, d.acme)); n != 0 {
				t.Errorf("a refused file stored %d events", n)
			}
			if v := d.volume(t, d.acme); v != 0 {
				t.Errorf("a refused file counted volume %v", v)
			}
		})
	}
}

func TestPrepareOrdersMatchesClients(t *testing.T) {
	d := newDesk(t)
	for _, ref := range []string{"acme-grain", "ACME-GRAIN", d.acme.ID.String(), "ACC-1001", "acc-1001", "+1 312 555 0100"} {
		ev := order()
		ev.Client = ref
		entries, err := d.intake.PrepareOrders(t.Context(), []ingest.OrderEvent{ev})
		if err != nil || entries[0].Client.ID != d.acme.ID {
			t.Errorf("client %q: %v", ref, err)
		}
	}
	ev := order()
	ev.Client = "ACC-9999"
	_, err := d.intake.PrepareOrders(t.Context(), []ingest.OrderEvent{order(), ev})
	var ie *ingest.ItemError
	if !errors.As(err, &ie) || ie.Index != 1 || store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("unknown account: %v; want ENOTFOUND on event 1", err)
	}
}

func TestPrepareCallsMatchesByFarEnd(t *testing.T) {
	d := newDesk(t)
	in := ingest.CallEvent{ID: "c1", From: "+1 312 555 0100", To: "+12125550199", Direction: "inbound", StartedAt: "2026-11-30T14:00:00Z"}
	out := ingest.CallEvent{ID: "c2", From: "+13125550100", To: "+12125550199", Direction: "outbound", StartedAt: "2026-11-30T14:00:00Z"}
	named := ingest.CallEvent{ID: "c3", To: "+12125550199", Direction: "outbound", Client: "plains-coop", StartedAt: "2026-11-30T14:00:00Z"}
	entries, err := d.intake.PrepareCalls(t.Context(), []ingest.CallEvent{in, named})
	if err != nil || entries[0].Client.ID != d.acme.ID || entries[1].Client.ID != d.plains.ID {
		t.Fatalf("PrepareCalls: %v", err)
	}
	// Outbound, the far end is the callee: +12125550199 is nobody's.
	_, err = d.intake.PrepareCalls(t.Context(), []ingest.CallEvent{out})
	var se *store.Error
	if !errors.As(err, &se) || se.Code != store.ENOTFOUND || se.Field != "to" || !strings.Contains(se.Message, "+12125550199") {
		t.Errorf("outbound call to an unknown number: %v", err)
	}
}
