package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunWorkflowStoreTests runs the workflow contract against one backend.
// Subtests name their workflows with a random suffix, so they may share a
// store.
func RunWorkflowStoreTests(t *testing.T, newStore func(t *testing.T) store.WorkflowStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.WorkflowStore)
	}{
		{"PutIsIdempotent", testWorkflowPut},
		{"NamesAreOneDesks", testWorkflowDesks},
		{"ListAndDelete", testWorkflowList},
		{"FiringOncePerKey", testWorkflowFiring},
		{"ConcurrentBeginsOneFirst", testWorkflowFiringRace},
		{"DueFirings", testWorkflowDue},
		{"FiringsInOneCall", testWorkflowFiringBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var workflowEpoch = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func newWorkflow(name, desk string) *store.Workflow {
	return &store.Workflow{Name: name, Desk: desk, Definition: `when fill then remind "Call {{.Name}}"`, Enabled: true,
		UpdatedBy: "U1", UpdatedAt: workflowEpoch}
}

func testWorkflowPut(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	sfx := randSuffix()
	w := newWorkflow("Fill-"+sfx, "desk-"+sfx)
	changed, err := s.PutWorkflow(ctx, w)
	if err != nil || !changed {
		t.Fatalf("create: %v %v", changed, err)
	}
	if w.Name != "fill-"+sfx || w.CreatedBy != "U1" || !w.CreatedAt.Equal(workflowEpoch) {
		t.Errorf("created: %+v", w)
	}
	// The same again, later and by someone else: nothing changes.
	again := newWorkflow("fill-"+sfx, "desk-"+sfx)
	again.UpdatedBy, again.UpdatedAt = "U2", workflowEpoch.Add(time.Hour)
	if changed, err := s.PutWorkflow(ctx, again); err != nil || changed {
		t.Fatalf("the same again: changed %v, %v", changed, err)
	}
	got, err := s.Workflow(ctx, "FILL-"+sfx)
	if err != nil {
		t.Fatal(err)
	}
	if got.UpdatedBy != "U1" || !got.UpdatedAt.Equal(workflowEpoch) || !got.Enabled || got.CooldownOrDefault() != store.DefaultWorkflowCooldown {
		t.Errorf("after the same again: %+v", got)
	}
	// A change: kept who created it.
	ch := newWorkflow("fill-"+sfx, "desk-"+sfx)
	ch.Definition, ch.Enabled, ch.Cooldown = `when fill then tag vip`, false, 2*time.Hour
	ch.UpdatedBy, ch.UpdatedAt = "U2", workflowEpoch.Add(2*time.Hour)
	if changed, err := s.PutWorkflow(ctx, ch); err != nil || !changed {
		t.Fatalf("change: %v %v", changed, err)
	}
	got, err = s.Workflow(ctx, "fill-"+sfx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Definition != `when fill then tag vip` || got.Enabled || got.Cooldown != 2*time.Hour || got.CreatedBy != "U1" ||
		!got.CreatedAt.Equal(workflowEpoch) || got.UpdatedBy != "U2" || !got.UpdatedAt.Equal(workflowEpoch.Add(2*time.Hour)) {
		t.Errorf("after a change: %+v", got)
	}
	for _, bad := range []*store.Workflow{
		{Name: "no spaces", Desk: "d", Definition: "when fill then tag x"},
		{Name: "ok-" + sfx, Desk: "", Definition: "when fill then tag x"},
		{Name: "ok-" + sfx, Desk: "d", Definition: " "},
		{Name: "ok-" + sfx, Desk: "d", Definition: "when fill then tag x", Cooldown: time.Millisecond},
	} {
		if _, err := s.PutWorkflow(ctx, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", bad, err)
		}
	}
	if _, err := s.Workflow(ctx, "none-"+sfx); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("unknown workflow: %v", err)
	}
}

func testWorkflowDesks(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	sfx := randSuffix()
	if _, err := s.PutWorkflow(ctx, newWorkflow("w-"+sfx, "a-"+sfx)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutWorkflow(ctx, newWorkflow("w-"+sfx, "b-"+sfx)); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("another desk's name: %v, want ECONFLICT", err)
	}
	if got, err := s.Workflow(ctx, "w-"+sfx); err != nil || got.Desk != "a-"+sfx {
		t.Errorf("after the conflict: %+v %v", got, err)
	}
}

func testWorkflowList(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	sfx := randSuffix()
	for _, w := range []*store.Workflow{newWorkflow("b-"+sfx, "x-"+sfx), newWorkflow("a-"+sfx, "x-"+sfx), newWorkflow("c-"+sfx, "y-"+sfx)} {
		if _, err := s.PutWorkflow(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	names := func(desks []string) []string {
		ws, err := s.Workflows(ctx, desks)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, w := range ws {
			if len(w.Name) > len(sfx) && w.Name[len(w.Name)-len(sfx):] == sfx {
				out = append(out, w.Name[:1])
			}
		}
		return out
	}
	if got := names([]string{"x-" + sfx}); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("desk x: %v", got)
	}
	if got := names(nil); len(got) != 3 {
		t.Errorf("every desk: %v", got)
	}
	if got := names([]string{}); len(got) != 0 {
		t.Errorf("no desk: %v", got)
	}
	client := uuid.New()
	if _, _, err := beginOne(ctx, s, &store.WorkflowFiring{Workflow: "a-" + sfx, ClientID: client, Key: "k", FiredAt: workflowEpoch}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWorkflow(ctx, "a-"+sfx); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWorkflow(ctx, "a-"+sfx); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("deleted twice: %v", err)
	}
	// Its firings went with it.
	if last, err := s.LastWorkflowFiring(ctx, "a-"+sfx, client); err != nil || !last.IsZero() {
		t.Errorf("firings after delete: %v %v", last, err)
	}
}

func testWorkflowFiring(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	name, client, event := "f-"+randSuffix(), uuid.New(), uuid.New()
	if last, err := s.LastWorkflowFiring(ctx, name, client); err != nil || !last.IsZero() {
		t.Fatalf("never fired: %v %v", last, err)
	}
	f := &store.WorkflowFiring{Workflow: name, ClientID: client, Key: event.String(), EventID: event, FiredAt: workflowEpoch, Due: workflowEpoch.Add(2 * time.Hour)}
	got, first, err := beginOne(ctx, s, f)
	if err != nil || !first || got.Done() || !got.Due.Equal(workflowEpoch.Add(2*time.Hour)) {
		t.Fatalf("first begin: %+v %v %v", got, first, err)
	}
	// Delivered again later: the first firing stands.
	again := *f
	again.FiredAt, again.Due = workflowEpoch.Add(time.Minute), workflowEpoch.Add(time.Minute)
	got, first, err = beginOne(ctx, s, &again)
	if err != nil || first || !got.FiredAt.Equal(workflowEpoch) || got.EventID != event || got.Done() {
		t.Fatalf("second begin: %+v %v %v", got, first, err)
	}
	if err := finishOne(ctx, s, name, client, f.Key, workflowEpoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := finishOne(ctx, s, name, client, f.Key, workflowEpoch.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _, err = beginOne(ctx, s, &again)
	if err != nil || !got.DoneAt.Equal(workflowEpoch.Add(time.Hour)) {
		t.Errorf("after finishing twice: %+v %v", got, err)
	}
	later := &store.WorkflowFiring{Workflow: name, ClientID: client, Key: "quiet:x", FiredAt: workflowEpoch.Add(5 * time.Hour)}
	if _, _, err := beginOne(ctx, s, later); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastWorkflowFiring(ctx, name, client); err != nil || !last.Equal(workflowEpoch.Add(5*time.Hour)) {
		t.Errorf("last firing: %v %v", last, err)
	}
	if last, err := s.LastWorkflowFiring(ctx, name, uuid.New()); err != nil || !last.IsZero() {
		t.Errorf("last firing on another client: %v %v", last, err)
	}
	if _, _, err := beginOne(ctx, s, &store.WorkflowFiring{Workflow: name, ClientID: client, FiredAt: workflowEpoch}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("no key: %v", err)
	}
}

func testWorkflowFiringRace(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	name, client := "r-"+randSuffix(), uuid.New()
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, first, err := beginOne(ctx, s, &store.WorkflowFiring{Workflow: name, ClientID: client, Key: "e", FiredAt: workflowEpoch.Add(time.Duration(i) * time.Second)})
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Errorf("%d begins were first, want 1", n)
	}
}

func testWorkflowDue(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	name := "d-" + randSuffix()
	c1, c2, c3 := uuid.New(), uuid.New(), uuid.New()
	for _, f := range []*store.WorkflowFiring{
		{Workflow: name, ClientID: c1, Key: "a", FiredAt: workflowEpoch},                                    // due now
		{Workflow: name, ClientID: c2, Key: "b", FiredAt: workflowEpoch, Due: workflowEpoch.Add(time.Hour)}, // due later
		{Workflow: name, ClientID: c3, Key: "c", FiredAt: workflowEpoch},                                    // done
	} {
		if _, _, err := beginOne(ctx, s, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := finishOne(ctx, s, name, c3, "c", workflowEpoch); err != nil {
		t.Fatal(err)
	}
	due := func(at time.Time) []string {
		fs, err := s.DueWorkflowFirings(ctx, at, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, f := range fs {
			if f.Workflow == name {
				keys = append(keys, f.Key)
			}
		}
		return keys
	}
	if got := due(workflowEpoch.Add(time.Minute)); len(got) != 1 || got[0] != "a" {
		t.Errorf("due at +1m: %v", got)
	}
	if got := due(workflowEpoch.Add(time.Hour)); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("due at +1h: %v", got)
	}
}

func beginOne(ctx context.Context, s store.WorkflowStore, f *store.WorkflowFiring) (*store.WorkflowFiring, bool, error) {
	got, first, err := s.BeginWorkflowFirings(ctx, f)
	if err != nil {
		return nil, false, err
	}
	return got[0], first[0], nil
}

func finishOne(ctx context.Context, s store.WorkflowStore, workflow string, client uuid.UUID, key string, at time.Time) error {
	return s.FinishWorkflowFirings(ctx, at, &store.WorkflowFiring{Workflow: workflow, ClientID: client, Key: key})
}

// Several firings begin in one call: those recorded already are returned
// as stored, a key given twice is first once.
func testWorkflowFiringBatch(t *testing.T, s store.WorkflowStore) {
	ctx := t.Context()
	name, client := "b-"+randSuffix(), uuid.New()
	old := &store.WorkflowFiring{Workflow: name, ClientID: client, Key: "old", FiredAt: workflowEpoch}
	if _, _, err := beginOne(ctx, s, old); err != nil {
		t.Fatal(err)
	}
	later := workflowEpoch.Add(time.Hour)
	got, first, err := s.BeginWorkflowFirings(ctx,
		&store.WorkflowFiring{Workflow: name, ClientID: client, Key: "new", FiredAt: later},
		&store.WorkflowFiring{Workflow: name, ClientID: client, Key: "old", FiredAt: later},
		&store.WorkflowFiring{Workflow: name, ClientID: uuid.New(), Key: "new", FiredAt: later})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !first[0] || first[1] || !first[2] || !got[1].FiredAt.Equal(workflowEpoch) || got[1].Key != "old" {
		t.Errorf("batch: %v %+v", first, got)
	}
	if err := s.FinishWorkflowFirings(ctx, later, got...); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueWorkflowFirings(ctx, later.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range due {
		if f.Workflow == name {
			t.Errorf("still due after finishing: %+v", f)
		}
	}
	if err := s.FinishWorkflowFirings(ctx, later, &store.WorkflowFiring{Workflow: name, ClientID: client, Key: "never"}); err != nil {
		t.Errorf("finishing what never began: %v", err)
	}
}
