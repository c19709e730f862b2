package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// ActivityStore is a segment store that keeps activity rows, on a clock
// the test sets.
type ActivityStore interface {
	SegmentStore
	segment.IDMatcher
	store.ActivityStore
	SetClock(now func() time.Time)
}

// activityFilters are the filters whose terms the activity rows answer,
// alone, negated and combined, with thresholds the generated data crosses.
var activityFilters = []string{
	"trades.30d>=1", "trades.30d>=3", "trades.90d>=4", "trades.365d>=8", "-trades.365d>=1",
	"volume.30d>20", "volume.90d>=40", "volume.365d<30",
	"notional.30d>500k", "notional.90d>2m", "notional.365d>=5m",
	"last.contact>30d", "last.contact<7d", "last.inbound>14d", "last.outbound<60d", "last.fill>90d", "last.fill<10d",
	"sentiment<0", "sentiment>=0.25", "-sentiment<-0.2",
	"traded:energy", "traded:corn", "asset:metals", "-traded:agriculture",
	"traded:energy last.contact>30d", "sentiment<0 trades.30d>=1", "tag:vip OR notional.90d>2m", "last.fill<30d OR last.inbound<30d",
}

// RunActivityProperty records random fills, contacts and scores at random
// times on a clock that moves (forward mostly, sometimes back), refreshes
// the activity rows now and then as the periodic job does, and asks
// activityFilters at random instants, some just before, at and after a
// window's edge: every answer must be exactly what the definitions give,
// counted in Go from the events recorded. newStore must return a store of
// its own, since the test sets its clock.
func RunActivityProperty(t *testing.T, newStore func(t *testing.T) ActivityStore) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			testActivityProperty(t, newStore(t), seed)
		})
	}
}

type propClient struct {
	id     uuid.UUID
	handle string
	vip    bool
}

type propModel struct {
	fills    []store.Fill
	contacts []store.Contact
	scores   map[uuid.UUID][]store.Score
}

func testActivityProperty(t *testing.T, s ActivityStore, seed uint64) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, 1212))
	var mu sync.Mutex
	clock := time.Date(2025, 3, 9, 7, 30, 0, 0, time.UTC) // a DST change in America
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	setClock := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }

	desk := "prop-" + randSuffix()
	var clients []propClient
	for i := range 10 {
		c := &store.Client{Handle: fmt.Sprintf("p%02d-%s", i, desk), Name: "Prop", Kind: store.Entity, Team: desk, Stage: store.Active}
		if i%4 == 0 {
			c.Tags = []string{"vip"}
		}
		if err := s.CreateClient(ctx, c, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, propClient{id: c.ID, handle: c.Handle, vip: i%4 == 0})
	}
	var keys []string
	for _, k := range []string{"wti", "brent", "corn", "wheat", "gold", "copper"} {
		if _, ok := store.DefaultCatalogue().ByKey(k); ok {
			keys = append(keys, k)
		}
	}
	m := propModel{scores: map[uuid.UUID][]store.Score{}}
	day := 24 * time.Hour
	// when is an event's time: mostly within the last year, sometimes
	// older, sometimes ahead of the clock.
	when := func() time.Time {
		n := now().Truncate(time.Microsecond)
		switch rng.IntN(10) {
		case 0:
			return n.Add(time.Duration(rng.Int64N(int64(10 * day)))).Truncate(time.Microsecond) // dated ahead
		case 1:
			return n.Add(-time.Duration(rng.Int64N(int64(800 * day)))).Truncate(time.Microsecond)
		}
		return n.Add(-time.Duration(rng.Int64N(int64(120 * day)))).Truncate(time.Second)
	}
	var edges []time.Time // instants where windows end
	for step := range 30 {
		// The clock moves: mostly on, by up to 40 days, sometimes back.
		switch rng.IntN(8) {
		case 0:
			setClock(now().Add(-time.Duration(rng.Int64N(int64(20 * day)))))
		default:
			setClock(now().Add(time.Duration(rng.Int64N(int64(40 * day)))).Truncate(time.Millisecond))
		}
		for range 1 + rng.IntN(4) {
			c := clients[rng.IntN(len(clients))]
			switch rng.IntN(3) {
			case 0:
				var fills []store.Fill
				for range 1 + rng.IntN(4) {
					f := store.Fill{EventID: uuid.New(), ClientID: clients[rng.IntN(len(clients))].id, At: when(),
						Commodity: keys[rng.IntN(len(keys))], Contract: "X", Side: "buy",
						Quantity: float64(1 + rng.IntN(20)), Price: float64(40+rng.IntN(400)) / 4}
					if rng.IntN(10) == 0 {
						f.Commodity = "" // not in the catalogue: no value
					}
					fills = append(fills, f)
				}
				if rng.IntN(5) == 0 && len(m.fills) > 0 {
					fills = append(fills, m.fills[rng.IntN(len(m.fills))]) // redelivered: counted once
				}
				first, err := s.RecordFills(ctx, fills)
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range fills {
					if first[i] {
						m.fills = append(m.fills, f)
						for _, w := range store.ActivityWindows {
							edges = append(edges, f.At.Add(w))
						}
					}
				}
			case 1:
				k := store.Contact{EventID: uuid.New(), ClientID: c.id, At: when(), Kind: store.KindEmail,
					Direction: []string{store.Inbound, store.Outbound, store.Both}[rng.IntN(3)]}
				if _, err := s.RecordContacts(ctx, k); err != nil {
					t.Fatal(err)
				}
				m.contacts = append(m.contacts, k)
			default:
				sc := store.Score{EventID: uuid.New(), At: when(), Score: float64(rng.IntN(17)-8) / 8}
				if err := s.RecordScores(ctx, c.id, sc); err != nil {
					t.Fatal(err)
				}
				m.scores[c.id] = append(m.scores[c.id], sc)
				edges = append(edges, sc.At.Add(store.SentimentWindow))
			}
		}
		if rng.IntN(3) == 0 {
			if _, err := s.RefreshActivity(ctx, now()); err != nil {
				t.Fatal(err)
			}
		}
		// Ask at the clock, around it, and at a window's edge.
		instants := []time.Time{now(), now().Add(time.Duration(rng.Int64N(int64(30 * day)))), now().Add(-time.Duration(rng.Int64N(int64(60 * day))))}
		if len(edges) > 0 {
			e := edges[rng.IntN(len(edges))]
			instants = append(instants, e.Add(-time.Microsecond), e, e.Add(time.Microsecond))
		}
		for _, at := range instants {
			at = at.Truncate(time.Microsecond)
			for _, filter := range activityFilters {
				f, err := segment.Parse(filter, store.DefaultCatalogue())
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.MatchClientIDs(ctx, segment.Query{Filter: f, Teams: []string{desk}, Now: at})
				if err != nil {
					t.Fatalf("%s: %v", filter, err)
				}
				var want []uuid.UUID
				for _, c := range clients {
					if m.holds(t, filter, c, at) {
						want = append(want, c.id)
					}
				}
				if g, w := store.SortedIDs(got), store.SortedIDs(want); !slices.Equal(g, w) {
					t.Fatalf("step %d, clock %s, asked at %s: %q matched %s, the definitions %s",
						step, now().Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), filter, handlesOf(clients, g), handlesOf(clients, w))
				}
			}
		}
	}
}

