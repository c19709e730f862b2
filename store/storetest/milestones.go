package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// MilestoneBackend is what the milestone contract needs.
type MilestoneBackend interface {
	store.MilestoneStore
	store.TradeStore
}

// RunMilestoneStoreTests runs the milestone contract against one backend.
// newStore is called once per subtest and must return an empty store.
func RunMilestoneStoreTests(t *testing.T, newStore func(t *testing.T) MilestoneBackend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s MilestoneBackend)
	}{
		{"DeskSettings", testDeskMilestones},
		{"OpenPositionsAreNetOfFills", testOpenPositions},
		{"LargeFills", testLargeFills},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func testDeskMilestones(t *testing.T, s MilestoneBackend) {
	ctx := t.Context()
	d, err := s.DeskMilestones(ctx, "grain-desk")
	if err != nil {
		t.Fatal(err)
	}
	if *d != *store.DefaultDeskMilestones("grain-desk") {
		t.Fatalf("a new desk has %+v; want the defaults", d)
	}
	d.Enabled, d.Lead, d.PositionLead, d.LargeTrade, d.KYCRefresh, d.GoalThreshold, d.Zone, d.UpdatedBy =
		false, 36*time.Hour, 5, 250_000, 6, 90, "America/Chicago", "U0ADMIN"
	if err := s.SetDeskMilestones(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeskMilestones(ctx, "grain-desk")
	if err != nil {
		t.Fatal(err)
	}
	if got.UpdatedAt.IsZero() {
		t.Error("no update time")
	}
	got.UpdatedAt, d.UpdatedAt = time.Time{}, time.Time{}
	if *got != *d {
		t.Fatalf("stored %+v; read %+v", d, got)
	}
	if other, _ := s.DeskMilestones(ctx, "energy-desk"); other.Lead != store.DefaultMilestoneLead {
		t.Errorf("another desk has %+v", other)
	}
	for _, bad := range []func(d *store.DeskMilestones){
		func(d *store.DeskMilestones) { d.Lead = 91 * 24 * time.Hour },
		func(d *store.DeskMilestones) { d.Lead = 30 * time.Second },
		func(d *store.DeskMilestones) { d.PositionLead = -1 },
		func(d *store.DeskMilestones) { d.LargeTrade = -5 },
		func(d *store.DeskMilestones) { d.KYCRefresh = 61 },
		func(d *store.DeskMilestones) { d.GoalThreshold = 0 },
		func(d *store.DeskMilestones) { d.Zone = "Mars/Olympus" },
		func(d *store.DeskMilestones) { d.Desk = "" },
	} {
		d := store.DefaultDeskMilestones("grain-desk")
		bad(d)
		if err := s.SetDeskMilestones(ctx, d); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("stored %+v: %v; want EINVALID", d, err)
		}
	}
	if got, _ := s.DeskMilestones(ctx, "grain-desk"); got.Zone != "America/Chicago" {
		t.Errorf("refused settings changed the desk: %+v", got)
	}
}

func fill(t *testing.T, s MilestoneBackend, client uuid.UUID, at time.Time, commodity, contract, side string, qty, price float64) store.Fill {
	t.Helper()
	f := store.Fill{EventID: uuid.New(), ClientID: client, At: at, Commodity: commodity, Contract: contract, Side: side, Quantity: qty, Price: price}
	if _, err := s.RecordFill(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	return f
}

func testOpenPositions(t *testing.T, s MilestoneBackend) {
	a, b := uuid.New(), uuid.New()
	at := time.Date(2026, 10, 1, 15, 0, 0, 0, time.UTC)
	fill(t, s, a, at.Add(time.Hour), "corn", "ZCZ26", "buy", 7, 4.4)
	fill(t, s, a, at, "corn", "ZCZ26", "buy", 5, 4.4)
	fill(t, s, a, at.Add(2*time.Hour), "corn", "ZCZ26", "sell", 2, 4.5)
	fill(t, s, a, at, "wti", "CLF27", "sell", 3, 70)
	fill(t, s, b, at, "corn", "ZCZ26", "buy", 0.5, 4.4)
	fill(t, s, b, at, "corn", "ZCZ26", "sell", 0.5, 4.4)
	fill(t, s, b, at, "", "", "buy", 1, 1) // no contract
	ps, err := s.OpenPositions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Position{}
	for _, p := range ps {
		got[p.ClientID.String()+" "+p.Contract] = p
	}
	if len(ps) != 2 {
		t.Fatalf("positions %+v; want a's two", ps)
	}
	if p := got[a.String()+" ZCZ26"]; p.Net != 10 || p.Commodity != "corn" || !p.Since.Equal(at) {
		t.Errorf("ZCZ26: %+v; want net 10 since %s", p, at)
	}
	if p := got[a.String()+" CLF27"]; p.Net != -3 || p.Commodity != "wti" {
		t.Errorf("CLF27: %+v; want net -3", p)
	}
}

func testLargeFills(t *testing.T, s MilestoneBackend) {
	c := uuid.New()
	at := time.Date(2025, 12, 12, 16, 0, 0, 0, time.UTC)
	big := fill(t, s, c, at, "corn", "ZCZ25", "buy", 50, 4.5225)             // USD 1,130,625
	fill(t, s, c, at.Add(time.Hour), "corn", "ZCZ25", "buy", 2, 4.5)         // USD 45,000
	fill(t, s, c, at, "canola", "RSF26", "buy", 10000, 600)                  // CAD: not counted
	huge := fill(t, s, c, at.Add(-time.Hour), "wti", "CLF26", "buy", 40, 70) // USD 2,800,000
	fs, err := s.LargeFills(t.Context(), 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].EventID != huge.EventID || fs[1].EventID != big.EventID || fs[1].Quantity != 50 || fs[1].Contract != "ZCZ25" ||
		fs[1].ClientID != c || !fs[1].At.Equal(at) || fs[1].Side != "buy" || fs[1].Price != 4.5225 {
		t.Fatalf("large fills %+v; want the WTI then the corn fill", fs)
	}
}
