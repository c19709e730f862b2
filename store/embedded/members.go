package embedded

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

var _ segment.MembershipStore = (*DB)(nil)

// idList is ids as numbered parameters from ?start, with their values.
func idList(ids []uuid.UUID, start int) (string, []any) {
	ps := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ps[i] = "?" + strconv.Itoa(start+i)
		args[i] = id.String()
	}
	return strings.Join(ps, ", "), args
}

// SegmentMembers implements segment.MembershipStore.
func (d *DB) SegmentMembers(ctx context.Context, name string, only []uuid.UUID) ([]segment.Member, error) {
	q := `SELECT client_id, since FROM segment_members WHERE segment = ?1`
	args := []any{name}
	if only != nil {
		if len(only) == 0 {
			return nil, nil
		}
		list, ids := idList(only, 2)
		q += ` AND client_id IN (` + list + `)`
		args = append(args, ids...)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []segment.Member
	for rows.Next() {
		var id string
		var since int64
		if err := rows.Scan(&id, &since); err != nil {
			return nil, mapErr(err)
		}
		m := segment.Member{Since: timeFromMicro(since)}
		if m.ClientID, err = uuid.Parse(id); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

// ChangeMembership implements segment.MembershipStore.
func (d *DB) ChangeMembership(ctx context.Context, name string, at time.Time, entered, left []uuid.UUID) ([]segment.Change, error) {
	at = at.UTC().Truncate(time.Microsecond)
	var out []segment.Change
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var n string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM segments WHERE name = ?`, name).Scan(&n); errors.Is(err, sql.ErrNoRows) {
			return store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
		} else if err != nil {
			return mapErr(err)
		}
		// The transaction holds SQLite's write lock: what it reads stays
		// true until it commits.
		record := func(id uuid.UUID, in bool) error {
			var seq int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO segment_changes (segment, client_id, entered, at) VALUES (?, ?, ?, ?) RETURNING seq`,
				name, id.String(), in, at.UnixMicro()).Scan(&seq); err != nil {
				return mapErr(err)
			}
			out = append(out, segment.Change{Seq: seq, Segment: name, ClientID: id, Entered: in, At: at})
			return nil
		}
		for _, id := range entered {
			res, err := tx.ExecContext(ctx, `INSERT INTO segment_members (segment, client_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, name, id.String(), at.UnixMicro())
			if err != nil {
				return mapErr(err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := record(id, true); err != nil {
					return err
				}
			}
		}
		for _, id := range left {
			res, err := tx.ExecContext(ctx, `DELETE FROM segment_members WHERE segment = ? AND client_id = ?`, name, id.String())
			if err != nil {
				return mapErr(err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := record(id, false); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanChanges(rows *sql.Rows) ([]segment.Change, error) {
	defer rows.Close()
	var out []segment.Change
	for rows.Next() {
		var c segment.Change
		var id string
		var at int64
		if err := rows.Scan(&c.Seq, &c.Segment, &id, &c.Entered, &at); err != nil {
			return nil, mapErr(err)
		}
		var err error
		if c.ClientID, err = uuid.Parse(id); err != nil {
			return nil, err
		}
		c.At = timeFromMicro(at)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// UnrecordedChanges implements segment.MembershipStore.
func (d *DB) UnrecordedChanges(ctx context.Context, limit int) ([]segment.Change, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT seq, segment, client_id, entered, at FROM segment_changes WHERE recorded = 0 ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanChanges(rows)
}

// MarkChangesRecorded implements segment.MembershipStore.
func (d *DB) MarkChangesRecorded(ctx context.Context, seqs ...int64) error {
	if len(seqs) == 0 {
		return nil
	}
	ps := make([]string, len(seqs))
	args := make([]any, len(seqs))
	for i, s := range seqs {
		ps[i], args[i] = "?", s
	}
	_, err := d.db.ExecContext(ctx, `UPDATE segment_changes SET recorded = 1 WHERE seq IN (`+strings.Join(ps, ", ")+`)`, args...)
	return mapErr(err)
}

// WatchSegment implements segment.MembershipStore.
func (d *DB) WatchSegment(ctx context.Context, w segment.Watch) error {
	res, err := d.db.ExecContext(ctx, `INSERT INTO segment_watches (segment, channel, watched_by, at, after_seq)
		SELECT name, ?2, ?3, ?4, (SELECT coalesce(max(seq), 0) FROM segment_changes) FROM segments WHERE name = ?1
		ON CONFLICT (segment) DO UPDATE SET channel = excluded.channel, watched_by = excluded.watched_by, at = excluded.at`,
		w.Segment, w.Channel, w.WatchedBy, w.At.UTC().UnixMicro())
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Errorf(store.ENOTFOUND, "no saved segment %q", w.Segment)
	}
	return nil
}

// UnwatchSegment implements segment.MembershipStore.
func (d *DB) UnwatchSegment(ctx context.Context, name string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM segment_watches WHERE segment = ?`, name)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Errorf(store.ENOTFOUND, "segment %q is not watched", name)
	}
	return nil
}

// Watches implements segment.MembershipStore.
func (d *DB) Watches(ctx context.Context) ([]segment.Watch, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT segment, channel, watched_by, at FROM segment_watches ORDER BY segment`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []segment.Watch
	for rows.Next() {
		var w segment.Watch
		var at int64
		if err := rows.Scan(&w.Segment, &w.Channel, &w.WatchedBy, &at); err != nil {
			return nil, mapErr(err)
		}
		w.At = timeFromMicro(at)
		out = append(out, w)
	}
	return out, mapErr(rows.Err())
}

// ClaimWatchPosts implements segment.MembershipStore.
func (d *DB) ClaimWatchPosts(ctx context.Context, at time.Time, interval, lease time.Duration, maxChanges int) ([]segment.WatchPost, error) {
	now := at.UTC().Truncate(time.Microsecond).UnixMicro()
	// Nothing watched and nothing to post: no need for the write lock.
	var busy bool
	if err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM segment_watches) OR EXISTS (SELECT 1 FROM segment_watch_posts WHERE message_ts = '')`).Scan(&busy); err != nil || !busy {
		return nil, mapErr(err)
	}
	var out []segment.WatchPost
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO segment_watch_posts (id, segment, channel, from_seq, to_seq, created_at, next_at)
			SELECT lower(hex(randomblob(16))), w.segment, w.channel, min(c.seq), max(c.seq), ?1, ?1
			FROM segment_watches w JOIN segment_changes c ON c.segment = w.segment AND c.seq > w.after_seq
			  AND (w.queued_at IS NULL OR w.queued_at <= ?3)
			  AND c.seq <= coalesce((SELECT seq FROM segment_changes c2 WHERE c2.segment = w.segment AND c2.seq > w.after_seq ORDER BY seq LIMIT 1 OFFSET ?2 - 1), 9223372036854775807)
			GROUP BY w.segment, w.channel`, now, maxChanges, now-interval.Microseconds()); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE segment_watches SET after_seq = (SELECT max(to_seq) FROM segment_watch_posts p WHERE p.segment = segment_watches.segment), queued_at = ?
			WHERE EXISTS (SELECT 1 FROM segment_watch_posts p WHERE p.segment = segment_watches.segment AND p.to_seq > segment_watches.after_seq)`, now); err != nil {
			return mapErr(err)
		}
		rows, err := tx.QueryContext(ctx, `UPDATE segment_watch_posts SET next_at = ?2, attempts = attempts + 1
			WHERE message_ts = '' AND next_at <= ?1
			RETURNING id, segment, channel, from_seq, to_seq, created_at, attempts`, now, now+lease.Microseconds())
		if err != nil {
			return mapErr(err)
		}
		type span struct{ from, to int64 }
		var spans []span
		for rows.Next() {
			var p segment.WatchPost
			var id string
			var s span
			var created int64
			if err := rows.Scan(&id, &p.Segment, &p.Channel, &s.from, &s.to, &created, &p.Attempts); err != nil {
				rows.Close()
				return mapErr(err)
			}
			if p.ID, err = uuid.Parse(id); err != nil {
				rows.Close()
				return err
			}
			p.CreatedAt = timeFromMicro(created)
			out = append(out, p)
			spans = append(spans, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		for i := range out {
			rows, err := tx.QueryContext(ctx, `SELECT seq, segment, client_id, entered, at FROM segment_changes
				WHERE segment = ? AND seq BETWEEN ? AND ? ORDER BY seq`, out[i].Segment, spans[i].from, spans[i].to)
			if err != nil {
				return mapErr(err)
			}
			if out[i].Changes, err = scanChanges(rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Oldest first, as RETURNING does not promise an order.
	sortPosts(out)
	return out, nil
}

func sortPosts(ps []segment.WatchPost) {
	slices.SortFunc(ps, func(a, b segment.WatchPost) int { return cmp.Compare(a.Changes[0].Seq, b.Changes[0].Seq) })
}

// postID is how segment_watch_posts keeps a post's id: the 32 hex digits
// SQLite's randomblob gives.
func postID(id uuid.UUID) string { return strings.ReplaceAll(id.String(), "-", "") }

// MarkWatchPosted implements segment.MembershipStore.
func (d *DB) MarkWatchPosted(ctx context.Context, id uuid.UUID, ts string, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE segment_watch_posts SET message_ts = ?, posted_at = ? WHERE id = ?`, ts, at.UTC().UnixMicro(), postID(id))
	return mapErr(err)
}

// RetryWatchPost implements segment.MembershipStore.
func (d *DB) RetryWatchPost(ctx context.Context, id uuid.UUID, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE segment_watch_posts SET next_at = ? WHERE id = ? AND message_ts = ''`, at.UTC().UnixMicro(), postID(id))
	return mapErr(err)
}
