package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// LeaseStore is what the lease suite needs: leases, and the checkpoints
// they fence.
type LeaseStore interface {
	store.LeaseStore
	store.CheckpointStore
}

// RunLeaseStoreTests runs the mailbox lease contract against one backend.
// Subtests use their own random mailbox and replica names, so newStore may
// hand out the same store each time.
func RunLeaseStoreTests(t *testing.T, newStore func(t *testing.T) LeaseStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s LeaseStore)
	}{
		{"OneHolderAtATime", testLeaseOneHolder},
		{"ReleaseHandsOverAtOnce", testLeaseRelease},
		{"ExpiredLeaseIsTakenOver", testLeaseTakeover},
		{"HolderTakesItsOwnLiveLeaseWithNewToken", testLeaseSameHolder},
		{"StaleTokenCannotSaveCheckpoint", testLeaseFencing},
		{"ConcurrentAcquisitionsOneWins", testLeaseConcurrent},
		{"LiveReplicas", testLeaseReplicas},
		{"RejectsInvalid", testLeaseInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func leaseMailbox() (account, label string) {
	account = "storetest-" + uuid.NewString() + "@mail.example.com"
	return account, store.MailboxLabel(account, "INBOX")
}

func mustAcquire(t *testing.T, s LeaseStore, mailbox, holder string, ttl time.Duration) store.MailboxLease {
	t.Helper()
	l, ok, err := s.AcquireLease(context.Background(), mailbox, holder, ttl)
	if err != nil || !ok {
		t.Fatalf("AcquireLease(%s, %s) = %+v, %v, %v; want it acquired", mailbox, holder, l, ok, err)
	}
	if l.Mailbox != mailbox || l.Holder != holder || l.Token <= 0 {
		t.Fatalf("AcquireLease(%s, %s) = %+v", mailbox, holder, l)
	}
	return l
}

func leaseLog(t *testing.T, s LeaseStore, mailbox string) []store.LeaseLogEntry {
	t.Helper()
	log, err := s.LeaseLog(context.Background(), mailbox)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func testLeaseOneHolder(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	_, mb := leaseMailbox()
	a := mustAcquire(t, s, mb, "replica-a", time.Minute)
	if a.Token != 1 || time.Until(a.ExpiresAt) < 50*time.Second {
		t.Fatalf("first lease %+v: want token 1, about a minute", a)
	}
	b, ok, err := s.AcquireLease(ctx, mb, "replica-b", time.Minute)
	if err != nil || ok || b.Holder != "replica-a" || b.Token != 1 {
		t.Fatalf("a second replica acquiring a live lease: %+v, %v, %v; want refused, showing replica-a's", b, ok, err)
	}
	r, err := s.RenewLease(ctx, mb, "replica-a", a.Token, 2*time.Minute)
	if err != nil || r.Token != a.Token || time.Until(r.ExpiresAt) < 110*time.Second {
		t.Fatalf("renew: %+v, %v", r, err)
	}
	if _, err := s.RenewLease(ctx, mb, "replica-b", a.Token, time.Minute); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("renewal by a non-holder: %v, want ECONFLICT", err)
	}
	if _, err := s.RenewLease(ctx, mb, "replica-a", a.Token+1, time.Minute); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("renewal with a wrong token: %v, want ECONFLICT", err)
	}
	log := leaseLog(t, s, mb)
	if len(log) != 1 || log[0].Action != store.LeaseAcquired || log[0].Holder != "replica-a" || log[0].Token != 1 {
		t.Fatalf("lease log %+v: want one acquisition by replica-a (renewals are not logged)", log)
	}
	all, err := s.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range all {
		found = found || l.Mailbox == mb && l.Holder == "replica-a" && l.Token == 1
	}
	if !found {
		t.Fatalf("Leases does not list %s held by replica-a", mb)
	}
}

func testLeaseRelease(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	_, mb := leaseMailbox()
	a := mustAcquire(t, s, mb, "replica-a", time.Hour)
	if err := s.ReleaseLease(ctx, mb, "replica-b", a.Token); err != nil {
		t.Fatalf("a release by a non-holder: %v, want nothing done", err)
	}
	if _, ok, _ := s.AcquireLease(ctx, mb, "replica-b", time.Hour); ok {
		t.Fatal("a release by a non-holder freed the lease")
	}
	if err := s.ReleaseLease(ctx, mb, "replica-a", a.Token); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseLease(ctx, mb, "replica-a", a.Token); err != nil {
		t.Fatalf("releasing twice: %v", err)
	}
	if _, err := s.RenewLease(ctx, mb, "replica-a", a.Token, time.Hour); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("renewing a released lease: %v, want ECONFLICT", err)
	}
	b := mustAcquire(t, s, mb, "replica-b", time.Hour)
	if b.Token != a.Token+1 {
		t.Fatalf("token after a release: %d, want %d", b.Token, a.Token+1)
	}
	log := leaseLog(t, s, mb)
	want := []store.LeaseAction{store.LeaseAcquired, store.LeaseReleased, store.LeaseAcquired}
	if len(log) != len(want) {
		t.Fatalf("lease log %+v, want %v", log, want)
	}
	for i, e := range log {
		if e.Action != want[i] {
			t.Fatalf("lease log %+v, want %v", log, want)
		}
	}
	if log[1].Holder != "replica-a" || log[2].Holder != "replica-b" || log[2].Token != b.Token {
		t.Fatalf("lease log %+v", log)
	}
}

