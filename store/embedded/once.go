package embedded

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/brokersync/brokersync/store"
)

var _ store.OnceStore = (*DB)(nil)

// oncePurgeEvery is how often, at most, expired delivery keys are deleted.
const oncePurgeEvery = time.Minute

// Claim implements store.OnceStore. The insert takes a free key (new, or
// whose row has expired) in one statement, so of concurrent claims one wins;
// the others read what holds the key.
func (d *DB) Claim(ctx context.Context, key string, lease time.Duration) (store.OnceState, error) {
	if key == "" {
		return 0, store.Invalid("key", "an empty key cannot be claimed")
	}
	if lease <= 0 {
		lease = store.DefaultOnceLease
	}
	now := d.now().UTC()
	d.purgeOnce(ctx, now)
	at := now.UnixMicro()
	// A row can vanish between the insert and the read (released or purged
	// meanwhile): then the key is free again and the claim is tried anew.
	for range 3 {
		res, err := d.db.ExecContext(ctx, `
INSERT INTO once_keys (key, claimed_at, done_at, expires_at) VALUES (?, ?, NULL, ?)
ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at, done_at = NULL, expires_at = excluded.expires_at
WHERE once_keys.expires_at <= ?`,
			key, at, now.Add(lease).UnixMicro(), at)
		if err != nil {
			return 0, mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, mapErr(err)
		}
		if n == 1 {
			return store.OnceClaimed, nil
		}
		var done sql.NullInt64
		err = d.db.QueryRowContext(ctx, `SELECT done_at FROM once_keys WHERE key = ? AND expires_at > ?`, key, at).Scan(&done)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return 0, mapErr(err)
		case done.Valid:
			return store.OnceDone, nil
		default:
			return store.OnceBusy, nil
		}
	}
	return 0, store.Errorf(store.EUNAVAILABLE, "key %q changed hands three times during one claim; try again", key)
}

// Done implements store.OnceStore.
func (d *DB) Done(ctx context.Context, key string) error {
	if key == "" {
		return store.Invalid("key", "an empty key cannot be marked done")
	}
	now := d.now().UTC()
	at, until := now.UnixMicro(), now.Add(store.OnceRetention).UnixMicro()
	_, err := d.db.ExecContext(ctx, `
INSERT INTO once_keys (key, claimed_at, done_at, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET done_at = excluded.done_at, expires_at = excluded.expires_at`,
		key, at, at, until)
	return mapErr(err)
}

// Release implements store.OnceStore.
func (d *DB) Release(ctx context.Context, key string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM once_keys WHERE key = ? AND done_at IS NULL`, key)
	return mapErr(err)
}

// purgeOnce deletes expired keys, at most once every oncePurgeEvery for this
// database; a failure is logged, the claim goes on.
func (d *DB) purgeOnce(ctx context.Context, now time.Time) {
	last := d.oncePurged.Load()
	if now.UnixMicro()-last < oncePurgeEvery.Microseconds() || !d.oncePurged.CompareAndSwap(last, now.UnixMicro()) {
		return
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM once_keys WHERE expires_at <= ?`, now.UnixMicro()); err != nil {
		d.logger.Warn("purge delivery keys", "err", err)
	}
}
