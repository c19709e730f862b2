package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Clock is a clock that moves only when told: the OnceStore suite runs
// leases and retention out without waiting.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// RunOnceStoreTests runs the OnceStore contract against one backend.
// newStore is called once per subtest and returns a store that reads the
// time from now and that no other subtest uses with another clock (a store
// of its own, or one whose clock it may set). The suite does not close it.
func RunOnceStoreTests(t *testing.T, newStore func(t *testing.T, now func() time.Time) store.OnceStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.OnceStore, c *Clock)
	}{
		{"FirstClaimThenDuplicate", testOnceFirstClaim},
		{"LeaseRunsOutAfterACrash", testOnceLeaseExpiry},
		{"DefaultLease", testOnceDefaultLease},
		{"ReleaseLetsTheRetryIn", testOnceRelease},
		{"DoneWhoeverHoldsTheLease", testOnceDoneByLateHolder},
		{"RetentionThenClaimedAgain", testOnceRetention},
		{"ConcurrentClaimsHaveOneWinner", testOnceConcurrent},
		{"KeysAreExact", testOnceKeysExact},
		{"RejectsEmptyKey", testOnceEmptyKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
			tc.fn(t, newStore(t, c.Now), c)
		})
	}
	// With the wall clock: a short lease runs out by itself.
	t.Run("ShortLeaseOnTheWallClock", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Now)
		k := onceKey()
		claim(t, s, k, 100*time.Millisecond, store.OnceClaimed)
		claim(t, s, k, 100*time.Millisecond, store.OnceBusy)
		time.Sleep(150 * time.Millisecond)
		claim(t, s, k, time.Minute, store.OnceClaimed)
		done(t, s, k)
		claim(t, s, k, time.Minute, store.OnceDone)
	})
}

func onceKey() string { return "storetest:" + uuid.NewString() }

func claim(t *testing.T, s store.OnceStore, key string, lease time.Duration, want store.OnceState) {
	t.Helper()
	got, err := s.Claim(context.Background(), key, lease)
	if err != nil {
		t.Fatalf("Claim(%q, %v): %v", key, lease, err)
	}
	if got != want {
		t.Fatalf("Claim(%q, %v) = %v, want %v", key, lease, got, want)
	}
}

func done(t *testing.T, s store.OnceStore, key string) {
	t.Helper()
	if err := s.Done(context.Background(), key); err != nil {
		t.Fatalf("Done(%q): %v", key, err)
	}
}

func release(t *testing.T, s store.OnceStore, key string) {
	t.Helper()
	if err := s.Release(context.Background(), key); err != nil {
		t.Fatalf("Release(%q): %v", key, err)
	}
}

// The first delivery is claimed; a retry while it works is told to come
// back; once it is done every retry is a duplicate; other keys are free.
func testOnceFirstClaim(t *testing.T, s store.OnceStore, c *Clock) {
	k := onceKey()
	claim(t, s, k, time.Minute, store.OnceClaimed)
	claim(t, s, k, time.Minute, store.OnceBusy)
	c.Advance(10 * time.Second)
	claim(t, s, k, time.Minute, store.OnceBusy)
	done(t, s, k)
	claim(t, s, k, time.Minute, store.OnceDone)
	c.Advance(time.Hour) // far past the lease: done stays done
	claim(t, s, k, time.Minute, store.OnceDone)
	claim(t, s, onceKey(), time.Minute, store.OnceClaimed)
}

// A holder that crashed never calls Done or Release: its lease runs out and
// the sender's next retry does the work.
func testOnceLeaseExpiry(t *testing.T, s store.OnceStore, c *Clock) {
	k := onceKey()
	claim(t, s, k, 30*time.Second, store.OnceClaimed)
	c.Advance(30*time.Second - time.Millisecond)
	claim(t, s, k, 30*time.Second, store.OnceBusy)
	c.Advance(time.Millisecond)
	claim(t, s, k, 30*time.Second, store.OnceClaimed)
	// The new lease runs from the new claim.
	c.Advance(20 * time.Second)
	claim(t, s, k, 30*time.Second, store.OnceBusy)
	done(t, s, k)
	claim(t, s, k, 30*time.Second, store.OnceDone)
}

func testOnceDefaultLease(t *testing.T, s store.OnceStore, c *Clock) {
	k := onceKey()
	claim(t, s, k, 0, store.OnceClaimed)
	c.Advance(store.DefaultOnceLease - time.Second)
	claim(t, s, k, 0, store.OnceBusy)
	c.Advance(2 * time.Second)
	claim(t, s, k, 0, store.OnceClaimed)
}

