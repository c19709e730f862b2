package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.ActivityStore = (*DB)(nil)

const activityColumns = `client_id, valid_from, valid_until, trades_30d, trades_90d, trades_365d,
	volume_30d, volume_90d, volume_365d, notional_30d, notional_90d, notional_365d,
	commodities, last_fill, last_inbound, last_outbound, sentiment_sum, sentiment_count`

// recountActivity is every column of the clients $1 as of $2, from the
// tables; $3-$5 are $2 less the windows, $6 the notional currency. Until is
// the earliest instant a fill or score leaves a window, or an event dated
// after $2 enters; the windows are added as hours, which unlike days do
// not depend on the session's time zone.
const recountActivity = `INSERT INTO client_stats AS s (` + activityColumns + `)
SELECT i.id, $2::timestamptz,
       least(f.first30 + interval '720 hours', f.first90 + interval '2160 hours', f.first365 + interval '8760 hours',
             (SELECT min(at) FROM client_fills WHERE client_id = i.id AND at > $2),
             (SELECT min(at) FROM client_contacts WHERE client_id = i.id AND at > $2),
             e.first + interval '720 hours', e.next),
       f.t30, f.t90, f.t365, f.v30, f.v90, f.v365, f.n30, f.n90, f.n365, f.commodities,
       (SELECT max(at) FROM client_fills WHERE client_id = i.id AND at <= $2),
       k.li, k.lo, e.total, e.n
FROM unnest($1::uuid[]) AS i(id)
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE at > $3) AS t30, count(*) FILTER (WHERE at > $4) AS t90, count(*) AS t365,
           coalesce(sum(quantity) FILTER (WHERE at > $3), 0) AS v30, coalesce(sum(quantity) FILTER (WHERE at > $4), 0) AS v90,
           coalesce(sum(quantity), 0) AS v365,
           coalesce(sum(notional) FILTER (WHERE at > $3 AND currency = $6), 0) AS n30,
           coalesce(sum(notional) FILTER (WHERE at > $4 AND currency = $6), 0) AS n90,
           coalesce(sum(notional) FILTER (WHERE currency = $6), 0) AS n365,
           coalesce(array_agg(DISTINCT commodity ORDER BY commodity) FILTER (WHERE commodity <> ''), '{}') AS commodities,
           min(at) FILTER (WHERE at > $3) AS first30, min(at) FILTER (WHERE at > $4) AS first90, min(at) AS first365
    FROM client_fills WHERE client_id = i.id AND at > $5 AND at <= $2) f
CROSS JOIN LATERAL (
    SELECT max(at) FILTER (WHERE direction IN ('inbound', 'both')) AS li,
           max(at) FILTER (WHERE direction IN ('outbound', 'both')) AS lo
    FROM client_contacts WHERE client_id = i.id AND at <= $2) k
CROSS JOIN LATERAL (
    SELECT coalesce(sum(score) FILTER (WHERE at <= $2), 0) AS total, count(*) FILTER (WHERE at <= $2) AS n,
           min(at) FILTER (WHERE at <= $2) AS first, min(at) FILTER (WHERE at > $2) AS next
    FROM client_sentiment WHERE client_id = i.id AND at > $3) e
ON CONFLICT (client_id) DO UPDATE SET valid_from = excluded.valid_from, valid_until = excluded.valid_until,
    trades_30d = excluded.trades_30d, trades_90d = excluded.trades_90d, trades_365d = excluded.trades_365d,
    volume_30d = excluded.volume_30d, volume_90d = excluded.volume_90d, volume_365d = excluded.volume_365d,
    notional_30d = excluded.notional_30d, notional_90d = excluded.notional_90d, notional_365d = excluded.notional_365d,
    commodities = excluded.commodities, last_fill = excluded.last_fill, last_inbound = excluded.last_inbound,
    last_outbound = excluded.last_outbound, sentiment_sum = excluded.sentiment_sum, sentiment_count = excluded.sentiment_count`

const updateActivity = `UPDATE client_stats SET valid_from = $2, valid_until = $3,
	trades_30d = $4, trades_90d = $5, trades_365d = $6, volume_30d = $7, volume_90d = $8, volume_365d = $9,
	notional_30d = $10, notional_90d = $11, notional_365d = $12, commodities = $13,
	last_fill = $14, last_inbound = $15, last_outbound = $16, sentiment_sum = $17, sentiment_count = $18
	WHERE client_id = $1`

