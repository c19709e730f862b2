package ingest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Many concurrent calls: every one gets its own counts, writes are grouped,
// and no more writes overlap than allowed.
func TestCommitterGroupsConcurrentCalls(t *testing.T) {
	for _, writers := range []int{1, 3} {
		var c committer
		var mu sync.Mutex
		writing, most, writes, biggest := 0, 0, 0, 0
		write := func(_ context.Context, es []Entry) ([]bool, error) {
			mu.Lock()
			writing++
			most, writes, biggest = max(most, writing), writes+1, max(biggest, len(es))
			mu.Unlock()
			time.Sleep(2 * time.Millisecond) // a store round trip, during which others queue
			mu.Lock()
			writing--
			mu.Unlock()
			first := make([]bool, len(es))
			for i, e := range es {
				first[i] = e.Fill != nil && e.Fill.Quantity > 1 // "new" fills are those of more than one contract
			}
			return first, nil
		}
		const calls = 300
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				entries := []Entry{{Fill: &store.Fill{Quantity: 2}}, {Fill: &store.Fill{Quantity: 1}}, {}}
				want := Stored{Events: 3, NewFills: 1, DuplicateFills: 1}
				if i%2 == 0 {
					entries, want = entries[:1], Stored{Events: 1, NewFills: 1}
				}
				st, err := c.store(context.Background(), entries, writers, write)
				if err != nil || st != want {
					t.Errorf("writers %d, call %d: %+v, %v; want %+v", writers, i, st, err, want)
				}
			})
		}
		wg.Wait()
		if most > writers || writers > 1 && most < 2 {
			t.Errorf("writers %d: at most %d writes overlapped", writers, most)
		}
		if writes >= calls || biggest < 2 {
			t.Errorf("writers %d: %d calls made %d writes, the largest of %d entries; want them grouped", writers, calls, writes, biggest)
		}
		if c.active != 0 || len(c.queue) != 0 {
			t.Errorf("writers %d: committer left %d writing with %d queued", writers, c.active, len(c.queue))
		}
	}
}

// A failed write fails every call in its group, and the next group still runs.
func TestCommitterFailureReachesTheGroup(t *testing.T) {
	var c committer
	fail := errors.New("store down")
	var mu sync.Mutex
	n := 0
	write := func(_ context.Context, es []Entry) ([]bool, error) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		time.Sleep(time.Millisecond)
		if k == 1 {
			return nil, fail
		}
		return make([]bool, len(es)), nil
	}
	var wg sync.WaitGroup
	var failed, ok int
	for range 50 {
		wg.Go(func() {
			_, err := c.store(context.Background(), []Entry{{}}, 1, write)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, fail):
				failed++
			case err == nil:
				ok++
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if failed == 0 || failed+ok != 50 {
		t.Errorf("%d failed, %d succeeded; want the first group failed and the rest stored", failed, ok)
	}
}

// A leader whose request is cancelled still writes its group to the end.
func TestCommitterIgnoresLeaderCancellation(t *testing.T) {
	var c committer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.store(ctx, []Entry{{}}, 1, func(ctx context.Context, es []Entry) ([]bool, error) {
		return make([]bool, len(es)), ctx.Err()
	})
	if err != nil {
		t.Errorf("the write saw the caller's cancellation: %v", err)
	}
}

// A panicking write fails its group and leaves the committer usable.
func TestCommitterSurvivesPanic(t *testing.T) {
	var c committer
	_, err := c.store(context.Background(), []Entry{{}}, 1, func(context.Context, []Entry) ([]bool, error) { panic("boom") })
	if store.ErrorCode(err) != store.EINTERNAL {
		t.Errorf("after a panic: %v, want EINTERNAL", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.store(context.Background(), []Entry{{}}, 1, func(_ context.Context, es []Entry) ([]bool, error) { return make([]bool, len(es)), nil })
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the next call: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the next call hangs: the committer stayed busy")
	}
}
