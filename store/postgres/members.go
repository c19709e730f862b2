package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

var _ segment.MembershipStore = (*DB)(nil)

// SegmentMembers implements segment.MembershipStore.
func (db *DB) SegmentMembers(ctx context.Context, name string, only []uuid.UUID) ([]segment.Member, error) {
	q := `SELECT client_id, since FROM segment_members WHERE segment = $1`
	args := []any{name}
	if only != nil {
		q += ` AND client_id = ANY($2::uuid[])`
		args = append(args, only)
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError("read segment members", err)
	}
	defer rows.Close()
	var out []segment.Member
	for rows.Next() {
		var m segment.Member
		if err := rows.Scan(&m.ClientID, &m.Since); err != nil {
			return nil, mapError("read segment members", err)
		}
		m.Since = m.Since.UTC()
		out = append(out, m)
	}
	return out, mapError("read segment members", rows.Err())
}

// ChangeMembership implements segment.MembershipStore.
func (db *DB) ChangeMembership(ctx context.Context, name string, at time.Time, entered, left []uuid.UUID) ([]segment.Change, error) {
	at = pgTime(at)
	var out []segment.Change
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// The segment's row is locked so that a delete does not race the
		// changes, and is missing for a segment deleted meanwhile.
		var n string
		if err := tx.QueryRow(ctx, `SELECT name FROM segments WHERE name = $1 FOR SHARE`, name).Scan(&n); errors.Is(err, pgx.ErrNoRows) {
			return store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
		} else if err != nil {
			return err
		}
		change := func(q string, ids []uuid.UUID, in bool) error {
			if len(ids) == 0 {
				return nil
			}
			rows, err := tx.Query(ctx, q, name, ids, at)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				c := segment.Change{Segment: name, Entered: in, At: at}
				if err := rows.Scan(&c.Seq, &c.ClientID); err != nil {
					return err
				}
				out = append(out, c)
			}
			return rows.Err()
		}
		// Only the rows this transaction inserted or deleted become
		// changes: a concurrent sweep's are skipped.
		if err := change(`WITH added AS (
			INSERT INTO segment_members (segment, client_id, since)
			SELECT $1, id, $3 FROM unnest($2::uuid[]) AS id ORDER BY id
			ON CONFLICT DO NOTHING RETURNING client_id)
			INSERT INTO segment_changes (segment, client_id, entered, at)
			SELECT $1, client_id, true, $3 FROM added ORDER BY client_id RETURNING seq, client_id`, entered, true); err != nil {
			return err
		}
		return change(`WITH gone AS (
			DELETE FROM segment_members WHERE segment = $1 AND client_id = ANY($2::uuid[]) RETURNING client_id)
			INSERT INTO segment_changes (segment, client_id, entered, at)
			SELECT $1, client_id, false, $3 FROM gone ORDER BY client_id RETURNING seq, client_id`, left, false)
	})
	if err != nil {
		if store.ErrorCode(err) != "" {
			return nil, err
		}
		return nil, mapError("change segment members", err)
	}
	return out, nil
}