// lockActivity gives each client (sorted) a row if it has none, a stale
// one, and locks the rows in that order, so that two transactions counting
// the same client take turns: the second reads the row the first wrote,
// and recounts in a statement that sees the first's events.
func lockActivity(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]*store.Activity, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO client_stats (client_id, valid_from, valid_until)
		SELECT id, 'epoch', 'epoch' FROM unnest($1::uuid[]) AS id ON CONFLICT (client_id) DO NOTHING`, ids); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT `+activityColumns+` FROM client_stats WHERE client_id = ANY($1::uuid[]) ORDER BY client_id FOR UPDATE`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[uuid.UUID]*store.Activity, len(ids))
	for rows.Next() {
		var a store.Activity
		var until, lastFill, lastIn, lastOut *time.Time
		if err := rows.Scan(&a.ClientID, &a.From, &until, &a.Trades[0], &a.Trades[1], &a.Trades[2],
			&a.Volume[0], &a.Volume[1], &a.Volume[2], &a.Notional[0], &a.Notional[1], &a.Notional[2],
			&a.Commodities, &lastFill, &lastIn, &lastOut, &a.SentimentSum, &a.SentimentCount); err != nil {
			return nil, err
		}
		a.From = a.From.UTC()
		a.Until, a.LastFill, a.LastInbound, a.LastOutbound = utcOrZero(until), utcOrZero(lastFill), utcOrZero(lastIn), utcOrZero(lastOut)
		out[a.ClientID] = &a
	}
	return out, rows.Err()
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nilIfZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SkipActivity makes the store record fills, contacts and scores without
// counting them in their clients' activity rows, which then no longer
// match the tables, or counts them again (false). It exists only to
// measure what the rows cost the writes that keep them
// (BenchmarkOrdersWebhookActivity); nothing else calls it.
func (db *DB) SkipActivity(skip bool) { db.skipActivity.Store(skip) }

// noteActivity counts what a transaction recorded in its clients' rows.
func (db *DB) noteActivity(ctx context.Context, tx pgx.Tx, r store.Recorded) error {
	ids := r.Clients()
	if len(ids) == 0 || db.skipActivity.Load() {
		return nil
	}
	rows, err := lockActivity(ctx, tx, ids)
	if err != nil {
		return err
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	changed, recount := r.Apply(rows, db.cat, now)
	var b pgx.Batch
	for _, a := range changed {
		b.Queue(updateActivity, a.ClientID, a.From, nilIfZero(a.Until), a.Trades[0], a.Trades[1], a.Trades[2],
			a.Volume[0], a.Volume[1], a.Volume[2], a.Notional[0], a.Notional[1], a.Notional[2],
			a.Commodities, nilIfZero(a.LastFill), nilIfZero(a.LastInbound), nilIfZero(a.LastOutbound), a.SentimentSum, a.SentimentCount)
	}
	if len(recount) > 0 {
		b.Queue(recountActivity, recountArgs(recount, now)...)
	}
	return tx.SendBatch(ctx, &b).Close()
}

func recountArgs(ids []uuid.UUID, now time.Time) []any {
	now = now.UTC().Truncate(time.Microsecond)
	w := store.ActivityWindows
	return []any{ids, now, now.Add(-w[0]), now.Add(-w[1]), now.Add(-w[2]), store.NotionalCurrency}
}

// recount counts the rows of ids again as of now, locking them first.
func recount(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, now time.Time) error {
	ids = store.SortedIDs(ids)
	if _, err := lockActivity(ctx, tx, ids); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, recountActivity, recountArgs(ids, now)...)
	return err
}

// refreshChunk is how many rows one transaction of RefreshActivity recounts.
const refreshChunk = 2000

// RefreshActivity implements store.ActivityStore.
func (db *DB) RefreshActivity(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	n := 0
	for {
		rows, err := db.pool.Query(ctx, `SELECT client_id FROM client_stats WHERE valid_until <= $1 ORDER BY valid_until LIMIT $2`, now, refreshChunk)
		if err != nil {
			return n, mapError("refresh activity", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return n, mapError("refresh activity", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		if err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return recount(ctx, tx, ids, now) }); err != nil {
			return n, mapError("refresh activity", err)
		}
		n += len(ids)
		if len(ids) < refreshChunk {
			return n, nil
		}
	}
}
