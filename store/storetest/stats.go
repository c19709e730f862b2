package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// StatsStore is what the per-client statistics need of a backend.
type StatsStore interface {
	store.TradeStore
	store.ContactStore
	store.SentimentStore
	store.StatsRebuilder
}

// RunStatsStoreTests runs the notional, contact and rebuild contract
// against one backend. Subtests use their own random ids and run in
// parallel on one store.
func RunStatsStoreTests(t *testing.T, newStore func(t *testing.T) StatsStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s StatsStore)
	}{
		{"NotionalFromCatalogue", testNotional},
		{"LastContactByDirection", testLastContact},
		{"ContactOnce", testContactOnce},
		{"InvalidContact", testContactInvalid},
		{"ReplaceIsExactAndIdempotent", testReplaceClientStats},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

const statsDay = 24 * time.Hour

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// Notional is quantity × price × contract size from the catalogue, summed
// over USD contracts only, in the same windows as trades.
func testNotional(t *testing.T, s StatsStore) {
	client := uuid.New()
	at := func(d time.Duration) time.Time { return tradeNow.Add(-d) }
	wti := store.Fill{EventID: uuid.New(), ClientID: client, At: at(10 * statsDay), Commodity: "wti", Contract: "CLF7", Side: "buy", Quantity: 2, Price: 70.5}
	corn := store.Fill{EventID: uuid.New(), ClientID: client, At: at(60 * statsDay), Commodity: "corn", Contract: "ZCZ6", Side: "sell", Quantity: 10, Price: 4.52}
	gold := store.Fill{EventID: uuid.New(), ClientID: client, At: at(200 * statsDay), Commodity: "gold", Contract: "GCZ6", Side: "buy", Quantity: 1, Price: 2400}
	cocoaGBP := store.Fill{EventID: uuid.New(), ClientID: client, At: at(5 * statsDay), Commodity: "london-cocoa", Contract: "CZ6", Side: "buy", Quantity: 3, Price: 5000}
	unknown := store.Fill{EventID: uuid.New(), ClientID: client, At: at(5 * statsDay), Contract: "XXZ6", Side: "buy", Quantity: 3, Price: 100}
	old := store.Fill{EventID: uuid.New(), ClientID: client, At: at(400 * statsDay), Commodity: "wti", Contract: "CLZ5", Side: "buy", Quantity: 100, Price: 80}
	recordFill(t, s, wti, true)
	recordFill(t, s, old, true)
	// The rest in one batch where the backend has one: both paths value fills.
	rest := []store.Fill{corn, gold, cocoaGBP, unknown}
	if b, ok := s.(interface {
		RecordFills(context.Context, []store.Fill) ([]bool, error)
	}); ok {
		if _, err := b.RecordFills(t.Context(), rest); err != nil {
			t.Fatal(err)
		}
	} else {
		for _, f := range rest {
			recordFill(t, s, f, true)
		}
	}
	st := tradeStats(t, s, client, tradeNow)
	want30, want90, want365 := 141000.0, 141000.0+226000, 141000.0+226000+240000
	if !near(st.Notional30d, want30) || !near(st.Notional90d, want90) || !near(st.Notional365d, want365) {
		t.Errorf("notional 30/90/365d = %v/%v/%v, want %v/%v/%v (USD contracts only)", st.Notional30d, st.Notional90d, st.Notional365d, want30, want90, want365)
	}
	if st.Trades30d != 3 || st.Volume30d != 8 {
		t.Errorf("30d trades/volume = %d/%v, want 3/8: other currencies and unlisted contracts still count as trades", st.Trades30d, st.Volume30d)
	}
	classes := store.DefaultCatalogue().ClassesOf(st.Commodities)
	if len(classes) != 4 || classes[0] != store.Agriculture || classes[1] != store.Energy || classes[2] != store.Metals || classes[3] != store.Softs {
		t.Errorf("asset classes = %v, want agriculture, energy, metals, softs", classes)
	}
}

func contact(client uuid.UUID, at time.Time, kind store.Kind, dir string) store.Contact {
	return store.Contact{EventID: uuid.New(), ClientID: client, At: at, Kind: kind, Direction: dir}
}

func contactStats(t *testing.T, s StatsStore, client uuid.UUID, now time.Time) store.ContactStats {
	t.Helper()
	st, err := s.ContactStats(t.Context(), client, now)
	if err != nil {
		t.Fatalf("ContactStats: %v", err)
	}
	return st
}

// The last inbound and outbound contacts; a "both" counts on each side;
// contacts after now are not seen yet.
func testLastContact(t *testing.T, s StatsStore) {
	client, other := uuid.New(), uuid.New()
	if st := contactStats(t, s, client, tradeNow); !st.LastInbound.IsZero() || !st.LastOutbound.IsZero() {
		t.Fatalf("no contacts: %+v", st)
	}
	in := contact(client, tradeNow.Add(-3*statsDay), store.KindEmail, store.Inbound)
	out := contact(client, tradeNow.Add(-10*statsDay), store.KindCall, store.Outbound)
	meeting := contact(client, tradeNow.Add(-5*statsDay), store.KindMeeting, store.Both)
	future := contact(client, tradeNow.Add(statsDay), store.KindChat, store.Inbound)
	elsewhere := contact(other, tradeNow.Add(-time.Hour), store.KindChat, store.Outbound)
	n, err := s.RecordContacts(t.Context(), in, out, meeting, future, elsewhere)
	if err != nil || n != 5 {
		t.Fatalf("RecordContacts = %d, %v; want 5 new", n, err)
	}
	st := contactStats(t, s, client, tradeNow)
	if !st.LastInbound.Equal(in.At) || st.InboundKind != store.KindEmail {
		t.Errorf("last inbound %v %s, want %v email", st.LastInbound, st.InboundKind, in.At)
	}
	if !st.LastOutbound.Equal(meeting.At) || st.OutboundKind != store.KindMeeting {
		t.Errorf("last outbound %v %s, want the meeting at %v", st.LastOutbound, st.OutboundKind, meeting.At)
	}
	if !st.Last().Equal(in.At) {
		t.Errorf("Last = %v, want %v", st.Last(), in.At)
	}
	if st := contactStats(t, s, client, tradeNow.Add(2*statsDay)); !st.LastInbound.Equal(future.At) {
		t.Errorf("two days on, last inbound %v, want the chat at %v", st.LastInbound, future.At)
	}
}

func testContactOnce(t *testing.T, s StatsStore) {
	client := uuid.New()
	c := contact(client, tradeNow.Add(-statsDay), store.KindChat, store.Inbound)
	if n, err := s.RecordContacts(t.Context(), c, c); err != nil || n != 1 {
		t.Fatalf("a contact twice in one call: %d, %v; want 1 new", n, err)
	}
	later := c
	later.At = tradeNow.Add(-time.Hour)
	if n, err := s.RecordContacts(t.Context(), later); err != nil || n != 0 {
		t.Fatalf("the same event again with another time: %d, %v; want 0 new", n, err)
	}
	if st := contactStats(t, s, client, tradeNow); !st.LastInbound.Equal(c.At) {
		t.Errorf("last inbound %v, want the first record %v", st.LastInbound, c.At)
	}
}

func testContactInvalid(t *testing.T, s StatsStore) {
	client := uuid.New()
	good := contact(client, tradeNow, store.KindEmail, store.Inbound)
	for name, c := range map[string]store.Contact{
		"note":          contact(client, tradeNow, store.KindNote, store.Outbound),
		"order":         contact(client, tradeNow, store.KindOrder, store.Inbound),
		"bad direction": contact(client, tradeNow, store.KindEmail, "sideways"),
		"no client":     contact(uuid.Nil, tradeNow, store.KindEmail, store.Inbound),
		"no time":       contact(client, time.Time{}, store.KindEmail, store.Inbound),
	} {
		if _, err := s.RecordContacts(t.Context(), good, c); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%s: %v; want EINVALID", name, err)
		}
	}
	if st := contactStats(t, s, client, tradeNow); !st.LastInbound.IsZero() {
		t.Errorf("a refused batch stored its good contact: %+v", st)
	}
}

