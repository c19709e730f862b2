package embedded

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.ResponsivenessStore = (*DB)(nil)

// sqlQuerier is the database or a transaction.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const insertRecommendation = `INSERT INTO client_recommendations (event_id, client_id, at, commodity) VALUES (?, ?, ?, ?)
	ON CONFLICT (event_id) DO NOTHING`

// RecordRecommendations implements store.ResponsivenessStore.
func (d *DB) RecordRecommendations(ctx context.Context, rs ...store.Recommendation) (int, error) {
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return 0, err
		}
	}
	n := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		var clients []uuid.UUID
		for _, r := range rs {
			res, err := tx.ExecContext(ctx, insertRecommendation, r.EventID.String(), r.ClientID.String(), r.At.UnixMicro(), r.Commodity)
			if err != nil {
				return mapErr(err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
			clients = append(clients, r.ClientID)
		}
		return recountResponsiveness(ctx, tx, clients, d.now())
	})
	return n, err
}

// Responsiveness implements store.StatsReader.
func (d *DB) Responsiveness(ctx context.Context, clientID uuid.UUID) (store.Responsiveness, error) {
	var r store.Responsiveness
	var until sql.NullInt64
	var median sql.NullFloat64
	err := d.db.QueryRowContext(ctx, `SELECT recommendations, followed, pending, pending_until, replies, reply_median_seconds
		FROM client_responsiveness WHERE client_id = ?`, clientID.String()).Scan(&r.Recommendations, &r.Followed, &r.Pending, &until, &r.Replies, &median)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, mapErr(err)
	}
	if until.Valid {
		r.PendingUntil = timeFromMicro(until.Int64)
	}
	if median.Valid {
		r.ReplyMedian = time.Duration(median.Float64 * float64(time.Second))
	}
	return r, nil
}

// RefreshResponsiveness implements store.ResponsivenessStore.
func (d *DB) RefreshResponsiveness(ctx context.Context, now time.Time) (int, error) {
	// Looked for first without the write lock, which most minutes need not
	// be taken at all.
	const due = `SELECT client_id FROM client_responsiveness WHERE pending_until <= ?`
	if ids, err := clientIDs(ctx, d.db, due, now.UnixMicro()); err != nil || len(ids) == 0 {
		return 0, err
	}
	n := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		ids, err := clientIDs(ctx, tx, due, now.UnixMicro())
		if err != nil {
			return err
		}
		n = len(ids)
		return recountResponsiveness(ctx, tx, ids, now)
	})
	return n, err
}

func clientIDs(ctx context.Context, q sqlQuerier, query string, args ...any) ([]uuid.UUID, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, mapErr(err)
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, store.Internal("read client id", err)
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err())
}

// recountRecommended recounts the clients among ids that have
// recommendations (a fill changes nothing for the others).
func recountRecommended(ctx context.Context, q sqlQuerier, ids []uuid.UUID, now time.Time) error {
	var with []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		found, err := clientIDs(ctx, q, `SELECT client_id FROM client_recommendations WHERE client_id = ? LIMIT 1`, id.String())
		if err != nil {
			return err
		}
		with = append(with, found...)
	}
	return recountResponsiveness(ctx, q, with, now)
}

// recountResponsiveness counts each client's responsiveness again from its
// recommendations, the fills in their commodities and its emails and chats.
func recountResponsiveness(ctx context.Context, q sqlQuerier, ids []uuid.UUID, now time.Time) error {
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		var recs []store.Recommendation
		var fills []store.Fill
		var contacts []store.Contact
		if err := scanRows(ctx, q, func(rows *sql.Rows) error {
			var at int64
			r := store.Recommendation{ClientID: id}
			err := rows.Scan(&at, &r.Commodity)
			r.At = timeFromMicro(at)
			recs = append(recs, r)
			return err
		}, `SELECT at, commodity FROM client_recommendations WHERE client_id = ?`, id.String()); err != nil {
			return err
		}
		if len(recs) > 0 {
			if err := scanRows(ctx, q, func(rows *sql.Rows) error {
				var at int64
				var f store.Fill
				err := rows.Scan(&at, &f.Commodity)
				f.At = timeFromMicro(at)
				fills = append(fills, f)
				return err
			}, `SELECT f.at, f.commodity FROM client_fills f WHERE f.client_id = ?1
				AND EXISTS (SELECT 1 FROM client_recommendations r WHERE r.client_id = ?1 AND r.commodity = f.commodity AND r.at < f.at)`, id.String()); err != nil {
				return err
			}
		}
		if err := scanRows(ctx, q, func(rows *sql.Rows) error {
			var at int64
			var c store.Contact
			var kind string
			err := rows.Scan(&at, &kind, &c.Direction)
			c.At, c.Kind = timeFromMicro(at), store.Kind(kind)
			contacts = append(contacts, c)
			return err
		}, `SELECT at, kind, direction FROM client_contacts
			WHERE client_id = ? AND kind IN ('email', 'chat') AND direction IN ('inbound', 'outbound') ORDER BY at`, id.String()); err != nil {
			return err
		}
		r := store.ComputeResponsiveness(recs, fills, contacts, now)
		if len(recs) == 0 && r.Replies == 0 {
			if _, err := q.ExecContext(ctx, `DELETE FROM client_responsiveness WHERE client_id = ?`, id.String()); err != nil {
				return mapErr(err)
			}
			continue
		}
		var until, share, median any
		if !r.PendingUntil.IsZero() {
			until = r.PendingUntil.UnixMicro()
		}
		if s, ok := r.Share(); ok {
			share = s
		}
		if r.Replies > 0 {
			median = r.ReplyMedian.Seconds()
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO client_responsiveness
			(client_id, recommendations, followed, pending, pending_until, responsive, replies, reply_median_seconds)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client_id) DO UPDATE SET recommendations = excluded.recommendations, followed = excluded.followed,
				pending = excluded.pending, pending_until = excluded.pending_until, responsive = excluded.responsive,
				replies = excluded.replies, reply_median_seconds = excluded.reply_median_seconds`,
			id.String(), r.Recommendations, r.Followed, r.Pending, until, share, r.Replies, median); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func scanRows(ctx context.Context, q sqlQuerier, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return mapErr(err)
		}
	}
	return mapErr(rows.Err())
}
