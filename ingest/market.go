package ingest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// tradingLookback is how recent a fill must be for its client to count as
// trading the commodity, as in TradeStats.Commodities.
const tradingLookback = 365 * 24 * time.Hour

// MarketMove is a significant price move as a market-data feed reports it.
// It becomes an "event" entry on the timeline of every client who follows
// the commodity (profile) or trades it (fills in the last year); reminders
// react to those entries.
type MarketMove struct {
	ID        string   `json:"id"`
	Commodity string   `json:"commodity"` // catalogue key, or with a contract only
	Contract  string   `json:"contract"`
	Exchange  string   `json:"exchange"`
	ChangePct *float64 `json:"change_pct"` // -4.2 for a 4.2% fall
	Price     *float64 `json:"price"`
	Time      string   `json:"time"`
	Headline  string   `json:"headline"`
}

type move struct {
	id         string
	instrument store.Instrument
	changePct  float64
	price      *float64
	at         time.Time
	headline   string
}

// PrepareMarket checks every move, then finds who follows or trades each
// commodity, and returns the entries to store: one per move and client.
// Like PrepareOrders it takes a batch whole or not at all; the error is an
// *ItemError for a bad move.
func (in *Intake) PrepareMarket(ctx context.Context, mms []MarketMove) ([]Entry, error) {
	now := in.now()
	moves := make([]move, len(mms))
	for i, mm := range mms {
		m, err := parseMove(mm, now, in.Catalogue)
		if err != nil {
			return nil, &ItemError{Index: i, Err: err}
		}
		moves[i] = m
	}
	commodities := map[string]bool{}
	for _, m := range moves {
		commodities[m.instrument.Commodity.Key] = true
	}
	concerned, err := in.concernedClients(ctx, commodities, now)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for _, m := range moves {
		for _, c := range concerned[m.instrument.Commodity.Key] {
			entries = append(entries, Entry{Client: c.client, Event: m.event(c)})
		}
	}
	return entries, nil
}

func parseMove(mm MarketMove, now time.Time, cat *store.Catalogue) (move, error) {
	m := move{id: strings.TrimSpace(mm.ID), price: mm.Price, headline: strings.TrimSpace(mm.Headline)}
	if m.id == "" {
		return m, store.Invalid("id", "required: the move's unique id")
	}
	if len(m.id) > 200 {
		return m, store.Invalid("id", "longer than 200 characters")
	}
	var err error
	if m.at, err = ParseEventTime("time", mm.Time, now); err != nil {
		return m, err
	}
	// A one-digit contract year is read relative to the move, as for orders.
	if m.instrument, err = cat.ResolveInstrument(mm.Contract, mm.Exchange, mm.Commodity, m.at); err != nil {
		return m, err
	}
	switch {
	case mm.ChangePct == nil:
		return m, store.Invalid("change_pct", "required: the move in percent, e.g. -4.2")
	case math.IsNaN(*mm.ChangePct) || math.IsInf(*mm.ChangePct, 0):
		return m, store.Invalid("change_pct", "must be a finite number")
	}
	m.changePct = *mm.ChangePct
	if m.price != nil && (math.IsNaN(*m.price) || math.IsInf(*m.price, 0)) {
		return m, store.Invalid("price", "must be a finite number")
	}
	return m, nil
}

// concern is a client a move concerns, and why.
type concern struct {
	client  *store.Client
	follows bool // the profile lists the commodity
	trades  bool // a fill in it within tradingLookback
}

// concernedClients finds, for each of commodities, who follows or trades
// it, ordered by handle. The clients are read once for the whole batch.
func (in *Intake) concernedClients(ctx context.Context, commodities map[string]bool, now time.Time) (map[string][]concern, error) {
	byKey := map[string]map[uuid.UUID]*concern{}
	for k := range commodities {
		byKey[k] = map[uuid.UUID]*concern{}
	}
	for c, err := range in.Clients.AllClients(ctx) {
		if err != nil {
			return nil, err
		}
		for _, k := range c.Trading.Commodities {
			if byID, ok := byKey[k]; ok {
				byID[c.ID] = &concern{client: c, follows: true}
			}
		}
	}
	if in.Trades != nil {
		for k, byID := range byKey {
			ids, err := in.Trades.ClientsTrading(ctx, k, now.Add(-tradingLookback))
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if cc, ok := byID[id]; ok {
					cc.trades = true
					continue
				}
				c, err := in.Clients.Client(ctx, id)
				if store.ErrorCode(err) == store.ENOTFOUND {
					continue // fills of a client since removed
				}
				if err != nil {
					return nil, err
				}
				byID[id] = &concern{client: c, trades: true}
			}
		}
	}
	out := make(map[string][]concern, len(byKey))
	for k, byID := range byKey {
		cs := make([]concern, 0, len(byID))
		for _, c := range byID {
			cs = append(cs, *c)
		}
		slices.SortFunc(cs, func(a, b concern) int { return strings.Compare(a.client.Handle, b.client.Handle) })
		out[k] = cs
	}
	return out, nil
}

// event is the move's entry on one client's timeline. Its source id joins the
// move's id and the client's, so each client gets one entry per move however
// often the move is delivered.
func (m move) event(c concern) *store.Event {
	sourceID := m.id + "/" + c.client.ID.String()
	var why []string
	if c.follows {
		why = append(why, "follows")
	}
	if c.trades {
		why = append(why, "trades")
	}
	extra := map[string]string{
		"market_id":  m.id,
		"commodity":  m.instrument.Commodity.Key,
		"change_pct": strconv.FormatFloat(m.changePct, 'f', -1, 64),
		"reason":     strings.Join(why, ","),
	}
	if code := m.instrument.Contract.Code; code != "" {
		extra["contract"] = code
	}
	if m.price != nil {
		extra["price"] = strconv.FormatFloat(*m.price, 'f', -1, 64)
	}
	return &store.Event{
		ID:       store.EventID(store.SourceMarket, sourceID),
		ClientID: c.client.ID,
		Time:     m.at,
		Kind:     store.KindEvent,
		Source:   store.SourceMarket,
		SourceID: sourceID,
		Actor:    string(store.SourceMarket),
		Summary:  m.summary(),
		Body:     m.headline,
		Attrs:    store.Attrs{Extra: store.WithSignal(extra, store.SignalMarketMove)},
	}
}

// summary reads like "Market move: ZCZ6 (Dec 2026 corn) down 4.2% at 431.5".
func (m move) summary() string {
	what := m.instrument.String()
	if m.instrument.Contract.Code == "" {
		what = m.instrument.Commodity.Name
	}
	dir := "up"
	if m.changePct < 0 {
		dir = "down"
	}
	s := fmt.Sprintf("Market move: %s %s %s%%", what, dir, strconv.FormatFloat(math.Abs(m.changePct), 'f', -1, 64))
	if m.changePct == 0 {
		s = fmt.Sprintf("Market move: %s unchanged", what)
	}
	if m.price != nil {
		s += " at " + strconv.FormatFloat(*m.price, 'f', -1, 64)
	}
	return s
}
