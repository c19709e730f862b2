package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokersync/brokersync/store"
)

var _ store.ResponsivenessStore = (*DB)(nil)

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const insertRecommendation = `INSERT INTO client_recommendations (event_id, client_id, at, commodity) VALUES ($1, $2, $3, $4)
	ON CONFLICT (event_id) DO NOTHING`

// RecordRecommendations implements store.ResponsivenessStore.
func (db *DB) RecordRecommendations(ctx context.Context, rs ...store.Recommendation) (int, error) {
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return 0, err
		}
	}
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		n = 0
		var clients []uuid.UUID
		for _, r := range rs {
			tag, err := tx.Exec(ctx, insertRecommendation, r.EventID, r.ClientID, r.At, r.Commodity)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
			clients = append(clients, r.ClientID)
		}
		return recountResponsiveness(ctx, tx, clients, db.now())
	})
	return n, mapError("record recommendations", err)
}

// Responsiveness implements store.StatsReader.
func (db *DB) Responsiveness(ctx context.Context, clientID uuid.UUID) (store.Responsiveness, error) {
	var r store.Responsiveness
	var until *time.Time
	var median *float64
	err := db.pool.QueryRow(ctx, `SELECT recommendations, followed, pending, pending_until, replies, reply_median_seconds
		FROM client_responsiveness WHERE client_id = $1`, clientID).Scan(&r.Recommendations, &r.Followed, &r.Pending, &until, &r.Replies, &median)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, mapError("read responsiveness", err)
	}
	if until != nil {
		r.PendingUntil = until.UTC()
	}
	if median != nil {
		r.ReplyMedian = time.Duration(*median * float64(time.Second))
	}
	return r, nil
}

// RefreshResponsiveness implements store.ResponsivenessStore.
func (db *DB) RefreshResponsiveness(ctx context.Context, now time.Time) (int, error) {
	rows, err := db.pool.Query(ctx, `SELECT client_id FROM client_responsiveness WHERE pending_until <= $1`, now)
	if err != nil {
		return 0, mapError("refresh responsiveness", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, mapError("refresh responsiveness", err)
	}
	return len(ids), mapError("refresh responsiveness", recountResponsiveness(ctx, db.pool, ids, now))
}

// recountResponsivenessOf recounts the clients among ids that have
// recommendations (a fill changes nothing for the others).
func recountRecommended(ctx context.Context, q querier, ids []uuid.UUID, now time.Time) error {
	rows, err := q.Query(ctx, `SELECT DISTINCT client_id FROM client_recommendations WHERE client_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	with, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	return recountResponsiveness(ctx, q, with, now)
}

// recountResponsiveness counts each client's responsiveness again from its
// recommendations, the fills in their commodities and its emails and chats.
func recountResponsiveness(ctx context.Context, q querier, ids []uuid.UUID, now time.Time) error {
	ids = store.SortedIDs(ids) // rows are written in one order, so two writers cannot deadlock
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		rows, err := q.Query(ctx, `SELECT at, commodity FROM client_recommendations WHERE client_id = $1`, id)
		if err != nil {
			return err
		}
		var recs []store.Recommendation
		var first time.Time
		var commodities []string
		for rows.Next() {
			r := store.Recommendation{ClientID: id}
			if err := rows.Scan(&r.At, &r.Commodity); err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, r)
			commodities = append(commodities, r.Commodity)
			if first.IsZero() || r.At.Before(first) {
				first = r.At
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var fills []store.Fill
		if len(recs) > 0 {
			rows, err := q.Query(ctx, `SELECT at, commodity FROM client_fills WHERE client_id = $1 AND at > $2 AND commodity = ANY($3::text[])`, id, first, commodities)
			if err != nil {
				return err
			}
			for rows.Next() {
				var f store.Fill
				if err := rows.Scan(&f.At, &f.Commodity); err != nil {
					rows.Close()
					return err
				}
				fills = append(fills, f)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		rows, err = q.Query(ctx, `SELECT at, kind, direction FROM client_contacts
			WHERE client_id = $1 AND kind IN ('email', 'chat') AND direction IN ('inbound', 'outbound') ORDER BY at`, id)
		if err != nil {
			return err
		}
		var contacts []store.Contact
		for rows.Next() {
			var c store.Contact
			var kind string
			if err := rows.Scan(&c.At, &kind, &c.Direction); err != nil {
				rows.Close()
				return err
			}
			c.Kind = store.Kind(kind)
			contacts = append(contacts, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		r := store.ComputeResponsiveness(recs, fills, contacts, now)
		if len(recs) == 0 && r.Replies == 0 {
			if _, err := q.Exec(ctx, `DELETE FROM client_responsiveness WHERE client_id = $1`, id); err != nil {
				return err
			}
			continue
		}
		if _, err := q.Exec(ctx, `INSERT INTO client_responsiveness
			(client_id, recommendations, followed, pending, pending_until, responsive, replies, reply_median_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (client_id) DO UPDATE SET recommendations = excluded.recommendations, followed = excluded.followed,
				pending = excluded.pending, pending_until = excluded.pending_until, responsive = excluded.responsive,
				replies = excluded.replies, reply_median_seconds = excluded.reply_median_seconds`,
			responsivenessRow(id, r)...); err != nil {
			return err
		}
	}
	return nil
}

// responsivenessRow is a client_responsiveness row's values, in the order
// of its columns: client_id, recommendations, followed, pending,
// pending_until, responsive, replies, reply_median_seconds.
func responsivenessRow(id uuid.UUID, r store.Responsiveness) []any {
	var until *time.Time
	if !r.PendingUntil.IsZero() {
		until = &r.PendingUntil
	}
	var share, median *float64
	if s, ok := r.Share(); ok {
		share = &s
	}
	if r.Replies > 0 {
		m := r.ReplyMedian.Seconds()
		median = &m
	}
	return []any{id, r.Recommendations, r.Followed, r.Pending, until, share, r.Replies, median}
}
