package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunTradeStoreTests runs the trading statistics contract against one
// backend. Like the other suites, subtests use their own random client and
// event ids, so newStore may hand out one shared store, and they run in
// parallel. The suite does not close the store.
//
// Contract checked here beyond the interface comments: windows are
// (now-N days, now]; fills after now are not counted; Commodities are the
// non-empty commodities traded in the last 365 days, sorted.
func RunTradeStoreTests(t *testing.T, newStore func(t *testing.T) store.TradeStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.TradeStore)
	}{
		{"FirstThenDuplicate", testFillOnce},
		{"DuplicateWithOtherValuesChangesNothing", testFillDuplicateOtherValues},
		{"ConcurrentDuplicatesCountOnce", testFillConcurrent},
		{"Windows", testTradeWindows},
		{"EmptyClient", testTradeEmpty},
		{"ClientsAreSeparate", testTradeClientsSeparate},
		{"InvalidFill", testFillInvalid},
		{"ClientsTrading", testClientsTrading},
		{"RecordFillsBatch", testRecordFills},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// tradeNow is the suite's "now": fixed, so windows are exact, and with a
// sub-millisecond part that backends must not trip over.
var tradeNow = time.Date(2026, 11, 30, 15, 4, 5, 123000000, time.UTC)

func newFill(client uuid.UUID, at time.Time, commodity string, qty float64) store.Fill {
	return store.Fill{
		EventID:   uuid.New(),
		ClientID:  client,
		At:        at,
		Commodity: commodity,
		Contract:  "ZCZ6",
		Side:      "buy",
		Quantity:  qty,
		Price:     452.25,
	}
}

func recordFill(t *testing.T, s store.TradeStore, f store.Fill, wantFirst bool) {
	t.Helper()
	first, err := s.RecordFill(t.Context(), f)
	if err != nil {
		t.Fatalf("RecordFill(%v): %v", f.EventID, err)
	}
	if first != wantFirst {
		t.Fatalf("RecordFill(%v) first = %v, want %v", f.EventID, first, wantFirst)
	}
}

func tradeStats(t *testing.T, s store.TradeStore, client uuid.UUID, now time.Time) store.TradeStats {
	t.Helper()
	st, err := s.TradeStats(t.Context(), client, now)
	if err != nil {
		t.Fatalf("TradeStats: %v", err)
	}
	return st
}

func wantTradeStats(t *testing.T, what string, got, want store.TradeStats) {
	t.Helper()
	g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want)
	if g != w || !got.FirstFill.Equal(want.FirstFill) || !got.LastFill.Equal(want.LastFill) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testFillOnce(t *testing.T, s store.TradeStore) {
	client := uuid.New()
	f := newFill(client, tradeNow.Add(-time.Hour), "corn", 10)
	recordFill(t, s, f, true)
	for range 3 {
		recordFill(t, s, f, false)
	}
	st := tradeStats(t, s, client, tradeNow)
	if st.Trades30d != 1 || st.Volume30d != 10 {
		t.Errorf("after one fill recorded four times: %d trades, volume %v; want 1 and 10", st.Trades30d, st.Volume30d)
	}
}

func testFillDuplicateOtherValues(t *testing.T, s store.TradeStore) {
	client := uuid.New()
	f := newFill(client, tradeNow.Add(-time.Hour), "corn", 10)
	recordFill(t, s, f, true)
	g := f
	g.Quantity, g.Commodity, g.At = 99, "wti", tradeNow.Add(-2*time.Hour)
	recordFill(t, s, g, false)
	st := tradeStats(t, s, client, tradeNow)
	if st.Volume30d != 10 || !slices.Equal(st.Commodities, []string{"corn"}) || !st.LastFill.Equal(f.At.Truncate(time.Microsecond)) {
		t.Errorf("a second recording with other values changed the statistics: %+v", st)
	}
}

// Several ingest workers handed the same redelivered fill: exactly one of
// them counts it.
func testFillConcurrent(t *testing.T, s store.TradeStore) {
	client := uuid.New()
	f := newFill(client, tradeNow.Add(-time.Minute), "gold", 3)
	const n = 16
	var mu sync.Mutex
	firsts := 0
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			first, err := s.RecordFill(t.Context(), f)
			if err != nil {
				t.Errorf("RecordFill: %v", err)
				return
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d of %d concurrent recordings of one fill reported first, want exactly 1", firsts, n)
	}
	if st := tradeStats(t, s, client, tradeNow); st.Trades30d != 1 || st.Volume30d != 3 {
		t.Errorf("after concurrent recordings: %d trades, volume %v; want 1 and 3", st.Trades30d, st.Volume30d)
	}
}

func testTradeWindows(t *testing.T, s store.TradeStore) {
	client := uuid.New()
	at := func(d time.Duration) time.Time { return tradeNow.Add(-d) }
	const day = 24 * time.Hour
	fills := []store.Fill{
		newFill(client, tradeNow, "corn", 1),                      // now itself counts
		newFill(client, at(29*day), "corn", 2),                    // 30d
		newFill(client, at(30*day), "wti", 4),                     // exactly 30 days ago: outside 30d, inside 90d
		newFill(client, at(89*day), "", 8),                        // not in the catalogue: counted, no commodity
		newFill(client, at(200*day), "gold", 16),                  // 365d
		newFill(client, at(365*day-time.Millisecond), "gold", 32), // just inside 365d
		newFill(client, at(400*day), "coffee", 64),                // older than a year: first fill only
		newFill(client, tradeNow.Add(time.Minute), "sugar", 128),  // after now: not yet
	}
	for _, f := range fills {
		recordFill(t, s, f, true)
	}
	wantTradeStats(t, "stats as of now", tradeStats(t, s, client, tradeNow), store.TradeStats{
		Trades30d: 2, Volume30d: 3,
		Trades90d: 4, Volume90d: 15,
		Trades365d: 6, Volume365d: 63,
		// quantity × 452.25 × contract size: corn 5000, wti 1000, gold 100
		Notional30d: 3 * 452.25 * 5000, Notional90d: 3*452.25*5000 + 4*452.25*1000,
		Notional365d: 3*452.25*5000 + 4*452.25*1000 + 48*452.25*100,
		Commodities:  []string{"corn", "gold", "wti"},
		FirstFill:    at(400 * day),
		LastFill:     tradeNow,
	})
	// A minute later the future fill has happened.
	later := tradeStats(t, s, client, tradeNow.Add(time.Minute))
	if later.Trades30d != 3 || !later.LastFill.Equal(tradeNow.Add(time.Minute)) || !slices.Contains(later.Commodities, "sugar") {
		t.Errorf("a minute later: %+v; want the sugar fill counted", later)
	}
}

func testTradeEmpty(t *testing.T, s store.TradeStore) {
	wantTradeStats(t, "a client without fills", tradeStats(t, s, uuid.New(), tradeNow), store.TradeStats{})
}

func testTradeClientsSeparate(t *testing.T, s store.TradeStore) {
	a, b := uuid.New(), uuid.New()
	recordFill(t, s, newFill(a, tradeNow.Add(-time.Hour), "corn", 5), true)
	recordFill(t, s, newFill(b, tradeNow.Add(-time.Hour), "wti", 7), true)
	if st := tradeStats(t, s, a, tradeNow); st.Volume30d != 5 || !slices.Equal(st.Commodities, []string{"corn"}) {
		t.Errorf("client a sees %+v; want only its own corn fill", st)
	}
}

func testFillInvalid(t *testing.T, s store.TradeStore) {
	client := uuid.New()
	tests := []struct {
		name   string
		change func(*store.Fill)
	}{
		{"no event id", func(f *store.Fill) { f.EventID = uuid.Nil }},
		{"no client", func(f *store.Fill) { f.ClientID = uuid.Nil }},
		{"no time", func(f *store.Fill) { f.At = time.Time{} }},
		{"zero quantity", func(f *store.Fill) { f.Quantity = 0 }},
		{"negative quantity", func(f *store.Fill) { f.Quantity = -1 }},
		{"bad side", func(f *store.Fill) { f.Side = "short" }},
	}
	for _, tc := range tests {
		f := newFill(client, tradeNow.Add(-time.Hour), "corn", 1)
		tc.change(&f)
		first, err := s.RecordFill(t.Context(), f)
		if store.ErrorCode(err) != store.EINVALID || first {
			t.Errorf("%s: RecordFill = %v, %v; want EINVALID", tc.name, first, err)
		}
	}
	if st := tradeStats(t, s, client, tradeNow); st.Trades365d != 0 {
		t.Errorf("invalid fills were counted: %+v", st)
	}
}

func testClientsTrading(t *testing.T, s store.TradeStore) {
	// A commodity key of its own keeps other subtests' fills out of the answer.
	commodity := "test-" + uuid.NewString()[:8]
	recent, old, other := uuid.New(), uuid.New(), uuid.New()
	recordFill(t, s, newFill(recent, tradeNow.Add(-time.Hour), commodity, 1), true)
	recordFill(t, s, newFill(recent, tradeNow.Add(-2*time.Hour), commodity, 1), true)
	recordFill(t, s, newFill(old, tradeNow.Add(-400*24*time.Hour), commodity, 1), true)
	recordFill(t, s, newFill(other, tradeNow.Add(-time.Hour), "corn", 1), true)
	got, err := s.ClientsTrading(t.Context(), commodity, tradeNow.Add(-365*24*time.Hour))
	if err != nil {
		t.Fatalf("ClientsTrading: %v", err)
	}
	if len(got) != 1 || got[0] != recent {
		t.Errorf("ClientsTrading = %v, want only %v (once)", got, recent)
	}
}

func testRecordFills(t *testing.T, s store.TradeStore) {
	client := uuid.New()
	old := newFill(client, tradeNow.Add(-3*time.Hour), "corn", 1)
	recordFill(t, s, old, true)
	a, b := newFill(client, tradeNow.Add(-2*time.Hour), "corn", 2), newFill(client, tradeNow.Add(-time.Hour), "wti", 4)
	bad := newFill(client, tradeNow.Add(-time.Hour), "wti", 0)
	if _, err := s.RecordFills(t.Context(), []store.Fill{a, bad}); store.ErrorCode(err) != store.EINVALID {
		t.Fatalf("RecordFills with an invalid fill: %v, want EINVALID", err)
	}
	first, err := s.RecordFills(t.Context(), []store.Fill{a, old, b, a})
	if err != nil {
		t.Fatalf("RecordFills: %v", err)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(first, want) {
		t.Errorf("RecordFills first = %v, want %v", first, want)
	}
	if st := tradeStats(t, s, client, tradeNow); st.Trades30d != 3 || st.Volume30d != 7 {
		t.Errorf("after the batch: %d trades, volume %v; want 3 and 7 (the rejected batch stored nothing)", st.Trades30d, st.Volume30d)
	}
}
