package embedded

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/brokersync/brokersync/store"
)

var _ store.PeriodicStore = (*DB)(nil)

// ClaimPeriod implements store.PeriodicStore.
func (d *DB) ClaimPeriod(ctx context.Context, job string, period time.Time, holder string, lease time.Duration) (store.OnceState, error) {
	if err := store.ValidatePeriodClaim(job, holder, lease); err != nil {
		return 0, err
	}
	now := d.now().UTC().Truncate(time.Microsecond)
	p := period.UTC().UnixMicro()
	res, err := d.db.ExecContext(ctx, `
INSERT INTO periodic_runs (job, period, holder, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (job, period) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at,
    expires_at = excluded.expires_at, claims = periodic_runs.claims + 1
WHERE periodic_runs.done_at IS NULL AND periodic_runs.expires_at <= excluded.claimed_at`,
		job, p, holder, now.UnixMicro(), now.Add(lease).UnixMicro())
	if err != nil {
		return 0, mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, mapErr(err)
	} else if n == 1 {
		return store.OnceClaimed, nil
	}
	var done sql.NullInt64
	err = d.db.QueryRowContext(ctx, `SELECT done_at FROM periodic_runs WHERE job = ? AND period = ?`, job, p).Scan(&done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.OnceBusy, nil
	case err != nil:
		return 0, mapErr(err)
	case done.Valid:
		return store.OnceDone, nil
	}
	return store.OnceBusy, nil
}

// FinishPeriod implements store.PeriodicStore.
func (d *DB) FinishPeriod(ctx context.Context, job string, period time.Time, holder string) error {
	res, err := d.db.ExecContext(ctx, `UPDATE periodic_runs SET done_at = ? WHERE job = ? AND period = ? AND holder = ? AND done_at IS NULL`,
		d.now().UTC().UnixMicro(), job, period.UTC().UnixMicro(), holder)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err)
	} else if n == 0 {
		return store.Errorf(store.ECONFLICT, "%s for %s is no longer %s's to finish", job, period.UTC().Format(time.RFC3339), holder)
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM periodic_runs WHERE job = ? AND period < ?`, job, d.now().UTC().Add(-store.PeriodRetention).UnixMicro()); err != nil {
		d.logger.Warn("purge periodic runs", "err", err)
	}
	return nil
}

// ReleasePeriod implements store.PeriodicStore.
func (d *DB) ReleasePeriod(ctx context.Context, job string, period time.Time, holder string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE periodic_runs SET expires_at = ? WHERE job = ? AND period = ? AND holder = ? AND done_at IS NULL`,
		d.now().UTC().UnixMicro(), job, period.UTC().UnixMicro(), holder)
	return mapErr(err)
}

// PeriodRuns implements store.PeriodicStore.
func (d *DB) PeriodRuns(ctx context.Context, job string, since time.Time) ([]store.PeriodRun, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT job, period, holder, claimed_at, expires_at, done_at, claims FROM periodic_runs
WHERE job = ? AND period >= ? ORDER BY period`, job, since.UTC().UnixMicro())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.PeriodRun
	for rows.Next() {
		var p store.PeriodRun
		var period, claimed, expires int64
		var done sql.NullInt64
		if err := rows.Scan(&p.Job, &period, &p.Holder, &claimed, &expires, &done, &p.Claims); err != nil {
			return nil, mapErr(err)
		}
		p.Period, p.ClaimedAt, p.ExpiresAt = timeFromMicro(period), timeFromMicro(claimed), timeFromMicro(expires)
		if done.Valid {
			p.DoneAt = timeFromMicro(done.Int64)
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}