func testLeaseTakeover(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	_, mb := leaseMailbox()
	a := mustAcquire(t, s, mb, "replica-a", 300*time.Millisecond)
	time.Sleep(400 * time.Millisecond)
	b := mustAcquire(t, s, mb, "replica-b", time.Minute)
	if b.Token != a.Token+1 {
		t.Fatalf("token after a takeover: %d, want %d", b.Token, a.Token+1)
	}
	if _, err := s.RenewLease(ctx, mb, "replica-a", a.Token, time.Minute); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("the old holder renewing after a takeover: %v, want ECONFLICT", err)
	}
	if err := s.ReleaseLease(ctx, mb, "replica-a", a.Token); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.AcquireLease(ctx, mb, "replica-c", time.Minute); ok {
		t.Fatal("the old holder's late release freed its successor's lease")
	}
	log := leaseLog(t, s, mb)
	if len(log) != 2 || log[1].Action != store.LeaseTakenOver || log[1].Holder != "replica-b" || log[1].PrevHolder != "replica-a" {
		t.Fatalf("lease log %+v: want an acquisition, then a takeover from replica-a", log)
	}
	if d := log[1].PrevExpiresAt.Sub(a.ExpiresAt); d < -time.Millisecond || d > time.Millisecond || log[1].At.Before(log[1].PrevExpiresAt) {
		t.Fatalf("takeover at %v of a lease expiring %v (acquired until %v)", log[1].At, log[1].PrevExpiresAt, a.ExpiresAt)
	}
}

// A replica restarted under the same name acquires the leases its earlier
// run still holds at once, with new tokens: the earlier run, were it still
// alive, can neither renew them nor move a checkpoint.
func testLeaseSameHolder(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	account, mb := leaseMailbox()
	old := mustAcquire(t, s, mb, "replica-a", time.Hour)
	cp := store.Checkpoint{Mailbox: account, Folder: "INBOX", UIDValidity: 7, LastUID: 10, Fence: old.Token}
	saveCheckpoint(t, s, cp)
	again := mustAcquire(t, s, mb, "replica-a", time.Minute)
	if again.Token != old.Token+1 {
		t.Fatalf("the same holder acquiring its live lease: token %d → %d, want %d", old.Token, again.Token, old.Token+1)
	}
	if _, err := s.RenewLease(ctx, mb, "replica-a", old.Token, time.Hour); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("renewing with the earlier run's token: %v, want ECONFLICT", err)
	}
	stale := cp
	stale.LastUID = 20
	if err := s.SaveCheckpoint(ctx, stale); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("a save with the earlier run's token: %v, want ECONFLICT", err)
	}
	if err := s.ReleaseLease(ctx, mb, "replica-a", old.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenewLease(ctx, mb, "replica-a", again.Token, time.Minute); err != nil {
		t.Fatalf("the earlier run's release freed the new run's lease: %v", err)
	}
	log := leaseLog(t, s, mb)
	if len(log) != 2 || log[1].Action != store.LeaseTakenOver || log[1].Holder != "replica-a" || log[1].PrevHolder != "replica-a" ||
		log[1].Token != again.Token || !log[1].At.Before(log[1].PrevExpiresAt) {
		t.Fatalf("lease log %+v: want an acquisition, then replica-a taking over its own live lease", log)
	}
}

