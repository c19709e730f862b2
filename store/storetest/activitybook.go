package storetest

import (
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// BookClient is a client of a benchmark book, as ActivityBook needs it.
type BookClient struct {
	ID   uuid.UUID
	Team string
}

// ScoreOf is a scored event of a client.
type ScoreOf struct {
	ClientID uuid.UUID
	store.Score
}

// ActivityBook is a year of activity for a book of clients, from a seeded
// generator, the same for both stores' benchmarks: per client 0-7 fills in
// commodities of its desk's asset class (a tenth of clients trade up to 24
// more), 0-12 real contacts, 0-6 scored messages in 90 days, and for a
// third of clients 1-6 recommendations, 40% of them followed by a fill in
// their commodity within a few days; Responsiveness is counted from them
// (store.ComputeResponsiveness).
type ActivityBook struct {
	Fills           []store.Fill
	Contacts        []store.Contact
	Scores          []ScoreOf
	Recommendations []store.Recommendation
	Responsiveness  map[uuid.UUID]store.Responsiveness
}

// deskClass is the asset class each benchmark desk trades.
var deskClass = map[string]store.AssetClass{"grains-desk": store.Agriculture, "energy-desk": store.Energy, "metals-desk": store.Metals, "softs-desk": store.Softs}

// NewActivityBook generates the activity of clients up to now.
func NewActivityBook(clients []BookClient, now time.Time) *ActivityBook {
	byClass := map[store.AssetClass][]store.Commodity{}
	for _, c := range store.DefaultCatalogue().Commodities() {
		byClass[c.Class] = append(byClass[c.Class], c)
	}
	rng := rand.New(rand.NewPCG(42, 2026))
	day := 24 * time.Hour
	year := 365 * day
	ago := func(d time.Duration) time.Time {
		return now.Add(-time.Duration(rng.Int64N(int64(d)))).Truncate(time.Millisecond)
	}
	b := &ActivityBook{Responsiveness: map[uuid.UUID]store.Responsiveness{}}
	for _, c := range clients {
		pool := byClass[deskClass[c.Team]]
		var fills []store.Fill
		fill := func(com store.Commodity, at time.Time) {
			fills = append(fills, store.Fill{EventID: uuid.New(), ClientID: c.ID, At: at, Commodity: com.Key, Contract: "X", Side: "buy",
				Quantity: float64(1 + rng.IntN(20)), Price: 10 + rng.Float64()*100})
		}
		n := rng.IntN(8)
		if rng.IntN(10) == 0 {
			n += rng.IntN(25) // the heavy traders
		}
		for range n {
			fill(pool[rng.IntN(len(pool))], ago(year))
		}
		var contacts []store.Contact
		for range rng.IntN(13) {
			contacts = append(contacts, store.Contact{EventID: uuid.New(), ClientID: c.ID, At: ago(year),
				Kind:      []store.Kind{store.KindEmail, store.KindChat, store.KindCall, store.KindMeeting}[rng.IntN(4)],
				Direction: []string{store.Inbound, store.Outbound, store.Both}[rng.IntN(3)]})
		}
		for range rng.IntN(7) {
			b.Scores = append(b.Scores, ScoreOf{ClientID: c.ID, Score: store.Score{EventID: uuid.New(), At: ago(90 * day), Score: rng.Float64()*2 - 1}})
		}
		var recs []store.Recommendation
		if rng.IntN(3) == 0 {
			for range 1 + rng.IntN(6) {
				com := pool[rng.IntN(len(pool))]
				r := store.Recommendation{EventID: uuid.New(), ClientID: c.ID, At: ago(year), Commodity: com.Key}
				recs = append(recs, r)
				if at := r.At.Add(time.Duration(1+rng.IntN(4)) * day); rng.IntN(5) < 2 && at.Before(now) {
					fill(com, at)
				}
			}
		}
		b.Fills = append(b.Fills, fills...)
		b.Contacts = append(b.Contacts, contacts...)
		b.Recommendations = append(b.Recommendations, recs...)
		if r := store.ComputeResponsiveness(recs, fills, contacts, now); len(recs) > 0 || r.Replies > 0 {
			b.Responsiveness[c.ID] = r
		}
	}
	return b
}
