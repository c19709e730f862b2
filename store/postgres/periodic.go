package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.PeriodicStore = (*DB)(nil)

// ClaimPeriod implements store.PeriodicStore: one statement takes a free
// period (new, or claimed by a lease that ran out and not done), so of
// concurrent claims one wins.
func (db *DB) ClaimPeriod(ctx context.Context, job string, period time.Time, holder string, lease time.Duration) (store.OnceState, error) {
	if err := store.ValidatePeriodClaim(job, holder, lease); err != nil {
		return 0, err
	}
	now := db.clock()
	period = period.UTC().Truncate(time.Microsecond)
	tag, err := db.pool.Exec(ctx, `
INSERT INTO periodic_runs (job, period, holder, claimed_at, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (job, period) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at,
    expires_at = excluded.expires_at, claims = periodic_runs.claims + 1
WHERE periodic_runs.done_at IS NULL AND periodic_runs.expires_at <= excluded.claimed_at`,
		job, period, holder, now, now.Add(lease))
	if err != nil {
		return 0, mapError("claim periodic job", err)
	}
	if tag.RowsAffected() == 1 {
		return store.OnceClaimed, nil
	}
	var done bool
	err = db.pool.QueryRow(ctx, `SELECT done_at IS NOT NULL FROM periodic_runs WHERE job = $1 AND period = $2`, job, period).Scan(&done)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.OnceBusy, nil // purged meanwhile; the next round claims it
	}
	if err != nil {
		return 0, mapError("read periodic job", err)
	}
	if done {
		return store.OnceDone, nil
	}
	return store.OnceBusy, nil
}

// FinishPeriod implements store.PeriodicStore.
func (db *DB) FinishPeriod(ctx context.Context, job string, period time.Time, holder string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE periodic_runs SET done_at = $4 WHERE job = $1 AND period = $2 AND holder = $3 AND done_at IS NULL`,
		job, period.UTC().Truncate(time.Microsecond), holder, db.clock())
	if err != nil {
		return mapError("finish periodic job", err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ECONFLICT, "%s for %s is no longer %s's to finish", job, period.UTC().Format(time.RFC3339), holder)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM periodic_runs WHERE job = $1 AND period < $2`, job, db.clock().Add(-store.PeriodRetention)); err != nil {
		db.logger.Warn("purge periodic runs", "err", err)
	}
	return nil
}

// ReleasePeriod implements store.PeriodicStore.
func (db *DB) ReleasePeriod(ctx context.Context, job string, period time.Time, holder string) error {
	_, err := db.pool.Exec(ctx, `UPDATE periodic_runs SET expires_at = $4 WHERE job = $1 AND period = $2 AND holder = $3 AND done_at IS NULL`,
		job, period.UTC().Truncate(time.Microsecond), holder, db.clock())
	return mapError("release periodic job", err)
}

// PeriodRuns implements store.PeriodicStore.
func (db *DB) PeriodRuns(ctx context.Context, job string, since time.Time) ([]store.PeriodRun, error) {
	rows, err := db.pool.Query(ctx, `SELECT job, period, holder, claimed_at, expires_at, done_at, claims FROM periodic_runs
WHERE job = $1 AND period >= $2 ORDER BY period`, job, since.UTC())
	if err != nil {
		return nil, mapError("read periodic runs", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PeriodRun, error) {
		var p store.PeriodRun
		var done *time.Time
		err := r.Scan(&p.Job, &p.Period, &p.Holder, &p.ClaimedAt, &p.ExpiresAt, &done, &p.Claims)
		p.Period, p.ClaimedAt, p.ExpiresAt = p.Period.UTC(), p.ClaimedAt.UTC(), p.ExpiresAt.UTC()
		if done != nil {
			p.DoneAt = done.UTC()
		}
		return p, err
	})
	return out, mapError("read periodic runs", err)
}
