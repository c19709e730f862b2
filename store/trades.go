package store

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Fill is one execution of a client's order, as counted in trading
// statistics. EventID is the timeline event's id, which makes recording it
// idempotent.
type Fill struct {
	EventID   uuid.UUID
	ClientID  uuid.UUID
	At        time.Time
	Commodity string // catalogue key, "" when the contract is not in the catalogue
	Contract  string
	Side      string
	Quantity  float64 // contracts filled by this execution
	Price     float64
}

// Validate rejects fills the statistics cannot count. EINVALID.
func (f Fill) Validate() error {
	switch {
	case f.EventID == uuid.Nil:
		return Invalid("event id", "a fill needs its event's id")
	case f.ClientID == uuid.Nil:
		return Invalid("client", "a fill needs a client")
	case f.At.IsZero():
		return Invalid("time", "a fill needs a time")
	case f.Side != "buy" && f.Side != "sell":
		return Invalid("side", "%q is not buy or sell", f.Side)
	case !(f.Quantity > 0) || math.IsInf(f.Quantity, 0):
		return Invalid("quantity", "%v is not a positive number of contracts", f.Quantity)
	case math.IsNaN(f.Price) || math.IsInf(f.Price, 0):
		return Invalid("price", "%v is not a price", f.Price)
	}
	return nil
}

// Value is the fill's notional, quantity × price × contract size, in the
// contract's currency, from cat. A fill whose commodity is not in the
// catalogue has no value ("").
func (f Fill) Value(cat *Catalogue) (notional float64, currency string) {
	c, ok := cat.ByKey(f.Commodity)
	if !ok || f.Commodity == "" {
		return 0, ""
	}
	return c.Notional(f.Quantity, f.Price), c.Currency
}

// NotionalCurrency is the currency notional statistics are summed in:
// fills of contracts quoted in other currencies are counted as trades and
// contracts but add nothing to notional.
const NotionalCurrency = "USD"

// TradeStats summarise a client's actual trading.
type TradeStats struct {
	Trades30d, Trades90d, Trades365d       int     // executions
	Volume30d, Volume90d, Volume365d       float64 // contracts
	Notional30d, Notional90d, Notional365d float64 // in NotionalCurrency
	Commodities                            []string
	FirstFill, LastFill                    time.Time
}

// ClassesOf returns the asset classes of catalogue keys (the commodities
// of TradeStats, say), sorted, each once; keys not in the catalogue are
// passed over.
func (cat *Catalogue) ClassesOf(keys []string) []AssetClass {
	seen := map[AssetClass]bool{}
	var out []AssetClass
	for _, k := range keys {
		if c, ok := cat.ByKey(k); ok && !seen[c.Class] {
			seen[c.Class] = true
			out = append(out, c.Class)
		}
	}
	slices.Sort(out)
	return out
}

// TradeStore keeps per-client trading statistics.
type TradeStore interface {
	// RecordFill counts a fill once: recording the same EventID again
	// reports first=false and changes nothing.
	RecordFill(ctx context.Context, f Fill) (first bool, err error)
	// RecordFills is RecordFill for many fills in one round trip (imports
	// and webhook batches): first[i] says whether fills[i] was new.
	RecordFills(ctx context.Context, fills []Fill) (first []bool, err error)
	// TradeStats returns a client's statistics as of now.
	TradeStats(ctx context.Context, clientID uuid.UUID, now time.Time) (TradeStats, error)
	// ClientsTrading returns the clients with a fill in commodity (a
	// catalogue key) after since, each once.
	ClientsTrading(ctx context.Context, commodity string, since time.Time) ([]uuid.UUID, error)
}
