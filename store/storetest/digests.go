package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunDigestStoreTests runs the digest store contract against a backend.
// newStore may return a shared store: the tests use owners of their own.
func RunDigestStoreTests(t *testing.T, newStore func(t *testing.T) store.DigestStore) {
	t.Run("subscriptions are their owners'", func(t *testing.T) { testDigestOwners(t, newStore(t)) })
	t.Run("one claim per period", func(t *testing.T) { testDigestClaim(t, newStore(t)) })
}

func digestSub(owner, desk, channel string, f store.DigestFrequency, at int) *store.DigestSubscription {
	return &store.DigestSubscription{Owner: owner, Desk: desk, Channel: channel, Frequency: f, At: at, TimeZone: "America/Chicago"}
}

func testDigestOwners(t *testing.T, s store.DigestStore) {
	ctx := t.Context()
	ann, bob := "UANN"+uuid.NewString()[:6], "UBOB"+uuid.NewString()[:6]
	a := digestSub(ann, "Grains", "C1", store.DigestDaily, 8*60)
	created, err := s.SaveDigestSubscription(ctx, a)
	if err != nil || !created || a.ID == uuid.Nil || a.Desk != "grains" {
		t.Fatalf("save: created %v, id %v, desk %q, %v", created, a.ID, a.Desk, err)
	}
	// Another manager's subscription to the same desk and channel is theirs.
	b := digestSub(bob, "grains", "C1", store.DigestWeekly, 7*60)
	if created, err := s.SaveDigestSubscription(ctx, b); err != nil || !created || b.ID == a.ID {
		t.Fatalf("second owner: created %v, same id %v, %v", created, b.ID == a.ID, err)
	}
	// The owner subscribing again changes their own.
	a2 := digestSub(ann, "grains", "C1", store.DigestWeekly, 9*60+30)
	if created, err := s.SaveDigestSubscription(ctx, a2); err != nil || created || a2.ID != a.ID {
		t.Fatalf("resubscribe: created %v, id %v want %v, %v", created, a2.ID, a.ID, err)
	}
	got, err := s.DigestSubscriptions(ctx, store.DigestFilter{Owner: ann})
	if err != nil || len(got) != 1 || got[0].Frequency != store.DigestWeekly || got[0].At != 9*60+30 || got[0].TimeZone != "America/Chicago" {
		t.Fatalf("ann's subscriptions: %+v, %v", got, err)
	}
	got, err = s.DigestSubscriptions(ctx, store.DigestFilter{Owner: bob, Desks: []string{"grains"}})
	if err != nil || len(got) != 1 || got[0].Frequency != store.DigestWeekly || got[0].At != 7*60 {
		t.Fatalf("bob's subscription changed by ann: %+v, %v", got, err)
	}
	if _, err := s.SaveDigestSubscription(ctx, digestSub(ann, "grains", "C1", "hourly", 0)); store.ErrorCode(err) != store.EINVALID {
		t.Fatalf("hourly: %v, want EINVALID", err)
	}
	if _, err := s.SaveDigestSubscription(ctx, digestSub(ann, "grains", "C2", store.DigestDaily, 24*60)); store.ErrorCode(err) != store.EINVALID {
		t.Fatalf("24:00: %v, want EINVALID", err)
	}
	if _, err := s.SaveDigestSubscription(ctx, digestSub(ann, "energy", "C2", store.DigestDaily, 0)); err != nil {
		t.Fatal(err)
	}
	gone, err := s.DeleteDigestSubscriptions(ctx, ann, "grains", "")
	if err != nil || len(gone) != 1 || gone[0].ID != a.ID {
		t.Fatalf("delete: %+v, %v", gone, err)
	}
	if got, _ := s.DigestSubscriptions(ctx, store.DigestFilter{Owner: ann}); len(got) != 1 || got[0].Desk != "energy" {
		t.Fatalf("after delete: %+v", got)
	}
	if got, _ := s.DigestSubscriptions(ctx, store.DigestFilter{Owner: bob}); len(got) != 1 {
		t.Fatalf("bob's went with ann's: %+v", got)
	}
}

