package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.LeaseStore = (*DB)(nil)

// AcquireLease implements store.LeaseStore. The lease row is locked for the
// decision, so of concurrent acquisitions one wins and a takeover waits for
// a checkpoint save that checks the old token (SaveCheckpoint).
func (db *DB) AcquireLease(ctx context.Context, mailbox, holder string, ttl time.Duration) (store.MailboxLease, bool, error) {
	if err := store.ValidateLease(mailbox, holder, ttl); err != nil {
		return store.MailboxLease{}, false, err
	}
	var out store.MailboxLease
	var ok bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		now := db.clock()
		out, ok = store.MailboxLease{}, false
		var cur store.MailboxLease
		err := tx.QueryRow(ctx, `SELECT holder, token, expires_at FROM mailbox_leases WHERE mailbox = $1 FOR UPDATE`, mailbox).
			Scan(&cur.Holder, &cur.Token, &cur.ExpiresAt)
		cur.Mailbox = mailbox
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			next := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: 1, ExpiresAt: now.Add(ttl)}
			tag, err := tx.Exec(ctx, `INSERT INTO mailbox_leases (mailbox, holder, token, expires_at) VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING`,
				mailbox, holder, next.ExpiresAt)
			if err != nil || tag.RowsAffected() == 0 {
				return err // taken by a concurrent first acquisition: not ok
			}
			out, ok = next, true
			return leaseLog(ctx, tx, next, store.LeaseAcquired, now, store.MailboxLease{})
		case err != nil:
			return err
		}
		if cur.Holder != "" && cur.Holder != holder && cur.ExpiresAt.After(now) {
			out = cur
			return nil
		}
		next := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: cur.Token + 1, ExpiresAt: now.Add(ttl)}
		if _, err := tx.Exec(ctx, `UPDATE mailbox_leases SET holder = $2, token = $3, expires_at = $4 WHERE mailbox = $1`,
			mailbox, holder, next.Token, next.ExpiresAt); err != nil {
			return err
		}
		action := store.LeaseAcquired
		if cur.Holder != "" {
			action = store.LeaseTakenOver
		}
		out, ok = next, true
		return leaseLog(ctx, tx, next, action, now, cur)
	})
	if err != nil {
		return store.MailboxLease{}, false, mapError("acquire mailbox lease", err)
	}
	return out, ok, nil
}

func leaseLog(ctx context.Context, tx pgx.Tx, l store.MailboxLease, action store.LeaseAction, at time.Time, prev store.MailboxLease) error {
	var prevExp *time.Time
	if prev.Token > 0 {
		prevExp = &prev.ExpiresAt
	}
	_, err := tx.Exec(ctx, `INSERT INTO mailbox_lease_log (mailbox, holder, token, action, at, prev_holder, prev_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		l.Mailbox, l.Holder, l.Token, string(action), at, prev.Holder, prevExp)
	return err
}

// RenewLease implements store.LeaseStore.
func (db *DB) RenewLease(ctx context.Context, mailbox, holder string, token int64, ttl time.Duration) (store.MailboxLease, error) {
	if err := store.ValidateLease(mailbox, holder, ttl); err != nil {
		return store.MailboxLease{}, err
	}
	l := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: token, ExpiresAt: db.clock().Add(ttl)}
	tag, err := db.pool.Exec(ctx, `UPDATE mailbox_leases SET expires_at = $4 WHERE mailbox = $1 AND holder = $2 AND token = $3`,
		mailbox, holder, token, l.ExpiresAt)
	if err != nil {
		return store.MailboxLease{}, mapError("renew mailbox lease", err)
	}
	if tag.RowsAffected() == 0 {
		return store.MailboxLease{}, store.Errorf(store.ECONFLICT, "lease of %s with token %d is no longer %s's", mailbox, token, holder)
	}
	return l, nil
}

// ReleaseLease implements store.LeaseStore.
func (db *DB) ReleaseLease(ctx context.Context, mailbox, holder string, token int64) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		now := db.clock()
		tag, err := tx.Exec(ctx, `UPDATE mailbox_leases SET holder = '', expires_at = $4 WHERE mailbox = $1 AND holder = $2 AND token = $3`,
			mailbox, holder, token, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		l := store.MailboxLease{Mailbox: mailbox, Holder: holder, Token: token}
		return leaseLog(ctx, tx, l, store.LeaseReleased, now, store.MailboxLease{})
	})
	return mapError("release mailbox lease", err)
}

// Leases implements store.LeaseStore.
func (db *DB) Leases(ctx context.Context) ([]store.MailboxLease, error) {
	rows, err := db.pool.Query(ctx, `SELECT mailbox, holder, token, expires_at FROM mailbox_leases ORDER BY mailbox`)
	if err != nil {
		return nil, mapError("read mailbox leases", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MailboxLease, error) {
		var l store.MailboxLease
		err := r.Scan(&l.Mailbox, &l.Holder, &l.Token, &l.ExpiresAt)
		l.ExpiresAt = l.ExpiresAt.UTC()
		return l, err
	})
	return out, mapError("read mailbox leases", err)
}

// LeaseLog implements store.LeaseStore.
func (db *DB) LeaseLog(ctx context.Context, mailbox string) ([]store.LeaseLogEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT mailbox, holder, token, action, at, prev_holder, prev_expires_at FROM mailbox_lease_log
WHERE $1 = '' OR mailbox = $1 ORDER BY id`, mailbox)
	if err != nil {
		return nil, mapError("read the lease log", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.LeaseLogEntry, error) {
		var e store.LeaseLogEntry
		var action string
		var prev *time.Time
		err := r.Scan(&e.Mailbox, &e.Holder, &e.Token, &action, &e.At, &e.PrevHolder, &prev)
		e.Action, e.At = store.LeaseAction(action), e.At.UTC()
		if prev != nil {
			e.PrevExpiresAt = prev.UTC()
		}
		return e, err
	})
	return out, mapError("read the lease log", err)
}

// Heartbeat implements store.LeaseStore.
func (db *DB) Heartbeat(ctx context.Context, replica string, ttl time.Duration) error {
	if err := store.ValidateLease("-", replica, ttl); err != nil {
		return err
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO replicas (replica, expires_at) VALUES ($1, $2)
ON CONFLICT (replica) DO UPDATE SET expires_at = excluded.expires_at`, replica, db.clock().Add(ttl))
	return mapError("replica heartbeat", err)
}

// LiveReplicas implements store.LeaseStore; it also forgets replicas dead
// for a day.
func (db *DB) LiveReplicas(ctx context.Context) ([]string, error) {
	now := db.clock()
	if _, err := db.pool.Exec(ctx, `DELETE FROM replicas WHERE expires_at < $1`, now.Add(-24*time.Hour)); err != nil {
		return nil, mapError("forget dead replicas", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT replica FROM replicas WHERE expires_at > $1 ORDER BY replica`, now)
	if err != nil {
		return nil, mapError("read live replicas", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapError("read live replicas", err)
}

// Leave implements store.LeaseStore.
func (db *DB) Leave(ctx context.Context, replica string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM replicas WHERE replica = $1`, replica)
	return mapError("leave", err)
}
