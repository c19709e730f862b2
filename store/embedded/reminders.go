package embedded

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.ReminderStore = (*DB)(nil)

const reminderColumns = `id, client_id, broker, due_at, text, source, created_by, state, channel,
    message_ts, posted_at, attempts, next_at, lease_owner, created_at, updated_at, reason_key`

type scanner interface{ Scan(dest ...any) error }

func scanReminder(row scanner) (*store.Reminder, error) {
	r := &store.Reminder{}
	var id, client, state string
	var due, posted, next, created, updated int64
	err := row.Scan(&id, &client, &r.Broker, &due, &r.Text, &r.Source, &r.CreatedBy, &state, &r.Channel,
		&r.MessageTS, &posted, &r.Attempts, &next, &r.LeaseOwner, &created, &updated, &r.Key)
	if err != nil {
		return nil, err
	}
	if r.ID, err = uuid.Parse(id); err != nil {
		return nil, store.Internal("read reminder id", err)
	}
	if r.ClientID, err = uuid.Parse(client); err != nil {
		return nil, store.Internal("read reminder client id", err)
	}
	r.State = store.ReminderState(state)
	r.Due, r.NextAt, r.CreatedAt, r.UpdatedAt = timeFromMicro(due), timeFromMicro(next), timeFromMicro(created), timeFromMicro(updated)
	if posted != 0 {
		r.PostedAt = timeFromMicro(posted)
	}
	return r, nil
}

func micro(t time.Time) int64 { return t.UTC().UnixMicro() }

