package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.DigestStore = (*DB)(nil)

const digestSubColumns = `id, owner, desk, channel, frequency, at_minute, time_zone, created_at, updated_at`

func scanDigestSub(row scanner) (*store.DigestSubscription, error) {
	s := &store.DigestSubscription{}
	var id, freq string
	var created, updated int64
	if err := row.Scan(&id, &s.Owner, &s.Desk, &s.Channel, &freq, &s.At, &s.TimeZone, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if s.ID, err = uuid.Parse(id); err != nil {
		return nil, store.Internal("read digest subscription id", err)
	}
	s.Frequency = store.DigestFrequency(freq)
	s.CreatedAt, s.UpdatedAt = timeFromMicro(created), timeFromMicro(updated)
	return s, nil
}

// SaveDigestSubscription implements store.DigestStore.
func (d *DB) SaveDigestSubscription(ctx context.Context, s *store.DigestSubscription) (bool, error) {
	if err := s.Validate(); err != nil {
		return false, err
	}
	now := d.now().UTC().Truncate(time.Microsecond)
	var created bool
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var id string
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT id, created_at FROM digest_subscriptions WHERE owner = ? AND desk = ? AND channel = ?`,
			s.Owner, s.Desk, s.Channel).Scan(&id, &at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			s.ID, s.CreatedAt = uuid.New(), now
			_, err = tx.ExecContext(ctx, `
INSERT INTO digest_subscriptions (id, owner, desk, channel, frequency, at_minute, time_zone, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID.String(), s.Owner, s.Desk, s.Channel, string(s.Frequency), s.At, s.TimeZone, micro(now), micro(now))
			return err
		case err != nil:
			return err
		}
		if s.ID, err = uuid.Parse(id); err != nil {
			return store.Internal("read digest subscription id", err)
		}
		s.CreatedAt = timeFromMicro(at)
		_, err = tx.ExecContext(ctx, `UPDATE digest_subscriptions SET frequency = ?, at_minute = ?, time_zone = ?, updated_at = ? WHERE id = ?`,
			string(s.Frequency), s.At, s.TimeZone, micro(now), id)
		return err
	})
	if err != nil {
		return false, mapErr(err)
	}
	s.UpdatedAt = now
	return created, nil
}

// DeleteDigestSubscriptions implements store.DigestStore.
func (d *DB) DeleteDigestSubscriptions(ctx context.Context, owner, desk, channel string) ([]*store.DigestSubscription, error) {
	rows, err := d.db.QueryContext(ctx, `
DELETE FROM digest_subscriptions
WHERE owner = ? AND (? = '' OR desk = ?) AND (? = '' OR channel = ?)
RETURNING `+digestSubColumns, owner, desk, desk, channel, channel)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := collectDigestSubs(rows)
	store.SortDigestSubscriptions(out)
	return out, err
}

func collectDigestSubs(rows *sql.Rows) ([]*store.DigestSubscription, error) {
	defer rows.Close()
	var out []*store.DigestSubscription
	for rows.Next() {
		s, err := scanDigestSub(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

// DigestSubscriptions implements store.DigestStore.
func (d *DB) DigestSubscriptions(ctx context.Context, f store.DigestFilter) ([]*store.DigestSubscription, error) {
	var where []string
	var args []any
	if f.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, f.Owner)
	}
	if len(f.Desks) > 0 {
		where = append(where, "desk IN (?"+strings.Repeat(", ?", len(f.Desks)-1)+")")
		for _, desk := range f.Desks {
			args = append(args, desk)
		}
	}
	q := `SELECT ` + digestSubColumns + ` FROM digest_subscriptions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY desk, owner, channel`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return collectDigestSubs(rows)
}

const digestRunColumns = `subscription_id, period, due_at, state, lease_owner, lease_until, attempts, channel, message_ts, posted_at`

func scanDigestRun(row scanner) (*store.DigestRun, error) {
	r := &store.DigestRun{}
	var sub, state string
	var due, until, posted int64
	if err := row.Scan(&sub, &r.Period, &due, &state, &r.LeaseOwner, &until, &r.Attempts, &r.Channel, &r.MessageTS, &posted); err != nil {
		return nil, err
	}
	var err error
	if r.Subscription, err = uuid.Parse(sub); err != nil {
		return nil, store.Internal("read digest run", err)
	}
	r.State = store.DigestRunState(state)
	r.Due, r.LeaseUntil = timeFromMicro(due), timeFromMicro(until)
	if posted != 0 {
		r.PostedAt = timeFromMicro(posted)
	}
	return r, nil
}

// ClaimDigestRun implements store.DigestStore: one statement under
// SQLite's write lock.
func (d *DB) ClaimDigestRun(ctx context.Context, sub uuid.UUID, period string, due time.Time, owner string, now time.Time, lease time.Duration) (*store.DigestRun, bool, error) {
	if owner == "" || period == "" || lease <= 0 {
		return nil, false, store.Errorf(store.EINVALID, "a claim needs an owner, a period and a lease")
	}
	r, err := scanDigestRun(d.db.QueryRowContext(ctx, `
INSERT INTO digest_runs (subscription_id, period, due_at, state, lease_owner, lease_until, attempts)
VALUES (?, ?, ?, 'claimed', ?, ?, 1)
ON CONFLICT (subscription_id, period) DO UPDATE
SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, attempts = digest_runs.attempts + 1
WHERE digest_runs.state = 'claimed' AND digest_runs.lease_until <= ?
RETURNING `+digestRunColumns, sub.String(), period, micro(due), owner, micro(now.Add(lease)), micro(now)))
	if errors.Is(err, sql.ErrNoRows) {
		r, err := scanDigestRun(d.db.QueryRowContext(ctx, `SELECT `+digestRunColumns+` FROM digest_runs WHERE subscription_id = ? AND period = ?`, sub.String(), period))
		return r, false, mapErr(err)
	}
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY") {
		return nil, false, store.Errorf(store.ENOTFOUND, "no digest subscription %s", sub)
	}
	if err != nil {
		return nil, false, mapErr(err)
	}
	return r, true, nil
}

