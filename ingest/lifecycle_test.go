package ingest_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/segment"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

type lifecycleStore interface {
	store.ClientStore
	store.TradeStore
	store.ContactStore
	store.StatsReader
	store.TeamStore
	segment.Matcher
}

func TestLifecycleEmbedded(t *testing.T) {
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	testLifecycle(t, db, db.Timeline())
	testDeskDormantAfter(t, db, db.Timeline())
}

func TestLifecyclePostgres(t *testing.T) {
	pg := backendtest.Postgres(t)
	tl, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	testLifecycle(t, pg, tl.Timeline())
	testDeskDormantAfter(t, pg, tl.Timeline())
}

// Stages move by rule as fills, contacts and time come: first fill, 90
// quiet days, activity while dormant; each move once, however many sweeps
// run at once or again, with its rule on the timeline and in the audit.
func testLifecycle(t *testing.T, db lifecycleStore, tl store.TimelineStore) {
	ctx := context.Background()
	base := time.Now().UTC()
	now := base
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	day := 24 * time.Hour
	lc := &ingest.Lifecycle{Catalogue: store.DefaultCatalogue(), Clients: db, Segments: db, Stats: db, Recorder: &ingest.Recorder{Timeline: tl}, Now: clock}
	sfx := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	ids := map[string]uuid.UUID{}
	for _, c := range []struct {
		name  string
		stage store.Stage
	}{{"newco", store.Onboarding}, {"maybe", store.Prospect}, {"quiet", store.Active}, {"gone", store.Closed}} {
		cl := &store.Client{Handle: c.name + "-" + sfx, Name: c.name, Kind: store.Entity, Team: "desk-" + sfx, Broker: "U1", Stage: c.stage}
		if err := db.CreateClient(ctx, cl, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		ids[c.name] = cl.ID
	}
	stage := func(name string) store.Stage {
		c, err := db.Client(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		return c.Stage
	}
	sweep := func(want ...string) {
		t.Helper()
		done, err := lc.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range done {
			if strings.HasSuffix(tr.Handle, sfx) {
				got = append(got, strings.TrimSuffix(tr.Handle, "-"+sfx)+":"+string(tr.From)+">"+string(tr.To))
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("sweep at +%v: %v, want %v", now.Sub(base).Round(time.Hour), got, want)
		}
	}
	if _, err := db.RecordFill(ctx, store.Fill{EventID: uuid.New(), ClientID: ids["newco"], At: base.Add(-time.Hour), Commodity: "corn", Side: "buy", Quantity: 1, Price: 4}); err != nil {
		t.Fatal(err)
	}
	sweep("newco:onboarding>active")
	sweep() // nothing twice
	// 91 days of nothing (the server down all along): one sweep catches up,
	// and two replicas sweeping at once move each client once.
	set(base.Add(91 * day))
	var wg sync.WaitGroup
	var moves []ingest.Transition
	var mmu sync.Mutex
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := lc.Sweep(ctx)
			if err != nil {
				t.Error(err)
			}
			mmu.Lock()
			for _, tr := range done {
				if strings.HasSuffix(tr.Handle, sfx) {
					moves = append(moves, tr)
				}
			}
			mmu.Unlock()
		}()
	}
	wg.Wait()
	if len(moves) != 2 || stage("newco") != store.Dormant || stage("quiet") != store.Dormant || stage("gone") != store.Closed || stage("maybe") != store.Prospect {
		t.Errorf("after 91 quiet days: %+v; stages %s %s %s %s", moves, stage("newco"), stage("quiet"), stage("gone"), stage("maybe"))
	}
	sweep()
	// An email wakes newco; quiet stays dormant; a prospect's first fill.
	if _, err := db.RecordContacts(ctx, store.Contact{EventID: uuid.New(), ClientID: ids["newco"], At: base.Add(92 * day), Kind: store.KindEmail, Direction: store.Inbound}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordFill(ctx, store.Fill{EventID: uuid.New(), ClientID: ids["maybe"], At: base.Add(92 * day), Commodity: "wti", Side: "buy", Quantity: 1, Price: 70}); err != nil {
		t.Fatal(err)
	}
	set(base.Add(92*day + time.Hour))
	sweep("maybe:prospect>active", "newco:dormant>active")
	sweep()
	page, err := tl.Events(ctx, ids["newco"], store.EventQuery{Kinds: []store.Kind{store.KindEvent}})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	var stages []string
	for _, e := range page.Events {
		summaries = append(summaries, e.Summary)
		// Each move carries the stage_change signal with its new stage,
		// and the rule that made it.
		if e.Attrs.Signal() == store.SignalStageChange && e.Attrs.Extra["rule"] != "" {
			stages = append(stages, e.Attrs.Extra["stage_from"]+">"+e.Attrs.Extra["stage"])
		}
	}
	if got := strings.Join(stages, " "); got != "dormant>active active>dormant onboarding>active" {
		t.Errorf("stage_change signals on newco's timeline: %q", got)
	}
	want := []string{
		"stage dormant → active by rule: activity while dormant",
		"stage active → dormant by rule: no fill and no real contact in 90 days",
		"stage onboarding → active by rule: first fill",
	}
	if strings.Join(summaries, "\n") != strings.Join(want, "\n") {
		t.Errorf("newco's timeline:\n%s\nwant\n%s", strings.Join(summaries, "\n"), strings.Join(want, "\n"))
	}
	audit, err := db.AuditTrail(ctx, ids["newco"], 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) < 3 || audit[0].Actor != ingest.LifecycleActor || audit[0].Field != "stage" {
		t.Errorf("audit: %+v", audit)
	}
}

// Each desk's dormant-after holds for its own clients: a desk at 30 days,
// one at 120, and one on the server's default of 90.
func testDeskDormantAfter(t *testing.T, db lifecycleStore, tl store.TimelineStore) {
	ctx := context.Background()
	base := time.Now().UTC()
	now := base
	day := 24 * time.Hour
	lc := &ingest.Lifecycle{Catalogue: store.DefaultCatalogue(), Clients: db, Segments: db, Stats: db, Desks: db, Recorder: &ingest.Recorder{Timeline: tl},
		Now: func() time.Time { return now }}
	sfx := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	handles := map[string]string{}
	for _, desk := range []string{"fast", "slow", "plain"} {
		cl := &store.Client{Handle: desk + "-" + sfx, Name: desk, Kind: store.Entity, Team: desk + "-" + sfx, Broker: "U1", Stage: store.Active}
		if err := db.CreateClient(ctx, cl, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		handles[cl.Handle] = desk
	}
	for desk, days := range map[string]int{"fast": 30, "slow": 120} {
		if err := db.SetDeskLifecycle(ctx, store.DeskLifecycle{Desk: desk + "-" + sfx, DormantAfterDays: days, UpdatedBy: "UADMIN"}); err != nil {
			t.Fatal(err)
		}
	}
	sweep := func(at time.Duration, want ...string) {
		t.Helper()
		now = base.Add(at)
		done, err := lc.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range done {
			if desk, ok := handles[tr.Handle]; ok {
				got = append(got, desk+":"+tr.Rule)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("sweep at +%v: %q, want %q", at, got, want)
		}
	}
	sweep(29 * day)
	sweep(31*day, "fast:no fill and no real contact in 30 days")
	sweep(89 * day)
	sweep(91*day, "plain:no fill and no real contact in 90 days")
	sweep(119 * day)
	sweep(121*day, "slow:no fill and no real contact in 120 days")
}