// A failed delivery is released and applied by the retry at once; a release
// never undoes work that was done, and releasing an unknown key is no error.
func testOnceRelease(t *testing.T, s store.OnceStore, c *Clock) {
	k := onceKey()
	claim(t, s, k, time.Minute, store.OnceClaimed)
	release(t, s, k)
	claim(t, s, k, time.Minute, store.OnceClaimed)
	done(t, s, k)
	release(t, s, k)
	claim(t, s, k, time.Minute, store.OnceDone)
	release(t, s, onceKey())
}

// A slow holder whose lease ran out while it worked: its Done counts, and
// the failure of the second holder does not undo it.
func testOnceDoneByLateHolder(t *testing.T, s store.OnceStore, c *Clock) {
	k := onceKey()
	claim(t, s, k, time.Second, store.OnceClaimed) // the slow one
	c.Advance(2 * time.Second)
	claim(t, s, k, time.Second, store.OnceClaimed) // the retry
	done(t, s, k)                                  // the slow one succeeds
	release(t, s, k)                               // the retry fails
	claim(t, s, k, time.Second, store.OnceDone)
	// Done on a key never claimed records it as done too.
	k2 := onceKey()
	done(t, s, k2)
	claim(t, s, k2, time.Second, store.OnceDone)
}

// A done key is remembered for store.OnceRetention, then forgotten (and
// purged), so the store does not grow without end.
func testOnceRetention(t *testing.T, s store.OnceStore, c *Clock) {
	old, kept := onceKey(), onceKey()
	claim(t, s, old, time.Minute, store.OnceClaimed)
	done(t, s, old)
	c.Advance(store.OnceRetention - time.Hour)
	claim(t, s, kept, time.Minute, store.OnceClaimed)
	done(t, s, kept)
	claim(t, s, old, time.Minute, store.OnceDone)
	c.Advance(time.Hour)
	claim(t, s, old, time.Minute, store.OnceClaimed)
	claim(t, s, kept, time.Minute, store.OnceDone)
	// A purge has run by now (the clock moved by days); the remembered key
	// survived it, the forgotten one can be done again.
	c.Advance(2 * time.Minute)
	claim(t, s, onceKey(), time.Minute, store.OnceClaimed)
	claim(t, s, kept, time.Minute, store.OnceDone)
	done(t, s, old)
	claim(t, s, old, time.Minute, store.OnceDone)
}

// Two replicas, or a retry racing the original: one claim wins.
func testOnceConcurrent(t *testing.T, s store.OnceStore, c *Clock) {
	for round := range 2 {
		k := onceKey()
		if round == 1 {
			// The second round races for an expired lease.
			claim(t, s, k, time.Second, store.OnceClaimed)
			c.Advance(2 * time.Second)
		}
		const n = 12
		states := make(chan store.OnceState, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				st, err := s.Claim(context.Background(), k, time.Minute)
				if err != nil {
					t.Errorf("Claim: %v", err)
				}
				states <- st
			})
		}
		wg.Wait()
		close(states)
		won := 0
		for st := range states {
			switch st {
			case store.OnceClaimed:
				won++
			case store.OnceBusy:
			default:
				t.Errorf("round %d: a concurrent claim got %v", round, st)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of %d concurrent claims won, want 1", round, won, n)
		}
	}
}

// Keys are compared exactly: case, long keys and any characters.
func testOnceKeysExact(t *testing.T, s store.OnceStore, c *Clock) {
	base := onceKey()
	keys := []string{base + ":a", base + ":A", base + ":a ", base + ":ä", base + ":" + strings.Repeat("x", 2000), base + ":'; DROP TABLE once_keys; --"}
	for _, k := range keys {
		claim(t, s, k, time.Minute, store.OnceClaimed)
	}
	done(t, s, keys[0])
	claim(t, s, keys[0], time.Minute, store.OnceDone)
	for _, k := range keys[1:] {
		claim(t, s, k, time.Minute, store.OnceBusy)
	}
}

func testOnceEmptyKey(t *testing.T, s store.OnceStore, c *Clock) {
	ctx := context.Background()
	if _, err := s.Claim(ctx, "", time.Minute); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("Claim of an empty key: %v, want EINVALID", err)
	}
	if err := s.Done(ctx, ""); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("Done of an empty key: %v, want EINVALID", err)
	}
}