// MarkDigestPosted implements store.DigestStore.
func (d *DB) MarkDigestPosted(ctx context.Context, sub uuid.UUID, period, owner, channel, ts string, at time.Time) error {
	return d.updateDigestClaim(ctx, sub, period, owner, `state = 'posted', channel = ?, message_ts = ?, posted_at = ?, lease_owner = ''`, channel, ts, micro(at))
}

// RetryDigestRun implements store.DigestStore.
func (d *DB) RetryDigestRun(ctx context.Context, sub uuid.UUID, period, owner string, retryAt time.Time) error {
	return d.updateDigestClaim(ctx, sub, period, owner, `lease_until = ?`, micro(retryAt))
}

func (d *DB) updateDigestClaim(ctx context.Context, sub uuid.UUID, period, owner, set string, args ...any) error {
	res, err := d.db.ExecContext(ctx, `UPDATE digest_runs SET `+set+`
WHERE subscription_id = ? AND period = ? AND lease_owner = ? AND state = 'claimed'`,
		append(args, sub.String(), period, owner)...)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err)
	} else if n == 0 {
		return store.Errorf(store.ECONFLICT, "the %s digest of subscription %s is not claimed by %s", period, sub, owner)
	}
	return nil
}

// DigestRuns implements store.DigestStore.
func (d *DB) DigestRuns(ctx context.Context, sub uuid.UUID, limit int) ([]*store.DigestRun, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+digestRunColumns+` FROM digest_runs WHERE subscription_id = ? ORDER BY due_at DESC, period DESC LIMIT ?`, sub.String(), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.DigestRun
	for rows.Next() {
		r, err := scanDigestRun(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

var _ store.DigestEventIndex = (*DB)(nil)

// IndexDigestEvents implements store.DigestEventIndex.
func (d *DB) IndexDigestEvents(ctx context.Context, events []*store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := store.CheckIndexable(events); err != nil {
		return err
	}
	return mapErr(d.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			b, err := json.Marshal(e)
			if err != nil {
				return store.Invalid("event", "cannot be encoded: %v", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO digest_events (event_id, client_id, at, data) VALUES (?, ?, ?, ?)
ON CONFLICT (event_id) DO NOTHING`, e.ID.String(), e.ClientID.String(), micro(e.Time), string(b)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// DigestEvents implements store.DigestEventIndex.
func (d *DB) DigestEvents(ctx context.Context, desk string, from, to time.Time) ([]*store.Event, error) {
	rows, err := d.db.QueryContext(ctx, `
SELECT e.data FROM digest_events e JOIN clients c ON c.id = e.client_id
WHERE c.team = ? AND e.at >= ? AND e.at < ?
ORDER BY e.at, e.event_id`, desk, micro(from), micro(to))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, mapErr(err)
		}
		e := &store.Event{}
		if err := json.Unmarshal([]byte(data), e); err != nil {
			return nil, store.Internal("decode a digest event", err)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}
