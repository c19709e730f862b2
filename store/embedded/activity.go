package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.ActivityStore = (*DB)(nil)

const activityColumns = `client_id, valid_from, valid_until, trades_30d, trades_90d, trades_365d,
	volume_30d, volume_90d, volume_365d, notional_30d, notional_90d, notional_365d,
	commodities, last_fill, last_inbound, last_outbound, sentiment_sum, sentiment_count`

// readActivity reads the rows of ids; a client without one is left out.
func readActivity(ctx context.Context, q sqlQuerier, ids []uuid.UUID) (map[uuid.UUID]*store.Activity, error) {
	list, args := idList(ids, 1)
	rows, err := q.QueryContext(ctx, `SELECT `+activityColumns+` FROM client_stats WHERE client_id IN (`+list+`)`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]*store.Activity, len(ids))
	for rows.Next() {
		var a store.Activity
		var id, commodities string
		var from int64
		var until, lastFill, lastIn, lastOut sql.NullInt64
		if err := rows.Scan(&id, &from, &until, &a.Trades[0], &a.Trades[1], &a.Trades[2],
			&a.Volume[0], &a.Volume[1], &a.Volume[2], &a.Notional[0], &a.Notional[1], &a.Notional[2],
			&commodities, &lastFill, &lastIn, &lastOut, &a.SentimentSum, &a.SentimentCount); err != nil {
			return nil, mapErr(err)
		}
		if a.ClientID, err = uuid.Parse(id); err != nil {
			return nil, mapErr(err)
		}
		if err := json.Unmarshal([]byte(commodities), &a.Commodities); err != nil {
			return nil, mapErr(err)
		}
		a.From = timeFromMicro(from)
		a.Until, a.LastFill, a.LastInbound, a.LastOutbound = microOrZero(until), microOrZero(lastFill), microOrZero(lastIn), microOrZero(lastOut)
		out[a.ClientID] = &a
	}
	return out, mapErr(rows.Err())
}

func microOrZero(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return timeFromMicro(v.Int64)
}

func zeroOrMicro(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// writeActivity stores a row, replacing the client's.
func writeActivity(ctx context.Context, q sqlQuerier, a *store.Activity) error {
	commodities, err := json.Marshal(append([]string{}, a.Commodities...))
	if err != nil {
		return store.Internal("encode commodities", err)
	}
	_, err = q.ExecContext(ctx, `INSERT OR REPLACE INTO client_stats (`+activityColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ClientID.String(), a.From.UnixMicro(), zeroOrMicro(a.Until), a.Trades[0], a.Trades[1], a.Trades[2],
		a.Volume[0], a.Volume[1], a.Volume[2], a.Notional[0], a.Notional[1], a.Notional[2],
		string(commodities), zeroOrMicro(a.LastFill), zeroOrMicro(a.LastInbound), zeroOrMicro(a.LastOutbound), a.SentimentSum, a.SentimentCount)
	return mapErr(err)
}

// countActivity counts a client's row as of now from the tables; Until is
// the earliest instant a fill or score leaves a window, or an event dated
// after now enters.
func countActivity(ctx context.Context, q sqlQuerier, id uuid.UUID, now time.Time) (*store.Activity, error) {
	now = now.UTC().Truncate(time.Microsecond)
	a := &store.Activity{ClientID: id, From: now}
	w := store.ActivityWindows
	end := now.UnixMicro()
	var first [3]sql.NullInt64
	var lastFill, nextFill, lastIn, lastOut, nextContact, firstScore, nextScore sql.NullInt64
	var commodities sql.NullString
	rows, err := q.QueryContext(ctx, `
		SELECT count(CASE WHEN at > ?2 THEN 1 END), count(CASE WHEN at > ?3 THEN 1 END), count(*),
		       coalesce(sum(CASE WHEN at > ?2 THEN quantity END), 0), coalesce(sum(CASE WHEN at > ?3 THEN quantity END), 0), coalesce(sum(quantity), 0),
		       coalesce(sum(CASE WHEN at > ?2 AND currency = ?6 THEN notional END), 0),
		       coalesce(sum(CASE WHEN at > ?3 AND currency = ?6 THEN notional END), 0),
		       coalesce(sum(CASE WHEN currency = ?6 THEN notional END), 0),
		       min(CASE WHEN at > ?2 THEN at END), min(CASE WHEN at > ?3 THEN at END), min(at),
		       (SELECT json_group_array(commodity) FROM (SELECT DISTINCT commodity FROM client_fills
		            WHERE client_id = ?1 AND at > ?4 AND at <= ?5 AND commodity <> '')),
		       (SELECT max(at) FROM client_fills WHERE client_id = ?1 AND at <= ?5),
		       (SELECT min(at) FROM client_fills WHERE client_id = ?1 AND at > ?5),
		       (SELECT max(at) FROM client_contacts WHERE client_id = ?1 AND at <= ?5 AND direction IN ('inbound', 'both')),
		       (SELECT max(at) FROM client_contacts WHERE client_id = ?1 AND at <= ?5 AND direction IN ('outbound', 'both')),
		       (SELECT min(at) FROM client_contacts WHERE client_id = ?1 AND at > ?5),
		       (SELECT coalesce(sum(score), 0) FROM client_sentiment WHERE client_id = ?1 AND at > ?2 AND at <= ?5),
		       (SELECT count(*) FROM client_sentiment WHERE client_id = ?1 AND at > ?2 AND at <= ?5),
		       (SELECT min(at) FROM client_sentiment WHERE client_id = ?1 AND at > ?2 AND at <= ?5),
		       (SELECT min(at) FROM client_sentiment WHERE client_id = ?1 AND at > ?5)
		FROM client_fills WHERE client_id = ?1 AND at > ?4 AND at <= ?5`,
		id.String(), now.Add(-w[0]).UnixMicro(), now.Add(-w[1]).UnixMicro(), now.Add(-w[2]).UnixMicro(), end, store.NotionalCurrency)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, mapErr(rows.Err())
	}
	if err := rows.Scan(&a.Trades[0], &a.Trades[1], &a.Trades[2], &a.Volume[0], &a.Volume[1], &a.Volume[2],
		&a.Notional[0], &a.Notional[1], &a.Notional[2], &first[0], &first[1], &first[2], &commodities,
		&lastFill, &nextFill, &lastIn, &lastOut, &nextContact, &a.SentimentSum, &a.SentimentCount, &firstScore, &nextScore); err != nil {
		return nil, mapErr(err)
	}
	if commodities.Valid {
		if err := json.Unmarshal([]byte(commodities.String), &a.Commodities); err != nil {
			return nil, mapErr(err)
		}
		slices.Sort(a.Commodities)
	}
	a.LastFill, a.LastInbound, a.LastOutbound = microOrZero(lastFill), microOrZero(lastIn), microOrZero(lastOut)
	until := func(v sql.NullInt64, plus time.Duration) {
		if v.Valid {
			if t := timeFromMicro(v.Int64).Add(plus); a.Until.IsZero() || t.Before(a.Until) {
				a.Until = t
			}
		}
	}
	for i := range first {
		until(first[i], w[i])
	}
	until(nextFill, 0)
	until(nextContact, 0)
	until(firstScore, store.SentimentWindow)
	until(nextScore, 0)
	return a, nil
}

