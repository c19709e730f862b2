package store

import (
	"context"
	"time"
)

// PeriodRun is one period of a periodic job as the store keeps it.
type PeriodRun struct {
	Job       string
	Period    time.Time // start of the period, UTC
	Holder    string    // the replica that claimed it last
	ClaimedAt time.Time
	ExpiresAt time.Time // end of the claim's lease
	DoneAt    time.Time // zero until the job's run for the period succeeded
	Claims    int       // how many times the period was claimed (more than one after a failure or a crash)
}

// PeriodicStore makes a periodic job (a statistics sweep, the lifecycle
// rules, a digest) run once per period across replicas: a replica claims
// the job's period for a lease, runs it, and marks it done; the others see
// it busy or done. A claim whose holder died runs out and the period is
// claimed again, so a crash delays a run, never skips it. Rows are durable
// (kept across database restarts) and kept for PeriodRetention.
type PeriodicStore interface {
	// ClaimPeriod claims job's period for holder for lease, unless a live
	// claim or a done mark holds it, and reports which (OnceClaimed,
	// OnceBusy, OnceDone). Of concurrent claims exactly one gets
	// OnceClaimed. EINVALID for an empty job or holder, or lease <= 0.
	ClaimPeriod(ctx context.Context, job string, period time.Time, holder string, lease time.Duration) (OnceState, error)
	// FinishPeriod marks the period done. ECONFLICT when holder's claim
	// was taken over meanwhile (its lease ran out): the period is then
	// the new holder's to finish.
	FinishPeriod(ctx context.Context, job string, period time.Time, holder string) error
	// ReleasePeriod gives up holder's claim after a failed run, so that
	// another replica (or the next round) runs it at once; a done period
	// stays done.
	ReleasePeriod(ctx context.Context, job string, period time.Time, holder string) error
	// PeriodRuns returns job's periods from since on, oldest first.
	PeriodRuns(ctx context.Context, job string, since time.Time) ([]PeriodRun, error)
}

// PeriodRetention is how long periods are remembered.
const PeriodRetention = 30 * 24 * time.Hour

// ValidatePeriodClaim checks a claim's arguments. EINVALID.
func ValidatePeriodClaim(job, holder string, lease time.Duration) error {
	switch {
	case job == "":
		return Invalid("job", "a periodic job needs a name")
	case holder == "":
		return Invalid("holder", "a claim needs a holder")
	case lease <= 0:
		return Invalid("lease", "a claim needs a positive lease, not %s", lease)
	}
	return nil
}
