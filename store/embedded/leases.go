package embedded

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/brokersync/brokersync/store"
)

var _ store.LeaseStore = (*DB)(nil)

// AcquireLease implements store.LeaseStore. Transactions take SQLite's
// write lock up front, so the read and the change are one step.
func (d *DB) AcquireLease(ctx context.Context, mailbox, holder string, ttl time.Duration) (store.MailboxLease, bool, error) {
	if err := store.ValidateLease(mailbox, holder, ttl); err != nil {
		return store.MailboxLease{}, false, err
	}
	var out store.MailboxLease
	var ok bool
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.now().UTC().Truncate(time.Microsecond)
		out, ok = store.MailboxLease{}, false
		cur := store.MailboxLease{Mailbox: mailbox}
		var exp int64
		err := tx.QueryRowContext(ctx, `SELECT holder, token, expires_at FROM mailbox_leases WHERE mailbox = ?`, mailbox).
			Scan(&cur.Holder, &cur.Token, &exp)
		cur.ExpiresAt = timeFromMicro(exp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			next := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: 1, ExpiresAt: now.Add(ttl)}
			if _, err := tx.ExecContext(ctx, `INSERT INTO mailbox_leases (mailbox, holder, token, expires_at) VALUES (?, ?, 1, ?)`,
				mailbox, holder, next.ExpiresAt.UnixMicro()); err != nil {
				return mapErr(err)
			}
			out, ok = next, true
			return leaseLog(ctx, tx, next, store.LeaseAcquired, now, store.MailboxLease{})
		case err != nil:
			return mapErr(err)
		}
		if cur.Holder != "" && cur.Holder != holder && cur.ExpiresAt.After(now) {
			out = cur
			return nil
		}
		next := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: cur.Token + 1, ExpiresAt: now.Add(ttl)}
		if _, err := tx.ExecContext(ctx, `UPDATE mailbox_leases SET holder = ?, token = ?, expires_at = ? WHERE mailbox = ?`,
			holder, next.Token, next.ExpiresAt.UnixMicro(), mailbox); err != nil {
			return mapErr(err)
		}
		action := store.LeaseAcquired
		if cur.Holder != "" {
			action = store.LeaseTakenOver
		}
		out, ok = next, true
		return leaseLog(ctx, tx, next, action, now, cur)
	})
	if err != nil {
		return store.MailboxLease{}, false, err
	}
	return out, ok, nil
}

func leaseLog(ctx context.Context, tx *sql.Tx, l store.MailboxLease, action store.LeaseAction, at time.Time, prev store.MailboxLease) error {
	var prevExp sql.NullInt64
	if prev.Token > 0 {
		prevExp = sql.NullInt64{Int64: prev.ExpiresAt.UnixMicro(), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO mailbox_lease_log (mailbox, holder, token, action, at, prev_holder, prev_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.Mailbox, l.Holder, l.Token, string(action), at.UnixMicro(), prev.Holder, prevExp)
	return mapErr(err)
}

// RenewLease implements store.LeaseStore.
func (d *DB) RenewLease(ctx context.Context, mailbox, holder string, token int64, ttl time.Duration) (store.MailboxLease, error) {
	if err := store.ValidateLease(mailbox, holder, ttl); err != nil {
		return store.MailboxLease{}, err
	}
	l := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: token, ExpiresAt: d.now().UTC().Truncate(time.Microsecond).Add(ttl)}
	res, err := d.db.ExecContext(ctx, `UPDATE mailbox_leases SET expires_at = ? WHERE mailbox = ? AND holder = ? AND token = ?`,
		l.ExpiresAt.UnixMicro(), mailbox, holder, token)
	if err != nil {
		return store.MailboxLease{}, mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return store.MailboxLease{}, mapErr(err)
		}
		return store.MailboxLease{}, store.Errorf(store.ECONFLICT, "lease of %s with token %d is no longer %s's", mailbox, token, holder)
	}
	return l, nil
}

// ReleaseLease implements store.LeaseStore.
func (d *DB) ReleaseLease(ctx context.Context, mailbox, holder string, token int64) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.now().UTC().Truncate(time.Microsecond)
		res, err := tx.ExecContext(ctx, `UPDATE mailbox_leases SET holder = '', expires_at = ? WHERE mailbox = ? AND holder = ? AND token = ?`,
			now.UnixMicro(), mailbox, holder, token)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return mapErr(err)
		}
		return leaseLog(ctx, tx, store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: token}, store.LeaseReleased, now, store.MailboxLease{})
	})
}

// Leases implements store.LeaseStore.
func (d *DB) Leases(ctx context.Context) ([]store.MailboxLease, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT mailbox, holder, token, expires_at FROM mailbox_leases ORDER BY mailbox`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.MailboxLease
	for rows.Next() {
		var l store.MailboxLease
		var exp int64
		if err := rows.Scan(&l.Mailbox, &l.Holder, &l.Token, &exp); err != nil {
			return nil, mapErr(err)
		}
		l.ExpiresAt = timeFromMicro(exp)
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// LeaseLog implements store.LeaseStore.
func (d *DB) LeaseLog(ctx context.Context, mailbox string) ([]store.LeaseLogEntry, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT mailbox, holder, token, action, at, prev_holder, prev_expires_at FROM mailbox_lease_log
WHERE ? = '' OR mailbox = ? ORDER BY id`, mailbox, mailbox)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.LeaseLogEntry
	for rows.Next() {
		var e store.LeaseLogEntry
		var action string
		var at int64
		var prev sql.NullInt64
		if err := rows.Scan(&e.Mailbox, &e.Holder, &e.Token, &action, &at, &e.PrevHolder, &prev); err != nil {
			return nil, mapErr(err)
		}
		e.Action, e.At = store.LeaseAction(action), timeFromMicro(at)
		if prev.Valid {
			e.PrevExpiresAt = timeFromMicro(prev.Int64)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// Heartbeat implements store.LeaseStore.
func (d *DB) Heartbeat(ctx context.Context, replica string, ttl time.Duration) error {
	if err := store.ValidateLease("-", replica, ttl); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO replicas (replica, expires_at) VALUES (?, ?)
ON CONFLICT (replica) DO UPDATE SET expires_at = excluded.expires_at`, replica, d.now().UTC().Add(ttl).UnixMicro())
	return mapErr(err)
}

// LiveReplicas implements store.LeaseStore; it also forgets replicas dead
// for a day.
func (d *DB) LiveReplicas(ctx context.Context) ([]string, error) {
	now := d.now().UTC()
	if _, err := d.db.ExecContext(ctx, `DELETE FROM replicas WHERE expires_at < ?`, now.Add(-24*time.Hour).UnixMicro()); err != nil {
		return nil, mapErr(err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT replica FROM replicas WHERE expires_at > ? ORDER BY replica`, now.UnixMicro())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// Leave implements store.LeaseStore.
func (d *DB) Leave(ctx context.Context, replica string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM replicas WHERE replica = ?`, replica)
	return mapErr(err)
}