// Replacing a client's counts leaves exactly what was given, twice over the
// same; other clients are untouched; a bad item changes nothing.
func testReplaceClientStats(t *testing.T, s StatsStore) {
	client, other := uuid.New(), uuid.New()
	stale := store.Fill{EventID: uuid.New(), ClientID: client, At: tradeNow.Add(-statsDay), Commodity: "corn", Contract: "ZCZ6", Side: "buy", Quantity: 50, Price: 4}
	recordFill(t, s, stale, true)
	otherFill := store.Fill{EventID: uuid.New(), ClientID: other, At: tradeNow.Add(-statsDay), Commodity: "wti", Contract: "CLF7", Side: "buy", Quantity: 1, Price: 70}
	recordFill(t, s, otherFill, true)
	if _, err := s.RecordContacts(t.Context(), contact(client, tradeNow.Add(-statsDay), store.KindChat, store.Inbound)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordScores(t.Context(), client, store.Score{EventID: uuid.New(), At: tradeNow.Add(-statsDay), Score: -0.9}); err != nil {
		t.Fatal(err)
	}
	counts := store.ClientCounts{
		Fills:    []store.Fill{{EventID: uuid.New(), ClientID: client, At: tradeNow.Add(-2 * statsDay), Commodity: "wti", Contract: "CLF7", Side: "sell", Quantity: 3, Price: 70}},
		Contacts: []store.Contact{contact(client, tradeNow.Add(-20*statsDay), store.KindEmail, store.Outbound)},
		Scores:   []store.Score{{EventID: uuid.New(), At: tradeNow.Add(-2 * statsDay), Score: 0.5}},
	}
	for range 2 {
		if err := s.ReplaceClientStats(t.Context(), client, counts); err != nil {
			t.Fatalf("ReplaceClientStats: %v", err)
		}
		st := tradeStats(t, s, client, tradeNow)
		if st.Trades30d != 1 || st.Volume30d != 3 || !near(st.Notional30d, 210000) || len(st.Commodities) != 1 || st.Commodities[0] != "wti" {
			t.Errorf("after replace: %+v; want the one wti fill", st)
		}
		cs := contactStats(t, s, client, tradeNow)
		if !cs.LastInbound.IsZero() || !cs.LastOutbound.Equal(counts.Contacts[0].At) {
			t.Errorf("after replace: contacts %+v; want only the outbound email", cs)
		}
		ss, err := s.SentimentStats(t.Context(), client, tradeNow)
		if err != nil || ss.Count30d != 1 || !near(ss.Mean30d, 0.5) {
			t.Errorf("after replace: sentiment %+v, %v; want the one 0.5", ss, err)
		}
	}
	if st := tradeStats(t, s, other, tradeNow); st.Trades30d != 1 {
		t.Errorf("another client's fills changed: %+v", st)
	}
	bad := counts
	bad.Fills = append([]store.Fill{}, counts.Fills...)
	bad.Fills = append(bad.Fills, store.Fill{EventID: uuid.New(), ClientID: other, At: tradeNow, Side: "buy", Quantity: 1, Price: 1})
	if err := s.ReplaceClientStats(t.Context(), client, bad); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("a fill of another client: %v; want EINVALID", err)
	}
	bad = store.ClientCounts{Scores: []store.Score{{EventID: uuid.New(), At: tradeNow, Score: 2}}}
	if err := s.ReplaceClientStats(t.Context(), client, bad); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("a score of 2: %v; want EINVALID", err)
	}
	if st := tradeStats(t, s, client, tradeNow); st.Trades30d != 1 {
		t.Errorf("a refused replace changed the fills: %+v", st)
	}
}
