package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.DigestStore = (*DB)(nil)

const digestSubColumns = `id, owner, desk, channel, frequency, at_minute, time_zone, created_at, updated_at`

func scanDigestSub(row pgx.Row) (*store.DigestSubscription, error) {
	s := &store.DigestSubscription{}
	var freq string
	if err := row.Scan(&s.ID, &s.Owner, &s.Desk, &s.Channel, &freq, &s.At, &s.TimeZone, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, err
	}
	s.Frequency = store.DigestFrequency(freq)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

// SaveDigestSubscription implements store.DigestStore.
func (db *DB) SaveDigestSubscription(ctx context.Context, s *store.DigestSubscription) (bool, error) {
	if err := s.Validate(); err != nil {
		return false, err
	}
	now := pgTime(db.now())
	id := uuid.New()
	var created bool
	err := db.pool.QueryRow(ctx, `
INSERT INTO digest_subscriptions (id, owner, desk, channel, frequency, at_minute, time_zone, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (owner, desk, channel) DO UPDATE
SET frequency = EXCLUDED.frequency, at_minute = EXCLUDED.at_minute, time_zone = EXCLUDED.time_zone, updated_at = EXCLUDED.updated_at
RETURNING id, created_at, (xmax = 0)`,
		id, s.Owner, s.Desk, s.Channel, string(s.Frequency), s.At, s.TimeZone, now).Scan(&s.ID, &s.CreatedAt, &created)
	if err != nil {
		return false, mapError("save digest subscription", err)
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), now
	return created, nil
}

// DeleteDigestSubscriptions implements store.DigestStore.
func (db *DB) DeleteDigestSubscriptions(ctx context.Context, owner, desk, channel string) ([]*store.DigestSubscription, error) {
	rows, err := db.pool.Query(ctx, `
DELETE FROM digest_subscriptions
WHERE owner = $1 AND ($2 = '' OR desk = $2) AND ($3 = '' OR channel = $3)
RETURNING `+digestSubColumns, owner, desk, channel)
	if err != nil {
		return nil, mapError("delete digest subscriptions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.DigestSubscription, error) { return scanDigestSub(r) })
	if err != nil {
		return nil, mapError("delete digest subscriptions", err)
	}
	store.SortDigestSubscriptions(out)
	return out, nil
}

// DigestSubscriptions implements store.DigestStore.
func (db *DB) DigestSubscriptions(ctx context.Context, f store.DigestFilter) ([]*store.DigestSubscription, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Owner != "" {
		where = append(where, "owner = "+arg(f.Owner))
	}
	if len(f.Desks) > 0 {
		where = append(where, "desk = ANY("+arg(f.Desks)+")")
	}
	q := `SELECT ` + digestSubColumns + ` FROM digest_subscriptions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY desk, owner, channel`, args...)
	if err != nil {
		return nil, mapError("list digest subscriptions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.DigestSubscription, error) { return scanDigestSub(r) })
	return out, mapError("list digest subscriptions", err)
}

const digestRunColumns = `subscription_id, period, due_at, state, lease_owner, lease_until, attempts, channel, message_ts, posted_at`

func scanDigestRun(row pgx.Row) (*store.DigestRun, error) {
	r := &store.DigestRun{}
	var state string
	var posted *time.Time
	if err := row.Scan(&r.Subscription, &r.Period, &r.Due, &state, &r.LeaseOwner, &r.LeaseUntil, &r.Attempts, &r.Channel, &r.MessageTS, &posted); err != nil {
		return nil, err
	}
	r.State = store.DigestRunState(state)
	r.Due, r.LeaseUntil = r.Due.UTC(), r.LeaseUntil.UTC()
	if posted != nil {
		r.PostedAt = posted.UTC()
	}
	return r, nil
}

// ClaimDigestRun implements store.DigestStore: one statement, so that of
// two replicas claiming at once the primary key lets one in.
func (db *DB) ClaimDigestRun(ctx context.Context, sub uuid.UUID, period string, due time.Time, owner string, now time.Time, lease time.Duration) (*store.DigestRun, bool, error) {
	if owner == "" || period == "" || lease <= 0 {
		return nil, false, store.Errorf(store.EINVALID, "a claim needs an owner, a period and a lease")
	}
	r, err := scanDigestRun(db.pool.QueryRow(ctx, `
INSERT INTO digest_runs (subscription_id, period, due_at, state, lease_owner, lease_until, attempts)
VALUES ($1, $2, $3, 'claimed', $4, $5, 1)
ON CONFLICT (subscription_id, period) DO UPDATE
SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until, attempts = digest_runs.attempts + 1
WHERE digest_runs.state = 'claimed' AND digest_runs.lease_until <= $6
RETURNING `+digestRunColumns, sub, period, pgTime(due), owner, pgTime(now.Add(lease)), pgTime(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		r, err := scanDigestRun(db.pool.QueryRow(ctx, `SELECT `+digestRunColumns+` FROM digest_runs WHERE subscription_id = $1 AND period = $2`, sub, period))
		return r, false, mapError("read digest run", err)
	}
	if isForeignKeyViolation(err) {
		return nil, false, store.Errorf(store.ENOTFOUND, "no digest subscription %s", sub)
	}
	if err != nil {
		return nil, false, mapError("claim digest run", err)
	}
	return r, true, nil
}

// MarkDigestPosted implements store.DigestStore.
func (db *DB) MarkDigestPosted(ctx context.Context, sub uuid.UUID, period, owner, channel, ts string, at time.Time) error {
	return db.updateDigestClaim(ctx, "record digest message", sub, period, owner,
		`state = 'posted', channel = $4, message_ts = $5, posted_at = $6, lease_owner = ''`, channel, ts, pgTime(at))
}

// RetryDigestRun implements store.DigestStore.
func (db *DB) RetryDigestRun(ctx context.Context, sub uuid.UUID, period, owner string, retryAt time.Time) error {
	return db.updateDigestClaim(ctx, "give back digest claim", sub, period, owner, `lease_until = $4`, pgTime(retryAt))
}

func (db *DB) updateDigestClaim(ctx context.Context, what string, sub uuid.UUID, period, owner, set string, args ...any) error {
	tag, err := db.pool.Exec(ctx, `UPDATE digest_runs SET `+set+`
WHERE subscription_id = $1 AND period = $2 AND lease_owner = $3 AND state = 'claimed'`,
		append([]any{sub, period, owner}, args...)...)
	if err != nil {
		return mapError(what, err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ECONFLICT, "the %s digest of subscription %s is not claimed by %s", period, sub, owner)
	}
	return nil
}

// DigestRuns implements store.DigestStore.
func (db *DB) DigestRuns(ctx context.Context, sub uuid.UUID, limit int) ([]*store.DigestRun, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+digestRunColumns+` FROM digest_runs WHERE subscription_id = $1 ORDER BY due_at DESC, period DESC LIMIT $2`, sub, limit)
	if err != nil {
		return nil, mapError("list digest runs", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.DigestRun, error) { return scanDigestRun(r) })
	return out, mapError("list digest runs", err)
}

var _ store.DigestEventIndex = (*DB)(nil)

// IndexDigestEvents implements store.DigestEventIndex.
func (db *DB) IndexDigestEvents(ctx context.Context, events []*store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := store.CheckIndexable(events); err != nil {
		return err
	}
	ids, clients, ats, data := make([]uuid.UUID, len(events)), make([]uuid.UUID, len(events)), make([]int64, len(events)), make([]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return store.Invalid("event", "cannot be encoded: %v", err)
		}
		ids[i], clients[i], ats[i], data[i] = e.ID, e.ClientID, e.Time.UTC().UnixMicro(), string(b)
	}
	_, err := db.pool.Exec(ctx, `
INSERT INTO digest_events (event_id, client_id, at, data)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[])
ON CONFLICT (event_id) DO NOTHING`, ids, clients, ats, data)
	return mapError("index digest events", err)
}

// DigestEvents implements store.DigestEventIndex.
func (db *DB) DigestEvents(ctx context.Context, desk string, from, to time.Time) ([]*store.Event, error) {
	rows, err := db.pool.Query(ctx, `
SELECT e.data FROM digest_events e JOIN clients c ON c.id = e.client_id
WHERE c.team = $1 AND e.at >= $2 AND e.at < $3
ORDER BY e.at, e.event_id`, desk, from.UTC().UnixMicro(), to.UTC().UnixMicro())
	if err != nil {
		return nil, mapError("read digest events", err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, mapError("read digest events", err)
		}
		e := &store.Event{}
		if err := json.Unmarshal([]byte(data), e); err != nil {
			return nil, store.Internal("decode a digest event", err)
		}
		out = append(out, e)
	}
	return out, mapError("read digest events", rows.Err())
}