func testLeaseFencing(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	account, mb := leaseMailbox()
	cp := store.Checkpoint{Mailbox: account, Folder: "INBOX", UIDValidity: 7, LastUID: 10}
	cp.Fence = 1
	if err := s.SaveCheckpoint(ctx, cp); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("a fenced save with no lease: %v, want ECONFLICT", err)
	}
	a := mustAcquire(t, s, mb, "replica-a", 300*time.Millisecond)
	cp.Fence = a.Token
	saveCheckpoint(t, s, cp)
	time.Sleep(400 * time.Millisecond)
	b := mustAcquire(t, s, mb, "replica-b", time.Minute)
	stale := cp
	stale.LastUID = 20
	if err := s.SaveCheckpoint(ctx, stale); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("a save with the token before the takeover: %v, want ECONFLICT", err)
	}
	if got := loadCheckpoint(t, s, account, "INBOX"); got.LastUID != 10 || got.Fence != 0 {
		t.Fatalf("after a refused save the checkpoint is %+v, want LastUID 10", got)
	}
	fresh := stale
	fresh.Fence = b.Token
	saveCheckpoint(t, s, fresh)
	if got := loadCheckpoint(t, s, account, "INBOX"); got.LastUID != 20 {
		t.Fatalf("the new holder's save: %+v, want LastUID 20", got)
	}
	if err := s.ReleaseLease(ctx, mb, "replica-b", b.Token); err != nil {
		t.Fatal(err)
	}
	fresh.LastUID = 30
	if err := s.SaveCheckpoint(ctx, fresh); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("a save after releasing: %v, want ECONFLICT", err)
	}
	// Without a fence, saves work as before (a single process, tools).
	fresh.Fence = 0
	saveCheckpoint(t, s, fresh)
}

func testLeaseConcurrent(t *testing.T, s LeaseStore) {
	_, mb := leaseMailbox()
	const n = 8
	var wg sync.WaitGroup
	won := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := "replica-" + string(rune('a'+i))
			_, ok, err := s.AcquireLease(context.Background(), mb, holder, time.Minute)
			if err != nil {
				t.Errorf("AcquireLease: %v", err)
			}
			if ok {
				won <- holder
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d concurrent acquisitions of a free mailbox: winners %v, want exactly one", n, winners)
	}
	if log := leaseLog(t, s, mb); len(log) != 1 || log[0].Holder != winners[0] {
		t.Fatalf("lease log %+v, want one acquisition by %s", log, winners[0])
	}
}

func testLeaseReplicas(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	a, b := "storetest-"+uuid.NewString(), "storetest-"+uuid.NewString()
	if err := s.Heartbeat(ctx, a, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, b, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	live := func() map[string]bool {
		t.Helper()
		rs, err := s.LiveReplicas(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, r := range rs {
			m[r] = true
		}
		return m
	}
	if m := live(); !m[a] || !m[b] {
		t.Fatalf("live replicas %v lack %s or %s", m, a, b)
	}
	time.Sleep(400 * time.Millisecond)
	if m := live(); !m[a] || m[b] {
		t.Fatalf("live replicas %v: want %s, not %s whose heartbeat ran out", m, a, b)
	}
	if err := s.Heartbeat(ctx, b, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(ctx, a); err != nil {
		t.Fatal(err)
	}
	if m := live(); m[a] || !m[b] {
		t.Fatalf("live replicas %v: want %s back, %s gone after leaving", m, b, a)
	}
}

func testLeaseInvalid(t *testing.T, s LeaseStore) {
	ctx := context.Background()
	_, mb := leaseMailbox()
	for _, c := range []struct {
		mailbox, holder string
		ttl             time.Duration
	}{{"", "a", time.Minute}, {mb, "", time.Minute}, {mb, "a", 0}} {
		if _, _, err := s.AcquireLease(ctx, c.mailbox, c.holder, c.ttl); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("AcquireLease(%q, %q, %s): %v, want EINVALID", c.mailbox, c.holder, c.ttl, err)
		}
	}
	if err := s.Heartbeat(ctx, "", time.Minute); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("Heartbeat with no replica: %v, want EINVALID", err)
	}
}
