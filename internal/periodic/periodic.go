// Package periodic runs jobs once per period across replicas.
//
// Every replica runs the same jobs through a Runner; a job's period (its
// interval, aligned to the Unix epoch in UTC) is claimed in the store
// (store.PeriodicStore) for a lease, run by the claimer and marked done, so
// that of several replicas exactly one runs it. A replica that dies while
// running leaves a claim whose lease runs out; another replica then claims
// and runs the period again, so a crash delays a run, never skips it. Jobs
// must therefore be safe to run twice (the lease can also run out under a
// slow run): the lifecycle rules, the cadence check and the digests are.
package periodic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Job is a task run once per period.
type Job struct {
	// Name identifies the job in the store and the logs; it must be the
	// same on every replica and stay the same across versions.
	Name string
	// Every is the period's length (at least a second). Periods start at
	// multiples of Every since the Unix epoch, UTC.
	Every time.Duration
	// Lease is how long a claim holds off other replicas: longer than a
	// run takes (default Every/2, at most 10 minutes, at least 1 s).
	Lease time.Duration
	// Run does the period's work; period is its start. An error releases
	// the claim, and the period is tried again on the next check.
	Run func(ctx context.Context, period time.Time) error
}

// Runner runs jobs on one replica.
type Runner struct {
	Store   store.PeriodicStore
	Holder  string // this replica's name (imap.ReplicaID, say)
	Logger  *slog.Logger
	Metrics *Metrics         // default: unregistered
	Now     func() time.Time // default time.Now
}

// Period returns the start of the period of length every holding t.
func Period(t time.Time, every time.Duration) time.Time { return t.UTC().Truncate(every) }

// Once runs fn for job's period unless another replica runs or ran it, and
// reports whether this call ran it. fn's error is returned after the claim
// is released.
func (r *Runner) Once(ctx context.Context, job string, period time.Time, lease time.Duration, fn func(ctx context.Context, period time.Time) error) (bool, error) {
	st, err := r.Store.ClaimPeriod(ctx, job, period, r.Holder, lease)
	if err != nil {
		return false, fmt.Errorf("claim %s for %s: %w", job, period.Format(time.RFC3339), err)
	}
	if st != store.OnceClaimed {
		return false, nil
	}
	log := r.log().With(slog.String("job", job), slog.Time("period", period), slog.String("holder", r.Holder))
	start := time.Now()
	m := r.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	// What the run did is recorded even when ctx ends meanwhile (the
	// server stopping): a run that succeeded but is not marked finished
	// would be run again by another replica once its lease ran out.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := fn(ctx, period); err != nil {
		m.runs.WithLabelValues(job, "failed").Inc()
		if rerr := r.Store.ReleasePeriod(rctx, job, period, r.Holder); rerr != nil {
			log.Warn("cannot release a failed periodic job; its lease runs out by itself", slog.Any("err", rerr))
		}
		return true, err
	}
	if err := r.Store.FinishPeriod(rctx, job, period, r.Holder); err != nil {
		if store.ErrorCode(err) == store.ECONFLICT {
			log.Warn("periodic job ran longer than its lease; another replica runs the period again", slog.Duration("took", time.Since(start)))
		}
		return true, err
	}
	m.runs.WithLabelValues(job, "ok").Inc()
	m.lastSuccess.WithLabelValues(job).SetToCurrentTime()
	log.Debug("periodic job done", slog.Duration("took", time.Since(start)))
	return true, nil
}

// Run runs job once per period until ctx ends, checking a few times per
// period (at most every minute) whether the current one is done, so that a
// period whose claimer died is run by another replica within its lease and
// one check.
func (r *Runner) Run(ctx context.Context, job Job) error {
	if job.Name == "" || job.Run == nil || job.Every < time.Second {
		return errors.New("periodic: a job needs a name, a Run function and a period of at least a second")
	}
	lease := job.Lease
	if lease <= 0 {
		lease = min(job.Every/2, 10*time.Minute)
	}
	lease = max(lease, time.Second)
	check := min(max(job.Every/5, 200*time.Millisecond), time.Minute)
	var done time.Time // the last period seen done or run here
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		p := Period(r.now(), job.Every)
		if !p.Equal(done) {
			ran, err := r.Once(ctx, job.Name, p, lease, job.Run)
			switch {
			case err != nil && ctx.Err() == nil:
				r.log().Warn("periodic job failed", slog.String("job", job.Name), slog.Time("period", p), slog.Any("err", err))
			case err == nil && ran:
				done = p
			case err == nil:
				// Busy or done elsewhere: a done period needs no more
				// checks, a busy one is checked again.
				if st, _ := r.state(ctx, job.Name, p); st {
					done = p
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// state reports whether job's period is done.
func (r *Runner) state(ctx context.Context, job string, p time.Time) (bool, error) {
	runs, err := r.Store.PeriodRuns(ctx, job, p)
	if err != nil || len(runs) == 0 || !runs[0].Period.Equal(p) {
		return false, err
	}
	return !runs[0].DoneAt.IsZero(), nil
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}
