package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.OnceStore = (*DB)(nil)

// oncePurgeEvery is how often, at most, expired delivery keys are deleted.
const oncePurgeEvery = time.Minute

// Claim implements store.OnceStore. The insert takes a free key (new, or
// whose row has expired) in one statement, so of concurrent claims (two
// replicas, a retry racing the original) one wins; the others read what
// holds the key.
func (db *DB) Claim(ctx context.Context, key string, lease time.Duration) (store.OnceState, error) {
	if key == "" {
		return 0, store.Invalid("key", "an empty key cannot be claimed")
	}
	if lease <= 0 {
		lease = store.DefaultOnceLease
	}
	now := db.clock()
	db.purgeOnce(ctx, now)
	// A row can vanish between the insert and the read (released or purged
	// meanwhile): then the key is free again and the claim is tried anew.
	for range 3 {
		tag, err := db.pool.Exec(ctx, `
INSERT INTO once_keys (key, claimed_at, done_at, expires_at) VALUES ($1, $2, NULL, $3)
ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at, done_at = NULL, expires_at = excluded.expires_at
WHERE once_keys.expires_at <= $2`,
			key, now, now.Add(lease))
		if err != nil {
			return 0, mapError("claim key", err)
		}
		if tag.RowsAffected() == 1 {
			return store.OnceClaimed, nil
		}
		var done bool
		err = db.pool.QueryRow(ctx, `SELECT done_at IS NOT NULL FROM once_keys WHERE key = $1 AND expires_at > $2`, key, now).Scan(&done)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return 0, mapError("read key", err)
		case done:
			return store.OnceDone, nil
		default:
			return store.OnceBusy, nil
		}
	}
	return 0, store.Errorf(store.EUNAVAILABLE, "key %q changed hands three times during one claim; try again", key)
}

// Done implements store.OnceStore.
func (db *DB) Done(ctx context.Context, key string) error {
	if key == "" {
		return store.Invalid("key", "an empty key cannot be marked done")
	}
	now := db.clock()
	_, err := db.pool.Exec(ctx, `
INSERT INTO once_keys (key, claimed_at, done_at, expires_at) VALUES ($1, $2, $2, $3)
ON CONFLICT (key) DO UPDATE SET done_at = excluded.done_at, expires_at = excluded.expires_at`,
		key, now, now.Add(store.OnceRetention))
	return mapError("mark key done", err)
}

// Release implements store.OnceStore.
func (db *DB) Release(ctx context.Context, key string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM once_keys WHERE key = $1 AND done_at IS NULL`, key)
	return mapError("release key", err)
}

// purgeOnce deletes expired keys, at most once every oncePurgeEvery for this
// database; a failure is logged, the claim goes on.
func (db *DB) purgeOnce(ctx context.Context, now time.Time) {
	last := db.oncePurged.Load()
	if now.UnixMicro()-last < oncePurgeEvery.Microseconds() || !db.oncePurged.CompareAndSwap(last, now.UnixMicro()) {
		return
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM once_keys WHERE expires_at <= $1`, now); err != nil {
		db.logger.Warn("purge delivery keys", "err", err)
	}
}
