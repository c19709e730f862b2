package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestOnceStore(t *testing.T) {
	storetest.RunOnceStoreTests(t, func(t *testing.T, now func() time.Time) store.OnceStore {
		db := open(t)
		db.SetClock(now)
		return db
	})
}

// Expired keys leave the file: done ones after the retention, leases of
// crashed holders once they run out.
func TestOnceKeysArePurged(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	c := storetest.NewClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	db.SetClock(c.Now)
	for _, k := range []string{"slack:event:Ev1", "slack:event:Ev2"} {
		if _, err := db.Claim(ctx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Done(ctx, "slack:event:Ev1"); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM once_keys`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	c.Advance(2 * time.Minute) // Ev2's lease is over
	if _, err := db.Claim(ctx, "slack:event:Ev3", time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d keys after the lease ran out, want 2 (Ev1 done, Ev3 claimed)", n)
	}
	c.Advance(store.OnceRetention)
	if _, err := db.Claim(ctx, "slack:event:Ev4", time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d keys after the retention, want 1 (Ev4)", n)
	}
}
