package embedded

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.TradeStore = (*DB)(nil)

const tradeDay = 24 * time.Hour

const insertFill = `INSERT INTO client_fills (event_id, client_id, at, commodity, contract, side, quantity, price, notional, currency)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`

// RecordFill implements store.TradeStore.
func (d *DB) RecordFill(ctx context.Context, f store.Fill) (bool, error) {
	if err := f.Validate(); err != nil {
		return false, err
	}
	first, err := d.RecordFills(ctx, []store.Fill{f})
	if err != nil {
		return false, err
	}
	return first[0], nil
}

// RecordFills records many fills in one transaction: all or none. first[i]
// reports whether fills[i] was new; a fill repeated within the batch is new
// only the first time.
func (d *DB) RecordFills(ctx context.Context, fills []store.Fill) ([]bool, error) {
	for _, f := range fills {
		if err := f.Validate(); err != nil {
			return nil, err
		}
	}
	first := make([]bool, len(fills))
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var touched []uuid.UUID
		var r store.Recorded
		stmt, err := tx.PrepareContext(ctx, insertFill)
		if err != nil {
			return mapErr(err)
		}
		defer stmt.Close()
		for i, f := range fills {
			res, err := stmt.ExecContext(ctx, d.fillArgs(f)...)
			if err != nil {
				return mapErr(err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return mapErr(err)
			}
			first[i] = n == 1
			if first[i] {
				touched = append(touched, f.ClientID)
				r.Fills = append(r.Fills, f)
			}
		}
		if err := d.noteActivity(ctx, tx, r); err != nil {
			return err
		}
		return recountRecommended(ctx, tx, touched, d.now())
	})
	if err != nil {
		return nil, err
	}
	return first, nil
}

func (d *DB) fillArgs(f store.Fill) []any {
	notional, currency := f.Value(d.cat)
	return []any{f.EventID.String(), f.ClientID.String(), f.At.UnixMicro(), f.Commodity, f.Contract, f.Side, f.Quantity, f.Price, notional, currency}
}

// TradeStats implements store.TradeStore. Windows are (now-N days, now];
// fills dated after now are not counted yet. Commodities are those traded in
// the last 365 days, sorted.
func (d *DB) TradeStats(ctx context.Context, clientID uuid.UUID, now time.Time) (store.TradeStats, error) {
	var st store.TradeStats
	var first, last sql.NullInt64
	id, end := clientID.String(), now.UnixMicro()
	err := d.db.QueryRowContext(ctx, `
		SELECT count(CASE WHEN at > ?2 THEN 1 END), coalesce(sum(CASE WHEN at > ?2 THEN quantity END), 0),
		       count(CASE WHEN at > ?3 THEN 1 END), coalesce(sum(CASE WHEN at > ?3 THEN quantity END), 0),
		       count(CASE WHEN at > ?4 THEN 1 END), coalesce(sum(CASE WHEN at > ?4 THEN quantity END), 0),
		       coalesce(sum(CASE WHEN at > ?2 AND currency = ?6 THEN notional END), 0),
		       coalesce(sum(CASE WHEN at > ?3 AND currency = ?6 THEN notional END), 0),
		       coalesce(sum(CASE WHEN at > ?4 AND currency = ?6 THEN notional END), 0),
		       min(at), max(at)
		FROM client_fills WHERE client_id = ?1 AND at <= ?5`,
		id, now.Add(-30*tradeDay).UnixMicro(), now.Add(-90*tradeDay).UnixMicro(), now.Add(-365*tradeDay).UnixMicro(), end, store.NotionalCurrency,
	).Scan(&st.Trades30d, &st.Volume30d, &st.Trades90d, &st.Volume90d, &st.Trades365d, &st.Volume365d,
		&st.Notional30d, &st.Notional90d, &st.Notional365d, &first, &last)
	if err != nil {
		return st, mapErr(err)
	}
	if first.Valid {
		st.FirstFill, st.LastFill = timeFromMicro(first.Int64), timeFromMicro(last.Int64)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT commodity FROM client_fills
		WHERE client_id = ? AND at > ? AND at <= ? AND commodity <> '' ORDER BY commodity`,
		id, now.Add(-365*tradeDay).UnixMicro(), end)
	if err != nil {
		return st, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return st, mapErr(err)
		}
		st.Commodities = append(st.Commodities, c)
	}
	return st, mapErr(rows.Err())
}

// ClientsTrading returns the clients with a fill in commodity after since:
// the clients a market move in it concerns.
func (d *DB) ClientsTrading(ctx context.Context, commodity string, since time.Time) ([]uuid.UUID, error) {
	return clientIDs(ctx, d.db, `SELECT DISTINCT client_id FROM client_fills WHERE commodity = ? AND at > ? ORDER BY client_id`,
		commodity, since.UnixMicro())
}