func scanChanges(rows pgx.Rows) ([]segment.Change, error) {
	defer rows.Close()
	var out []segment.Change
	for rows.Next() {
		var c segment.Change
		if err := rows.Scan(&c.Seq, &c.Segment, &c.ClientID, &c.Entered, &c.At); err != nil {
			return nil, err
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// UnrecordedChanges implements segment.MembershipStore.
func (db *DB) UnrecordedChanges(ctx context.Context, limit int) ([]segment.Change, error) {
	rows, err := db.pool.Query(ctx, `SELECT seq, segment, client_id, entered, at FROM segment_changes WHERE NOT recorded ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, mapError("read segment changes", err)
	}
	out, err := scanChanges(rows)
	return out, mapError("read segment changes", err)
}

// MarkChangesRecorded implements segment.MembershipStore.
func (db *DB) MarkChangesRecorded(ctx context.Context, seqs ...int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE segment_changes SET recorded = true WHERE seq = ANY($1::bigint[])`, seqs)
	return mapError("mark segment changes recorded", err)
}

// WatchSegment implements segment.MembershipStore.
func (db *DB) WatchSegment(ctx context.Context, w segment.Watch) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO segment_watches (segment, channel, watched_by, at, after_seq)
		SELECT name, $2, $3, $4, (SELECT coalesce(max(seq), 0) FROM segment_changes) FROM segments WHERE name = $1
		ON CONFLICT (segment) DO UPDATE SET channel = excluded.channel, watched_by = excluded.watched_by, at = excluded.at`,
		w.Segment, w.Channel, w.WatchedBy, pgTime(w.At))
	if err != nil {
		return mapError("watch segment", err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ENOTFOUND, "no saved segment %q", w.Segment)
	}
	return nil
}

// UnwatchSegment implements segment.MembershipStore.
func (db *DB) UnwatchSegment(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM segment_watches WHERE segment = $1`, name)
	if err != nil {
		return mapError("unwatch segment", err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ENOTFOUND, "segment %q is not watched", name)
	}
	return nil
}

// Watches implements segment.MembershipStore.
func (db *DB) Watches(ctx context.Context) ([]segment.Watch, error) {
	rows, err := db.pool.Query(ctx, `SELECT segment, channel, watched_by, at FROM segment_watches ORDER BY segment`)
	if err != nil {
		return nil, mapError("list watches", err)
	}
	defer rows.Close()
	var out []segment.Watch
	for rows.Next() {
		var w segment.Watch
		if err := rows.Scan(&w.Segment, &w.Channel, &w.WatchedBy, &w.At); err != nil {
			return nil, mapError("list watches", err)
		}
		w.At = w.At.UTC()
		out = append(out, w)
	}
	return out, mapError("list watches", rows.Err())
}

// ClaimWatchPosts implements segment.MembershipStore.
func (db *DB) ClaimWatchPosts(ctx context.Context, at time.Time, interval, lease time.Duration, maxChanges int) ([]segment.WatchPost, error) {
	at = pgTime(at)
	var out []segment.WatchPost
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Queue: each watch's changes after its cursor, in one post.
		if _, err := tx.Exec(ctx, `WITH w AS (
				SELECT segment, channel, after_seq FROM segment_watches
				WHERE queued_at IS NULL OR queued_at <= $3 FOR UPDATE),
			pending AS (
				SELECT w.segment, w.channel, min(c.seq) AS from_seq, max(c.seq) AS to_seq
				FROM w JOIN LATERAL (
					SELECT seq FROM segment_changes c WHERE c.segment = w.segment AND c.seq > w.after_seq ORDER BY seq LIMIT $2
				) c ON true GROUP BY w.segment, w.channel),
			queued AS (
				INSERT INTO segment_watch_posts (id, segment, channel, from_seq, to_seq, created_at, next_at)
				SELECT gen_random_uuid(), segment, channel, from_seq, to_seq, $1, $1 FROM pending RETURNING segment, to_seq)
			UPDATE segment_watches sw SET after_seq = queued.to_seq, queued_at = $1 FROM queued WHERE sw.segment = queued.segment`,
			at, maxChanges, at.Add(-interval)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE segment_watch_posts p SET next_at = $2, attempts = attempts + 1
			FROM (SELECT id FROM segment_watch_posts WHERE message_ts = '' AND next_at <= $1 ORDER BY created_at, id FOR UPDATE SKIP LOCKED) due
			WHERE p.id = due.id
			RETURNING p.id, p.segment, p.channel, p.from_seq, p.to_seq, p.created_at, p.attempts`, at, at.Add(lease))
		if err != nil {
			return err
		}
		type span struct{ from, to int64 }
		var spans []span
		for rows.Next() {
			var p segment.WatchPost
			var s span
			if err := rows.Scan(&p.ID, &p.Segment, &p.Channel, &s.from, &s.to, &p.CreatedAt, &p.Attempts); err != nil {
				rows.Close()
				return err
			}
			p.CreatedAt = p.CreatedAt.UTC()
			out = append(out, p)
			spans = append(spans, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			rows, err := tx.Query(ctx, `SELECT seq, segment, client_id, entered, at FROM segment_changes
				WHERE segment = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`, out[i].Segment, spans[i].from, spans[i].to)
			if err != nil {
				return err
			}
			if out[i].Changes, err = scanChanges(rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapError("claim watch posts", err)
	}
	return out, nil
}

// MarkWatchPosted implements segment.MembershipStore.
func (db *DB) MarkWatchPosted(ctx context.Context, id uuid.UUID, ts string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE segment_watch_posts SET message_ts = $2, posted_at = $3 WHERE id = $1`, id, ts, pgTime(at))
	return mapError("mark watch post posted", err)
}

// RetryWatchPost implements segment.MembershipStore.
func (db *DB) RetryWatchPost(ctx context.Context, id uuid.UUID, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE segment_watch_posts SET next_at = $2 WHERE id = $1 AND message_ts = ''`, id, pgTime(at))
	return mapError("retry watch post", err)
}