func testDigestClaim(t *testing.T, s store.DigestStore) {
	ctx := t.Context()
	sub := digestSub("UCLM"+uuid.NewString()[:6], "grains", "C1", store.DigestDaily, 8*60)
	if _, err := s.SaveDigestSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 14, 13, 0, 0, 0, time.UTC)
	const period = "daily:2027-03-14"
	var mu sync.Mutex
	var wg sync.WaitGroup
	claims := 0
	for i := range 8 {
		wg.Go(func() {
			_, ok, err := s.ClaimDigestRun(ctx, sub.ID, period, now, "replica-"+string(rune('a'+i)), now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				claims++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if claims != 1 {
		t.Fatalf("%d concurrent claims won, want 1", claims)
	}
	run, ok, err := s.ClaimDigestRun(ctx, sub.ID, period, now, "late", now.Add(30*time.Second), time.Minute)
	if err != nil || ok || run.State != store.DigestClaimed {
		t.Fatalf("claim under a live lease: %v %+v %v", ok, run, err)
	}
	holder := run.LeaseOwner
	if err := s.MarkDigestPosted(ctx, sub.ID, period, "late", "C1", "1.1", now); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("mark by a non-holder: %v, want ECONFLICT", err)
	}
	// The holder dies; after its lease another replica takes over.
	run, ok, err = s.ClaimDigestRun(ctx, sub.ID, period, now, "b", now.Add(2*time.Minute), time.Minute)
	if err != nil || !ok || run.Attempts != 2 || run.LeaseOwner != "b" {
		t.Fatalf("takeover: %v %+v %v", ok, run, err)
	}
	if err := s.MarkDigestPosted(ctx, sub.ID, period, holder, "C1", "1.1", now); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("mark by the dead holder: %v, want ECONFLICT", err)
	}
	if err := s.RetryDigestRun(ctx, sub.ID, period, "b", now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ClaimDigestRun(ctx, sub.ID, period, now, "c", now.Add(150*time.Second), time.Minute); ok {
		t.Fatal("claimed before the retry time")
	}
	if _, ok, err := s.ClaimDigestRun(ctx, sub.ID, period, now, "c", now.Add(3*time.Minute), time.Minute); !ok || err != nil {
		t.Fatalf("claim at the retry time: %v %v", ok, err)
	}
	at := now.Add(3 * time.Minute).Truncate(time.Microsecond)
	if err := s.MarkDigestPosted(ctx, sub.ID, period, "c", "C1", "1700000000.000100", at); err != nil {
		t.Fatal(err)
	}
	run, ok, err = s.ClaimDigestRun(ctx, sub.ID, period, now, "d", now.Add(time.Hour), time.Minute)
	if err != nil || ok || run.State != store.DigestPosted || run.MessageTS != "1700000000.000100" || !run.PostedAt.Equal(at) {
		t.Fatalf("claim of a posted run: %v %+v %v", ok, run, err)
	}
	if _, ok, err := s.ClaimDigestRun(ctx, sub.ID, "daily:2027-03-15", now.Add(24*time.Hour), "d", now.Add(24*time.Hour), time.Minute); !ok || err != nil {
		t.Fatalf("next period: %v %v", ok, err)
	}
	runs, err := s.DigestRuns(ctx, sub.ID, 0)
	if err != nil || len(runs) != 2 || runs[0].Period != "daily:2027-03-15" {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	if _, _, err := s.ClaimDigestRun(ctx, uuid.New(), period, now, "d", now, time.Minute); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("unknown subscription: %v, want ENOTFOUND", err)
	}
	if _, err := s.DeleteDigestSubscriptions(ctx, sub.Owner, "", ""); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.DigestRuns(ctx, sub.ID, 0); len(runs) != 0 {
		t.Fatalf("runs outlived their subscription: %+v", runs)
	}
}

// DigestIndexBackend keeps clients and the digest's event index.
type DigestIndexBackend interface {
	store.ClientStore
	store.DigestEventIndex
}

// RunDigestIndexTests runs the digest event index contract against a backend.
func RunDigestIndexTests(t *testing.T, s DigestIndexBackend) {
	ctx := t.Context()
	sfx := uuid.NewString()[:8]
	var cs []*store.Client
	for i, desk := range []string{"grains-" + sfx, "energy-" + sfx} {
		c := SimpleClient(9000 + i)
		c.Handle, c.Team = fmt.Sprintf("c%d-%s", i, sfx), desk
		c.Emails, c.Phones = []store.Email{{Kind: store.Work, Address: c.Handle + "@example.com"}}, nil
		if err := s.CreateClient(ctx, c, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	day := time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	ev := func(c *store.Client, at time.Time, summary string) *store.Event {
		e := &store.Event{ClientID: c.ID, Time: at, Kind: store.KindEmail, Source: store.SourceEmail, SourceID: uuid.NewString(), Summary: summary,
			Attrs: store.Attrs{Email: &store.EmailAttrs{Direction: store.Inbound, Subject: summary}, Extra: map[string]string{"k": "v"}}}
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
		return e
	}
	late, early, before, other := ev(cs[0], day.Add(5*time.Hour), "late"), ev(cs[0], day.Add(time.Hour), "early"), ev(cs[0], day.Add(-time.Minute), "before"), ev(cs[1], day.Add(time.Hour), "other desk")
	if err := s.IndexDigestEvents(ctx, []*store.Event{late, early, before, other}); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexDigestEvents(ctx, []*store.Event{late}); err != nil {
		t.Fatalf("indexing again: %v", err)
	}
	if err := s.IndexDigestEvents(ctx, []*store.Event{{ClientID: cs[0].ID}}); store.ErrorCode(err) != store.EINVALID {
		t.Fatalf("an event without an id: %v, want EINVALID", err)
	}
	got, err := s.DigestEvents(ctx, cs[0].Team, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != early.ID || got[1].ID != late.ID || got[1].Attrs.Email.Direction != store.Inbound ||
		got[1].Attrs.Extra["k"] != "v" || !got[1].Time.Equal(late.Time) || got[1].ClientID != cs[0].ID {
		t.Fatalf("the desk's day: %+v", got)
	}
}