func handlesOf(cs []propClient, ids []uuid.UUID) string {
	var out []string
	for _, c := range cs {
		if slices.Contains(ids, c.id) {
			out = append(out, strings.SplitN(c.handle, "-", 2)[0])
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}

// holds evaluates filter (terms joined by spaces, or two by OR, each
// maybe negated) on the events recorded, from the definitions.
func (m *propModel) holds(t *testing.T, filter string, c propClient, now time.Time) bool {
	if a, b, ok := strings.Cut(filter, " OR "); ok {
		return m.holds(t, a, c, now) || m.holds(t, b, c, now)
	}
	for _, term := range strings.Fields(filter) {
		neg := strings.HasPrefix(term, "-")
		if m.term(t, strings.TrimPrefix(term, "-"), c, now) == neg {
			return false
		}
	}
	return true
}

func (m *propModel) term(t *testing.T, term string, c propClient, now time.Time) bool {
	day := 24 * time.Hour
	in := func(at time.Time, w time.Duration) bool { return at.After(now.Add(-w)) && !at.After(now) }
	cmp := func(v float64, op string, x float64) bool {
		switch op {
		case ">":
			return v > x
		case ">=":
			return v >= x
		case "<":
			return v < x
		}
		t.Fatalf("op %q", op)
		return false
	}
	split := func(s string) (string, string, float64) {
		for _, op := range []string{">=", "<", ">"} {
			if name, val, ok := strings.Cut(s, op); ok {
				mult := 1.0
				switch {
				case strings.HasSuffix(val, "k"):
					val, mult = strings.TrimSuffix(val, "k"), 1e3
				case strings.HasSuffix(val, "m"):
					val, mult = strings.TrimSuffix(val, "m"), 1e6
				case strings.HasSuffix(val, "d"):
					val, mult = strings.TrimSuffix(val, "d"), float64(day)
				}
				var x float64
				if _, err := fmt.Sscan(val, &x); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				return name, op, x * mult
			}
		}
		return s, "", 0
	}
	if term == "tag:vip" {
		return c.vip
	}
	if name, val, ok := strings.Cut(term, ":"); ok && (name == "traded" || name == "asset") {
		for _, f := range m.fills {
			com, known := store.DefaultCatalogue().ByKey(f.Commodity)
			if f.ClientID == c.id && known && in(f.At, 365*day) && (f.Commodity == val || string(com.Class) == val) {
				return true
			}
		}
		return false
	}
	name, op, x := split(term)
	base, window, _ := strings.Cut(name, ".")
	switch base {
	case "trades", "volume", "notional":
		w := map[string]time.Duration{"30d": 30 * day, "90d": 90 * day, "365d": 365 * day}[window]
		v := 0.0
		for _, f := range m.fills {
			if f.ClientID != c.id || !in(f.At, w) {
				continue
			}
			switch base {
			case "trades":
				v++
			case "volume":
				v += f.Quantity
			default:
				if n, cur := f.Value(store.DefaultCatalogue()); cur == store.NotionalCurrency {
					v += n
				}
			}
		}
		return cmp(v, op, x)
	case "last":
		// >D: none in (now-D, now]; <D: one in it.
		any := false
		d := time.Duration(x)
		if window == "fill" {
			for _, f := range m.fills {
				any = any || f.ClientID == c.id && in(f.At, d)
			}
		} else {
			for _, k := range m.contacts {
				dirOK := window == "contact" || k.Direction == store.Both ||
					window == "inbound" && k.Direction == store.Inbound || window == "outbound" && k.Direction == store.Outbound
				any = any || k.ClientID == c.id && dirOK && in(k.At, d)
			}
		}
		if op == ">" || op == ">=" {
			return !any
		}
		return any
	case "sentiment":
		sum, n := 0.0, 0
		for _, sc := range m.scores[c.id] {
			if in(sc.At, store.SentimentWindow) {
				sum, n = sum+sc.Score, n+1
			}
		}
		return n > 0 && cmp(sum/float64(n), op, x)
	}
	t.Fatalf("the model does not know %q", term)
	return false
}
