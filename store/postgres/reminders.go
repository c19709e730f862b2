package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.ReminderStore = (*DB)(nil)

const reminderColumns = `id, client_id, broker, due_at, text, source, created_by, state, channel,
    message_ts, posted_at, attempts, next_at, lease_owner, created_at, updated_at, reason_key`

func scanReminder(row pgx.Row) (*store.Reminder, error) {
	r := &store.Reminder{}
	var state string
	var posted *time.Time
	err := row.Scan(&r.ID, &r.ClientID, &r.Broker, &r.Due, &r.Text, &r.Source, &r.CreatedBy, &state, &r.Channel,
		&r.MessageTS, &posted, &r.Attempts, &r.NextAt, &r.LeaseOwner, &r.CreatedAt, &r.UpdatedAt, &r.Key)
	if err != nil {
		return nil, err
	}
	r.State = store.ReminderState(state)
	if posted != nil {
		r.PostedAt = posted.UTC()
	}
	r.Due, r.NextAt, r.CreatedAt, r.UpdatedAt = r.Due.UTC(), r.NextAt.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

func pgTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateReminder implements store.ReminderStore.
func (db *DB) CreateReminder(ctx context.Context, r *store.Reminder) error {
	if err := r.Begin(db.now()); err != nil {
		return err
	}
	now := r.CreatedAt
	_, err := db.pool.Exec(ctx, `
INSERT INTO reminders (id, client_id, broker, due_at, text, source, created_by, state, channel, next_at, created_at, updated_at, reason_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)`,
		r.ID, r.ClientID, r.Broker, r.Due, r.Text, r.Source, r.CreatedBy, string(r.State), r.Channel, r.NextAt, now, r.Key)
	if isUniqueViolation(err) {
		return store.Errorf(store.ECONFLICT, "a reminder with id %s exists", r.ID)
	}
	if isForeignKeyViolation(err) {
		return store.Errorf(store.ENOTFOUND, "no client with id %s", r.ClientID)
	}
	return mapError("create reminder", err)
}

// Reminder implements store.ReminderStore.
func (db *DB) Reminder(ctx context.Context, id uuid.UUID) (*store.Reminder, error) {
	r, err := scanReminder(db.pool.QueryRow(ctx, `SELECT `+reminderColumns+` FROM reminders WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.Errorf(store.ENOTFOUND, "no reminder %s", id)
	}
	return r, mapError("read reminder", err)
}

// ListReminders implements store.ReminderStore.
func (db *DB) ListReminders(ctx context.Context, f store.ReminderFilter) ([]*store.Reminder, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Broker != "" {
		where = append(where, "broker = "+arg(f.Broker))
	}
	if f.ClientID != uuid.Nil {
		where = append(where, "client_id = "+arg(f.ClientID))
	}
	if len(f.Teams) > 0 {
		where = append(where, "client_id IN (SELECT id FROM clients WHERE team = ANY("+arg(f.Teams)+"))")
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		where = append(where, "state = ANY("+arg(states)+")")
	}
	if !f.DueBefore.IsZero() {
		where = append(where, "due_at < "+arg(pgTime(f.DueBefore)))
	}
	q := `SELECT ` + reminderColumns + ` FROM reminders`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY due_at, id LIMIT " + arg(limit)
	return db.queryReminders(ctx, "list reminders", q, args...)
}

func (db *DB) queryReminders(ctx context.Context, what, q string, args ...any) ([]*store.Reminder, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError(what, err)
	}
	defer rows.Close()
	var out []*store.Reminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, mapError(what, err)
		}
		out = append(out, r)
	}
	return out, mapError(what, rows.Err())
}

// ClaimDueReminders implements store.ReminderStore. SKIP LOCKED lets
// replicas claim side by side: a row another replica is claiming is passed
// over, not waited for, and the claim is one statement. Each broker's
// earliest come first (turn), so a burst is claimed across every broker's
// channel evenly; the turns are counted among the earliest ten claims'
// worth only, so that a claim from a large burst stays cheap.
func (db *DB) ClaimDueReminders(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*store.Reminder, error) {
	if owner == "" || lease <= 0 || limit <= 0 {
		return nil, store.Errorf(store.EINVALID, "a claim needs an owner, a lease and a limit")
	}
	now = pgTime(now)
	out, err := db.queryReminders(ctx, "claim reminders", `
WITH due AS (
    SELECT r.id FROM reminders r
    JOIN (
        SELECT id, row_number() OVER (PARTITION BY broker ORDER BY next_at, id) AS turn
        FROM (
            SELECT id, broker, next_at FROM reminders
            WHERE state IN ('pending', 'claimed', 'snoozed') AND next_at <= $1
            ORDER BY next_at
            LIMIT $4 * 10
        ) earliest
    ) d ON d.id = r.id
    -- Checked again on the row as it is once locked: another replica may
    -- have claimed it since the turns were counted.
    WHERE r.state IN ('pending', 'claimed', 'snoozed') AND r.next_at <= $1
    ORDER BY d.turn, r.next_at
    LIMIT $4
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE reminders r SET state = 'claimed', lease_owner = $2, next_at = $3, attempts = r.attempts + 1, updated_at = $1
FROM due WHERE r.id = due.id
RETURNING `+prefixed("r.", reminderColumns), now, owner, now.Add(lease), limit)
	store.SortReminders(out)
	return out, err
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// ExtendReminderLease implements store.ReminderStore.
func (db *DB) ExtendReminderLease(ctx context.Context, id uuid.UUID, owner string, until time.Time) error {
	return db.updateClaimed(ctx, "extend reminder lease", id, owner,
		`next_at = $3, updated_at = $4`, pgTime(until), pgTime(db.now()))
}

// MarkReminderPosted implements store.ReminderStore.
func (db *DB) MarkReminderPosted(ctx context.Context, id uuid.UUID, owner, channel, ts string, at time.Time) error {
	return db.updateClaimed(ctx, "record reminder message", id, owner,
		`state = 'posted', channel = $3, message_ts = $4, posted_at = $5, lease_owner = '', updated_at = $5`,
		channel, ts, pgTime(at))
}

// MarkRemindersPosted implements store.ReminderStore: one statement, one
// commit, for a whole batch.
func (db *DB) MarkRemindersPosted(ctx context.Context, owner string, posts []store.ReminderPost) ([]uuid.UUID, error) {
	if len(posts) == 0 {
		return nil, nil
	}
	ids, channels, tss, ats := make([]uuid.UUID, len(posts)), make([]string, len(posts)), make([]string, len(posts)), make([]time.Time, len(posts))
	for i, p := range posts {
		ids[i], channels[i], tss[i], ats[i] = p.ID, p.Channel, p.TS, pgTime(p.At)
	}
	rows, err := db.pool.Query(ctx, `
UPDATE reminders r SET state = 'posted', channel = p.channel, message_ts = p.ts, posted_at = p.at, lease_owner = '', updated_at = p.at
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) AS p(id, channel, ts, at)
WHERE r.id = p.id AND r.lease_owner = $1 AND r.state = 'claimed'
RETURNING r.id`, owner, ids, channels, tss, ats)
	if err != nil {
		return nil, mapError("record reminder messages", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return done, mapError("record reminder messages", err)
}

// CancelReminder implements store.ReminderStore.
func (db *DB) CancelReminder(ctx context.Context, id uuid.UUID, at time.Time) (*store.Reminder, error) {
	r, err := scanReminder(db.pool.QueryRow(ctx, `
UPDATE reminders SET state = 'cancelled', lease_owner = '', updated_at = $2
WHERE id = $1 AND state IN ('pending', 'claimed', 'snoozed')
RETURNING `+reminderColumns, id, pgTime(at)))
	if errors.Is(err, pgx.ErrNoRows) {
		cur, err := db.Reminder(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, store.Errorf(store.ECONFLICT, "the reminder is %s already", cur.State)
	}
	return r, mapError("cancel reminder", err)
}

// CloseReminder implements store.ReminderStore.
func (db *DB) CloseReminder(ctx context.Context, id uuid.UUID, at time.Time) (*store.Reminder, error) {
	return db.changeReminder(ctx, id, `state = 'done', lease_owner = '', updated_at = $2`,
		`('pending', 'claimed', 'snoozed', 'posted')`, pgTime(at))
}

// SnoozeReminder implements store.ReminderStore.
func (db *DB) SnoozeReminder(ctx context.Context, id uuid.UUID, until, at time.Time) (*store.Reminder, error) {
	return db.changeReminder(ctx, id, `state = 'snoozed', due_at = $3, next_at = $3, attempts = 0, channel = '', message_ts = '',
    posted_at = NULL, lease_owner = '', updated_at = $2`, `('pending', 'snoozed', 'posted')`, pgTime(at), pgTime(until))
}

// ReassignReminder implements store.ReminderStore.
func (db *DB) ReassignReminder(ctx context.Context, id uuid.UUID, broker string, at time.Time) (*store.Reminder, error) {
	if strings.TrimSpace(broker) == "" {
		return nil, store.Invalid("broker", "a reminder needs a broker to remind")
	}
	return db.changeReminder(ctx, id, `broker = $3,
    next_at = CASE WHEN state = 'posted' THEN $2 ELSE next_at END,
    state = CASE WHEN state = 'posted' THEN 'pending' ELSE state END,
    attempts = 0, channel = '', message_ts = '', posted_at = NULL, lease_owner = '', updated_at = $2`,
		`('pending', 'snoozed', 'posted')`, pgTime(at), broker)
}

// changeReminder applies set ($1 is the id, its arguments follow) to a
// reminder in one of the states from and returns it; ECONFLICT naming the
// state it is in otherwise.
func (db *DB) changeReminder(ctx context.Context, id uuid.UUID, set, from string, args ...any) (*store.Reminder, error) {
	r, err := scanReminder(db.pool.QueryRow(ctx, `UPDATE reminders SET `+set+` WHERE id = $1 AND state IN `+from+`
RETURNING `+reminderColumns, append([]any{id}, args...)...))
	if errors.Is(err, pgx.ErrNoRows) {
		cur, err := db.Reminder(ctx, id)
		if err != nil {
			return nil, err
		}
		if cur.State == store.ReminderClaimed {
			return nil, store.Errorf(store.ECONFLICT, "the reminder is being posted right now; try again in a moment")
		}
		return nil, store.Errorf(store.ECONFLICT, "the reminder is %s already", cur.State)
	}
	return r, mapError("change reminder", err)
}

// RetryReminder implements store.ReminderStore.
func (db *DB) RetryReminder(ctx context.Context, id uuid.UUID, owner string, retryAt time.Time) error {
	return db.updateClaimed(ctx, "retry reminder", id, owner,
		`state = 'pending', next_at = $3, lease_owner = '', updated_at = $4`, pgTime(retryAt), pgTime(db.now()))
}

// updateClaimed changes a reminder owner holds a claim on; $1 and $2 are
// the id and owner, set's own arguments follow.
func (db *DB) updateClaimed(ctx context.Context, what string, id uuid.UUID, owner, set string, args ...any) error {
	tag, err := db.pool.Exec(ctx, `UPDATE reminders SET `+set+` WHERE id = $1 AND lease_owner = $2 AND state = 'claimed'`,
		append([]any{id, owner}, args...)...)
	if err != nil {
		return mapError(what, err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ECONFLICT, "reminder %s is not claimed by %s", id, owner)
	}
	return nil
}

// FollowupSettings implements store.ReminderStore.
func (db *DB) FollowupSettings(ctx context.Context, broker string) (*store.FollowupSettings, error) {
	s := &store.FollowupSettings{Broker: broker}
	err := db.pool.QueryRow(ctx, `SELECT channel, day_start, day_end, updated_at FROM followup_settings WHERE broker = $1`, broker).
		Scan(&s.Channel, &s.DayStart, &s.DayEnd, &s.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DefaultFollowupSettings(broker), nil
	}
	if err != nil {
		return nil, mapError("read follow-up settings", err)
	}
	return s, nil
}

// SetFollowupSettings implements store.ReminderStore.
func (db *DB) SetFollowupSettings(ctx context.Context, s *store.FollowupSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.UpdatedAt = db.now()
	_, err := db.pool.Exec(ctx, `INSERT INTO followup_settings (broker, channel, day_start, day_end, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (broker) DO UPDATE SET channel = EXCLUDED.channel, day_start = EXCLUDED.day_start,
    day_end = EXCLUDED.day_end, updated_at = EXCLUDED.updated_at`,
		s.Broker, s.Channel, s.DayStart, s.DayEnd, pgTime(s.UpdatedAt))
	return mapError("store follow-up settings", err)
}

// UpsertFollowup implements store.ReminderStore.
func (db *DB) UpsertFollowup(ctx context.Context, r *store.Reminder) (*store.Reminder, bool, error) {
	if r.Key == "" {
		return nil, false, store.Invalid("key", "a triggered follow-up needs a key")
	}
	for range 3 {
		err := db.CreateReminder(ctx, r)
		if err == nil {
			return r, true, nil
		}
		if store.ErrorCode(err) != store.ECONFLICT {
			return nil, false, err
		}
		r.ID = uuid.Nil
		got, err := scanReminder(db.pool.QueryRow(ctx, `UPDATE reminders SET text = $3, due_at = $4, next_at = $4, updated_at = $5
WHERE client_id = $1 AND reason_key = $2 AND state IN ('pending', 'snoozed')
RETURNING `+reminderColumns, r.ClientID, r.Key, r.Text, pgTime(r.Due), pgTime(db.now())))
		if err == nil {
			return got, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, false, mapError("update follow-up", err)
		}
		got, err = scanReminder(db.pool.QueryRow(ctx, `SELECT `+reminderColumns+` FROM reminders
WHERE client_id = $1 AND reason_key = $2 AND state IN ('claimed', 'posted')`, r.ClientID, r.Key))
		if err == nil {
			return got, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, false, mapError("read follow-up", err)
		}
		// Closed in between: try again.
	}
	return nil, false, store.Errorf(store.EUNAVAILABLE, "the follow-up kept changing; try again")
}

// ResolveFollowups implements store.ReminderStore.
func (db *DB) ResolveFollowups(ctx context.Context, clientID uuid.UUID, before, at time.Time) ([]*store.Reminder, error) {
	rs, err := db.queryReminders(ctx, "resolve follow-ups", `UPDATE reminders SET state = 'done', lease_owner = '', updated_at = $3
WHERE client_id = $1 AND reason_key <> '' AND reason_key NOT LIKE 'milestone:%' AND created_at < $2 AND state IN ('pending', 'claimed', 'snoozed', 'posted')
RETURNING `+reminderColumns, clientID, pgTime(before), pgTime(at))
	store.SortReminders(rs)
	return rs, err
}

// DeskFollowups implements store.ReminderStore.
func (db *DB) DeskFollowups(ctx context.Context, desk string) (*store.DeskFollowups, error) {
	d := &store.DeskFollowups{Desk: desk}
	var mins int
	err := db.pool.QueryRow(ctx, `SELECT after_fill_min, market_moves, sentiment, cadence, updated_by, updated_at
FROM desk_followups WHERE desk = $1`, desk).Scan(&mins, &d.MarketMoves, &d.Sentiment, &d.Cadence, &d.UpdatedBy, &d.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DefaultDeskFollowups(desk), nil
	}
	if err != nil {
		return nil, mapError("read desk follow-ups", err)
	}
	d.AfterFill = time.Duration(mins) * time.Minute
	return d, nil
}

// SetDeskFollowups implements store.ReminderStore.
func (db *DB) SetDeskFollowups(ctx context.Context, d *store.DeskFollowups) error {
	if err := d.Validate(); err != nil {
		return err
	}
	d.UpdatedAt = db.now()
	_, err := db.pool.Exec(ctx, `INSERT INTO desk_followups (desk, after_fill_min, market_moves, sentiment, cadence, updated_by, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (desk) DO UPDATE SET after_fill_min = EXCLUDED.after_fill_min, market_moves = EXCLUDED.market_moves,
    sentiment = EXCLUDED.sentiment, cadence = EXCLUDED.cadence, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
		d.Desk, int(d.AfterFill/time.Minute), d.MarketMoves, d.Sentiment, d.Cadence, d.UpdatedBy, pgTime(d.UpdatedAt))
	return mapError("store desk follow-ups", err)
}