// recountActivity counts the rows of ids again as of now.
func recountActivity(ctx context.Context, q sqlQuerier, ids []uuid.UUID, now time.Time) error {
	for _, id := range ids {
		a, err := countActivity(ctx, q, id, now)
		if err != nil {
			return err
		}
		if err := writeActivity(ctx, q, a); err != nil {
			return err
		}
	}
	return nil
}

// SkipActivity makes the store record fills, contacts and scores without
// counting them in their clients' activity rows, which then no longer
// match the tables, or counts them again (false). It exists only to
// measure what the rows cost the writes that keep them
// (BenchmarkOrdersWebhookActivity); nothing else calls it.
func (d *DB) SkipActivity(skip bool) { d.skipActivity.Store(skip) }

// noteActivity counts what a transaction recorded in its clients' rows.
// The embedded store has one writer at a time, so reading and writing
// them back in the transaction is safe.
func (d *DB) noteActivity(ctx context.Context, tx *sql.Tx, r store.Recorded) error {
	ids := r.Clients()
	if len(ids) == 0 || d.skipActivity.Load() {
		return nil
	}
	rows, err := readActivity(ctx, tx, ids)
	if err != nil {
		return err
	}
	now := d.now().UTC().Truncate(time.Microsecond)
	changed, recount := r.Apply(rows, d.cat, now)
	for _, a := range changed {
		if err := writeActivity(ctx, tx, a); err != nil {
			return err
		}
	}
	return recountActivity(ctx, tx, recount, now)
}

// refreshChunk is how many rows one transaction of RefreshActivity recounts.
const refreshChunk = 500

// RefreshActivity implements store.ActivityStore.
func (d *DB) RefreshActivity(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	n := 0
	for {
		ids, err := clientIDs(ctx, d.db, `SELECT client_id FROM client_stats WHERE valid_until <= ? ORDER BY valid_until LIMIT ?`,
			now.UnixMicro(), refreshChunk)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		if err := d.inTx(ctx, func(tx *sql.Tx) error { return recountActivity(ctx, tx, ids, now) }); err != nil {
			return n, err
		}
		n += len(ids)
		if len(ids) < refreshChunk {
			return n, nil
		}
	}
}
