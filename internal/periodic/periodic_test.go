package periodic_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/periodic"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

func forEachStore(t *testing.T, fn func(t *testing.T, s store.PeriodicStore)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		db, err := embedded.Open(context.Background(), t.TempDir(), store.DefaultCatalogue(), backendtest.Logger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, backendtest.Postgres(t))
	})
}

// Three replicas run the same job with a one-second period for a few
// seconds: every period is run exactly once, by one of them, and the
// store's record says so.
func TestOncePerPeriodAcrossReplicas(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.PeriodicStore) {
		job := "test-" + uuid.NewString()
		var mu sync.Mutex
		runs := map[time.Time][]string{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		start := time.Now()
		for _, name := range []string{"a", "b", "c"} {
			r := &periodic.Runner{Store: s, Holder: name, Logger: backendtest.Logger()}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.Run(ctx, periodic.Job{Name: job, Every: time.Second, Run: func(ctx context.Context, p time.Time) error {
					mu.Lock()
					runs[p] = append(runs[p], name)
					mu.Unlock()
					time.Sleep(50 * time.Millisecond) // others check meanwhile
					return nil
				}})
			}()
		}
		time.Sleep(4500 * time.Millisecond)
		cancel()
		wg.Wait()
		if len(runs) < 4 {
			t.Fatalf("%d periods run in 4.5 s of one-second periods, want at least 4: %v", len(runs), runs)
		}
		for p, by := range runs {
			if len(by) != 1 {
				t.Errorf("period %s run %d times, by %v", p.Format(time.RFC3339), len(by), by)
			}
		}
		recorded, err := s.PeriodRuns(context.Background(), job, start.Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(recorded) != len(runs) {
			t.Fatalf("store records %d periods, %d were run", len(recorded), len(runs))
		}
		for _, r := range recorded {
			if by := runs[r.Period]; len(by) != 1 || by[0] != r.Holder || r.DoneAt.IsZero() || r.Claims != 1 {
				t.Errorf("recorded %+v; run by %v", r, by)
			}
		}
	})
}

// A run that succeeds while the server is stopping is recorded as done:
// no other replica runs its period again.
func TestRunDoneAsTheServerStops(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.PeriodicStore) {
		job := "test-" + uuid.NewString()
		p := periodic.Period(time.Now(), time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		r := &periodic.Runner{Store: s, Holder: "a", Logger: backendtest.Logger()}
		ran, err := r.Once(ctx, job, p, time.Minute, func(context.Context, time.Time) error {
			cancel() // the stop arrives as the work ends
			return nil
		})
		if !ran || err != nil {
			t.Fatalf("Once: ran %v, %v", ran, err)
		}
		runs, err := s.PeriodRuns(context.Background(), job, p)
		if err != nil || len(runs) != 1 || runs[0].DoneAt.IsZero() {
			t.Fatalf("recorded %+v, %v; want the period done", runs, err)
		}
		other := &periodic.Runner{Store: s, Holder: "b", Logger: backendtest.Logger()}
		if again, err := other.Once(context.Background(), job, p, time.Minute, func(context.Context, time.Time) error { return nil }); again || err != nil {
			t.Errorf("another replica ran the period again: %v, %v", again, err)
		}
	})
}

// A replica that dies while running a period (its claim is neither
// finished nor released) delays the period until its lease runs out; then
// another replica runs it. A failed run is released and tried again at once.
func TestCrashedOrFailedRunIsRunAgain(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.PeriodicStore) {
		ctx := context.Background()
		job := "test-" + uuid.NewString()
		p := periodic.Period(time.Now(), time.Hour)
		// The dead replica claimed the period and never came back.
		if st, err := s.ClaimPeriod(ctx, job, p, "dead", 500*time.Millisecond); err != nil || st != store.OnceClaimed {
			t.Fatalf("claim: %v, %v", st, err)
		}
		b := &periodic.Runner{Store: s, Holder: "b"}
		ran := 0
		run := func(context.Context, time.Time) error { ran++; return nil }
		if did, err := b.Once(ctx, job, p, time.Minute, run); did || err != nil {
			t.Fatalf("while the dead replica's lease runs: ran %v, %v", did, err)
		}
		time.Sleep(600 * time.Millisecond)
		if did, err := b.Once(ctx, job, p, time.Minute, run); !did || err != nil || ran != 1 {
			t.Fatalf("after the lease ran out: ran %v (%d), %v", did, ran, err)
		}
		if did, _ := b.Once(ctx, job, p, time.Minute, run); did || ran != 1 {
			t.Fatal("a done period ran again")
		}
		if err := s.FinishPeriod(ctx, job, p, "dead"); store.ErrorCode(err) != store.ECONFLICT {
			t.Fatalf("the dead replica finishing late: %v, want ECONFLICT", err)
		}
		runs, err := s.PeriodRuns(ctx, job, p)
		if err != nil || len(runs) != 1 || runs[0].Holder != "b" || runs[0].Claims != 2 || runs[0].DoneAt.IsZero() {
			t.Fatalf("recorded %+v, %v: want done by b after two claims", runs, err)
		}

		// A failure releases the claim: the next try runs at once.
		failing := "test-" + uuid.NewString()
		boom := errors.New("boom")
		if did, err := b.Once(ctx, failing, p, time.Hour, func(context.Context, time.Time) error { return boom }); !did || !errors.Is(err, boom) {
			t.Fatalf("failing run: %v, %v", did, err)
		}
		c := &periodic.Runner{Store: s, Holder: "c"}
		if did, err := c.Once(ctx, failing, p, time.Hour, run); !did || err != nil {
			t.Fatalf("after a failed run another replica: ran %v, %v; want it run at once", did, err)
		}
	})
}

func TestClaimValidates(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.PeriodicStore) {
		ctx := context.Background()
		for _, c := range []struct {
			job, holder string
			lease       time.Duration
		}{{"", "a", time.Second}, {"j", "", time.Second}, {"j", "a", 0}} {
			if _, err := s.ClaimPeriod(ctx, c.job, time.Now(), c.holder, c.lease); store.ErrorCode(err) != store.EINVALID {
				t.Errorf("ClaimPeriod(%q, %q, %s): %v, want EINVALID", c.job, c.holder, c.lease, err)
			}
		}
	})
}