// CreateReminder implements store.ReminderStore.
func (d *DB) CreateReminder(ctx context.Context, r *store.Reminder) error {
	if err := r.Begin(d.now()); err != nil {
		return err
	}
	now := r.CreatedAt
	_, err := d.db.ExecContext(ctx, `
INSERT INTO reminders (id, client_id, broker, due_at, text, source, created_by, state, channel, next_at, created_at, updated_at, reason_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID.String(), r.ClientID.String(), r.Broker, micro(r.Due), r.Text, r.Source, r.CreatedBy, string(r.State),
		r.Channel, micro(r.NextAt), micro(now), micro(now), r.Key)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "FOREIGN KEY") {
			return store.Errorf(store.ENOTFOUND, "no client with id %s", r.ClientID)
		} else if strings.Contains(msg, "UNIQUE") {
			return store.Errorf(store.ECONFLICT, "a reminder with id %s exists", r.ID)
		}
	}
	return mapErr(err)
}

// Reminder implements store.ReminderStore.
func (d *DB) Reminder(ctx context.Context, id uuid.UUID) (*store.Reminder, error) {
	r, err := scanReminder(d.db.QueryRowContext(ctx, `SELECT `+reminderColumns+` FROM reminders WHERE id = ?`, id.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.Errorf(store.ENOTFOUND, "no reminder %s", id)
	}
	return r, mapErr(err)
}

// ListReminders implements store.ReminderStore.
func (d *DB) ListReminders(ctx context.Context, f store.ReminderFilter) ([]*store.Reminder, error) {
	var where []string
	var args []any
	if f.Broker != "" {
		where, args = append(where, "broker = ?"), append(args, f.Broker)
	}
	if f.ClientID != uuid.Nil {
		where, args = append(where, "client_id = ?"), append(args, f.ClientID.String())
	}
	if len(f.Teams) > 0 {
		marks := make([]string, len(f.Teams))
		for i, t := range f.Teams {
			marks[i] = "?"
			args = append(args, t)
		}
		where = append(where, "client_id IN (SELECT id FROM clients WHERE team IN ("+strings.Join(marks, ", ")+"))")
	}
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, s := range f.States {
			marks[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	if !f.DueBefore.IsZero() {
		where, args = append(where, "due_at < ?"), append(args, micro(f.DueBefore))
	}
	q := `SELECT ` + reminderColumns + ` FROM reminders`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY due_at, id LIMIT ?"
	return d.queryReminders(ctx, q, append(args, limit)...)
}

func (d *DB) queryReminders(ctx context.Context, q string, args ...any) ([]*store.Reminder, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.Reminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// ClaimDueReminders implements store.ReminderStore. The claim is one UPDATE
// statement, and SQLite lets one writer at a time change the file, so two
// schedulers on one file never claim the same reminder. Each broker's
// earliest come first (turn), so a burst is claimed across every broker's
// channel evenly; the turns are counted among the earliest ten claims'
// worth only, so that a claim from a large burst stays cheap.
func (d *DB) ClaimDueReminders(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*store.Reminder, error) {
	if owner == "" || lease <= 0 || limit <= 0 {
		return nil, store.Errorf(store.EINVALID, "a claim needs an owner, a lease and a limit")
	}
	at := micro(now)
	out, err := d.queryReminders(ctx, `
UPDATE reminders SET state = 'claimed', lease_owner = ?, next_at = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (
    SELECT id FROM (
        SELECT id, next_at, row_number() OVER (PARTITION BY broker ORDER BY next_at, id) AS turn
        FROM (
            SELECT id, broker, next_at FROM reminders
            WHERE state IN ('pending', 'claimed', 'snoozed') AND next_at <= ?
            ORDER BY next_at
            LIMIT ? * 10
        )
    )
    ORDER BY turn, next_at
    LIMIT ?
)
RETURNING `+reminderColumns, owner, micro(now.Add(lease)), at, at, limit, limit)
	if err != nil {
		return nil, err
	}
	store.SortReminders(out)
	return out, nil
}

// ExtendReminderLease implements store.ReminderStore.
func (d *DB) ExtendReminderLease(ctx context.Context, id uuid.UUID, owner string, until time.Time) error {
	return d.updateClaimed(ctx, id, owner, `next_at = ?, updated_at = ?`, micro(until), micro(d.now()))
}

// MarkReminderPosted implements store.ReminderStore.
func (d *DB) MarkReminderPosted(ctx context.Context, id uuid.UUID, owner, channel, ts string, at time.Time) error {
	return d.updateClaimed(ctx, id, owner,
		`state = 'posted', channel = ?, message_ts = ?, posted_at = ?, lease_owner = '', updated_at = ?`,
		channel, ts, micro(at), micro(at))
}

// MarkRemindersPosted implements store.ReminderStore: one transaction, one
// commit, for a whole batch.
func (d *DB) MarkRemindersPosted(ctx context.Context, owner string, posts []store.ReminderPost) ([]uuid.UUID, error) {
	if len(posts) == 0 {
		return nil, nil
	}
	var done []uuid.UUID
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		done = done[:0]
		stmt, err := tx.PrepareContext(ctx, `UPDATE reminders SET state = 'posted', channel = ?, message_ts = ?, posted_at = ?, lease_owner = '', updated_at = ?
WHERE id = ? AND lease_owner = ? AND state = 'claimed'`)
		if err != nil {
			return mapErr(err)
		}
		defer stmt.Close()
		for _, p := range posts {
			res, err := stmt.ExecContext(ctx, p.Channel, p.TS, micro(p.At), micro(p.At), p.ID.String(), owner)
			if err != nil {
				return mapErr(err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				done = append(done, p.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// CancelReminder implements store.ReminderStore.
func (d *DB) CancelReminder(ctx context.Context, id uuid.UUID, at time.Time) (*store.Reminder, error) {
	r, err := scanReminder(d.db.QueryRowContext(ctx, `
UPDATE reminders SET state = 'cancelled', lease_owner = '', updated_at = ?
WHERE id = ? AND state IN ('pending', 'claimed', 'snoozed')
RETURNING `+reminderColumns, micro(at), id.String()))
	if errors.Is(err, sql.ErrNoRows) {
		cur, err := d.Reminder(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, store.Errorf(store.ECONFLICT, "the reminder is %s already", cur.State)
	}
	return r, mapErr(err)
}

// CloseReminder implements store.ReminderStore.
func (d *DB) CloseReminder(ctx context.Context, id uuid.UUID, at time.Time) (*store.Reminder, error) {
	return d.changeReminder(ctx, id, `state = 'done', lease_owner = '', updated_at = ?`,
		`('pending', 'claimed', 'snoozed', 'posted')`, micro(at))
}

// SnoozeReminder implements store.ReminderStore.
func (d *DB) SnoozeReminder(ctx context.Context, id uuid.UUID, until, at time.Time) (*store.Reminder, error) {
	return d.changeReminder(ctx, id, `state = 'snoozed', due_at = ?, next_at = ?, attempts = 0, channel = '', message_ts = '',
    posted_at = 0, lease_owner = '', updated_at = ?`, `('pending', 'snoozed', 'posted')`, micro(until), micro(until), micro(at))
}

// ReassignReminder implements store.ReminderStore.
func (d *DB) ReassignReminder(ctx context.Context, id uuid.UUID, broker string, at time.Time) (*store.Reminder, error) {
	if strings.TrimSpace(broker) == "" {
		return nil, store.Invalid("broker", "a reminder needs a broker to remind")
	}
	return d.changeReminder(ctx, id, `broker = ?,
    next_at = CASE WHEN state = 'posted' THEN ? ELSE next_at END,
    state = CASE WHEN state = 'posted' THEN 'pending' ELSE state END,
    attempts = 0, channel = '', message_ts = '', posted_at = 0, lease_owner = '', updated_at = ?`,
		`('pending', 'snoozed', 'posted')`, broker, micro(at), micro(at))
}

// changeReminder applies set (its arguments in args) to a reminder in one
// of the states from and returns it; ECONFLICT naming the state it is in
// otherwise.
func (d *DB) changeReminder(ctx context.Context, id uuid.UUID, set, from string, args ...any) (*store.Reminder, error) {
	r, err := scanReminder(d.db.QueryRowContext(ctx, `UPDATE reminders SET `+set+` WHERE id = ? AND state IN `+from+`
RETURNING `+reminderColumns, append(args, id.String())...))
	if errors.Is(err, sql.ErrNoRows) {
		cur, err := d.Reminder(ctx, id)
		if err != nil {
			return nil, err
		}
		if cur.State == store.ReminderClaimed {
			return nil, store.Errorf(store.ECONFLICT, "the reminder is being posted right now; try again in a moment")
		}
		return nil, store.Errorf(store.ECONFLICT, "the reminder is %s already", cur.State)
	}
	return r, mapErr(err)
}

// RetryReminder implements store.ReminderStore.
func (d *DB) RetryReminder(ctx context.Context, id uuid.UUID, owner string, retryAt time.Time) error {
	return d.updateClaimed(ctx, id, owner, `state = 'pending', next_at = ?, lease_owner = '', updated_at = ?`,
		micro(retryAt), micro(d.now()))
}

// updateClaimed changes a reminder owner holds a claim on.
func (d *DB) updateClaimed(ctx context.Context, id uuid.UUID, owner, set string, args ...any) error {
	res, err := d.db.ExecContext(ctx, `UPDATE reminders SET `+set+` WHERE id = ? AND lease_owner = ? AND state = 'claimed'`,
		append(args, id.String(), owner)...)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err)
	} else if n == 0 {
		return store.Errorf(store.ECONFLICT, "reminder %s is not claimed by %s", id, owner)
	}
	return nil
}

// FollowupSettings implements store.ReminderStore.
func (d *DB) FollowupSettings(ctx context.Context, broker string) (*store.FollowupSettings, error) {
	s := &store.FollowupSettings{Broker: broker}
	var updated int64
	err := d.db.QueryRowContext(ctx, `SELECT channel, day_start, day_end, updated_at FROM followup_settings WHERE broker = ?`, broker).
		Scan(&s.Channel, &s.DayStart, &s.DayEnd, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultFollowupSettings(broker), nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	s.UpdatedAt = timeFromMicro(updated)
	return s, nil
}

// SetFollowupSettings implements store.ReminderStore.
func (d *DB) SetFollowupSettings(ctx context.Context, s *store.FollowupSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.UpdatedAt = d.now()
	_, err := d.db.ExecContext(ctx, `INSERT INTO followup_settings (broker, channel, day_start, day_end, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (broker) DO UPDATE SET channel = excluded.channel, day_start = excluded.day_start,
    day_end = excluded.day_end, updated_at = excluded.updated_at`,
		s.Broker, s.Channel, s.DayStart, s.DayEnd, micro(s.UpdatedAt))
	return mapErr(err)
}

// UpsertFollowup implements store.ReminderStore.
func (d *DB) UpsertFollowup(ctx context.Context, r *store.Reminder) (*store.Reminder, bool, error) {
	if r.Key == "" {
		return nil, false, store.Invalid("key", "a triggered follow-up needs a key")
	}
	for range 3 {
		err := d.CreateReminder(ctx, r)
		if err == nil {
			return r, true, nil
		}
		if store.ErrorCode(err) != store.ECONFLICT {
			return nil, false, err
		}
		r.ID = uuid.Nil
		got, err := scanReminder(d.db.QueryRowContext(ctx, `UPDATE reminders SET text = ?, due_at = ?, next_at = ?, updated_at = ?
WHERE client_id = ? AND reason_key = ? AND state IN ('pending', 'snoozed')
RETURNING `+reminderColumns, r.Text, micro(r.Due), micro(r.Due), micro(d.now()), r.ClientID.String(), r.Key))
		if err == nil {
			return got, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, mapErr(err)
		}
		got, err = scanReminder(d.db.QueryRowContext(ctx, `SELECT `+reminderColumns+` FROM reminders
WHERE client_id = ? AND reason_key = ? AND state IN ('claimed', 'posted')`, r.ClientID.String(), r.Key))
		if err == nil {
			return got, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, mapErr(err)
		}
	}
	return nil, false, store.Errorf(store.EUNAVAILABLE, "the follow-up kept changing; try again")
}

// ResolveFollowups implements store.ReminderStore.
func (d *DB) ResolveFollowups(ctx context.Context, clientID uuid.UUID, before, at time.Time) ([]*store.Reminder, error) {
	rs, err := d.queryReminders(ctx, `UPDATE reminders SET state = 'done', lease_owner = '', updated_at = ?
WHERE client_id = ? AND reason_key <> '' AND reason_key NOT LIKE 'milestone:%' AND created_at < ? AND state IN ('pending', 'claimed', 'snoozed', 'posted')
RETURNING `+reminderColumns, micro(at), clientID.String(), micro(before))
	store.SortReminders(rs)
	return rs, err
}

// DeskFollowups implements store.ReminderStore.
func (d *DB) DeskFollowups(ctx context.Context, desk string) (*store.DeskFollowups, error) {
	f := &store.DeskFollowups{Desk: desk}
	var mins int
	var updated int64
	err := d.db.QueryRowContext(ctx, `SELECT after_fill_min, market_moves, sentiment, cadence, updated_by, updated_at
FROM desk_followups WHERE desk = ?`, desk).Scan(&mins, &f.MarketMoves, &f.Sentiment, &f.Cadence, &f.UpdatedBy, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultDeskFollowups(desk), nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	f.AfterFill, f.UpdatedAt = time.Duration(mins)*time.Minute, timeFromMicro(updated)
	return f, nil
}

// SetDeskFollowups implements store.ReminderStore.
func (d *DB) SetDeskFollowups(ctx context.Context, f *store.DeskFollowups) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.UpdatedAt = d.now()
	_, err := d.db.ExecContext(ctx, `INSERT INTO desk_followups (desk, after_fill_min, market_moves, sentiment, cadence, updated_by, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (desk) DO UPDATE SET after_fill_min = excluded.after_fill_min, market_moves = excluded.market_moves,
    sentiment = excluded.sentiment, cadence = excluded.cadence, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		f.Desk, int(f.AfterFill/time.Minute), f.MarketMoves, f.Sentiment, f.Cadence, f.UpdatedBy, micro(f.UpdatedAt))
	return mapErr(err)
}
