package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.TradeStore = (*DB)(nil)

const insertFill = `INSERT INTO client_fills (event_id, client_id, at, commodity, contract, side, quantity, price, notional, currency)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING`

// The three windows (bound, $2], in one pass over the client's index range.
// The bounds come from Go as instants: interval arithmetic on timestamptz
// follows the session's time zone, so "30 days" would be 719 or 721 hours
// across a DST change.
const tradeStatsQuery = `
SELECT count(*)               FILTER (WHERE at > $3),
       coalesce(sum(quantity) FILTER (WHERE at > $3), 0),
       count(*)               FILTER (WHERE at > $4),
       coalesce(sum(quantity) FILTER (WHERE at > $4), 0),
       count(*)               FILTER (WHERE at > $5),
       coalesce(sum(quantity) FILTER (WHERE at > $5), 0),
       coalesce(array_agg(DISTINCT commodity ORDER BY commodity) FILTER (WHERE at > $5 AND commodity <> ''), '{}'),
       coalesce(sum(notional) FILTER (WHERE at > $3 AND currency = $6), 0),
       coalesce(sum(notional) FILTER (WHERE at > $4 AND currency = $6), 0),
       coalesce(sum(notional) FILTER (WHERE at > $5 AND currency = $6), 0),
       min(at), max(at)
FROM client_fills
WHERE client_id = $1 AND at <= $2`

const tradeDay = 24 * time.Hour

// RecordFill implements store.TradeStore.
func (db *DB) RecordFill(ctx context.Context, f store.Fill) (bool, error) {
	if err := f.Validate(); err != nil {
		return false, err
	}
	first, err := db.RecordFills(ctx, []store.Fill{f})
	if err != nil {
		return false, err
	}
	return first[0], nil
}

// insertFills records a batch in one statement: the arrays are unnested
// into rows, and RETURNING names the rows that were new.
const insertFills = `INSERT INTO client_fills (event_id, client_id, at, commodity, contract, side, quantity, price, notional, currency)
	SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::text[])
	ON CONFLICT (event_id) DO NOTHING
	RETURNING event_id`

// RecordFills records many fills in one transaction, with the activity
// rows of their clients, so all or none. first[i]
// reports whether fills[i] was new; a fill repeated within the batch is new
// only the first time.
func (db *DB) RecordFills(ctx context.Context, fills []store.Fill) ([]bool, error) {
	for _, f := range fills {
		if err := f.Validate(); err != nil {
			return nil, err
		}
	}
	// Send each event id once: the first occurrence decides, as it would
	// one call at a time.
	firstAt := make(map[uuid.UUID]int, len(fills))
	var (
		ids, clients                  []uuid.UUID
		ats                           []time.Time
		commodities, contracts, sides []string
		quantities, prices, notionals []float64
		currencies                    []string
	)
	for i, f := range fills {
		if _, dup := firstAt[f.EventID]; dup {
			continue
		}
		firstAt[f.EventID] = i
		ids, clients, ats = append(ids, f.EventID), append(clients, f.ClientID), append(ats, f.At)
		commodities, contracts, sides = append(commodities, f.Commodity), append(contracts, f.Contract), append(sides, f.Side)
		quantities, prices = append(quantities, f.Quantity), append(prices, f.Price)
		notional, currency := f.Value(db.cat)
		notionals, currencies = append(notionals, notional), append(currencies, currency)
	}
	first := make([]bool, len(fills))
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, insertFills, ids, clients, ats, commodities, contracts, sides, quantities, prices, notionals, currencies)
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		clear(first)
		var r store.Recorded
		var touched []uuid.UUID
		for _, id := range inserted {
			f := fills[firstAt[id]]
			first[firstAt[id]] = true
			r.Fills = append(r.Fills, f)
			touched = append(touched, f.ClientID)
		}
		if err := db.noteActivity(ctx, tx, r); err != nil {
			return err
		}
		if len(touched) > 0 {
			return recountRecommended(ctx, tx, touched, db.now())
		}
		return nil
	})
	if err != nil {
		return nil, mapError("record fills", err)
	}
	return first, nil
}

func (db *DB) fillArgs(f store.Fill) []any {
	notional, currency := f.Value(db.cat)
	return []any{f.EventID, f.ClientID, f.At, f.Commodity, f.Contract, f.Side, f.Quantity, f.Price, notional, currency}
}

// TradeStats implements store.TradeStore. Windows are (now-N days, now];
// fills dated after now are not counted yet. Commodities are those traded in
// the last 365 days, sorted.
func (db *DB) TradeStats(ctx context.Context, clientID uuid.UUID, now time.Time) (store.TradeStats, error) {
	var st store.TradeStats
	var first, last *time.Time
	err := db.pool.QueryRow(ctx, tradeStatsQuery, clientID, now, now.Add(-30*tradeDay), now.Add(-90*tradeDay), now.Add(-365*tradeDay), store.NotionalCurrency).Scan(
		&st.Trades30d, &st.Volume30d, &st.Trades90d, &st.Volume90d, &st.Trades365d, &st.Volume365d,
		&st.Commodities, &st.Notional30d, &st.Notional90d, &st.Notional365d, &first, &last)
	if err != nil {
		return st, mapError("read trade statistics", err)
	}
	if len(st.Commodities) == 0 {
		st.Commodities = nil
	}
	if first != nil {
		st.FirstFill, st.LastFill = first.UTC(), last.UTC()
	}
	return st, nil
}

// ClientsTrading returns the clients with a fill in commodity after since:
// the clients a market move in it concerns.
func (db *DB) ClientsTrading(ctx context.Context, commodity string, since time.Time) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT client_id FROM client_fills WHERE commodity = $1 AND at > $2 ORDER BY client_id`,
		commodity, since)
	if err != nil {
		return nil, mapError("find clients trading "+commodity, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, mapError("find clients trading "+commodity, err)
	}
	return ids, nil
}
