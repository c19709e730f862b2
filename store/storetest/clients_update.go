package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

// set applies `/client set` style assignments, as a command handler would.
func set(fields ...string) func(*store.Client) error {
	return func(c *store.Client) error {
		for i := 0; i < len(fields); i += 2 {
			if err := store.SetField(c, fields[i], fields[i+1]); err != nil {
				return err
			}
		}
		return nil
	}
}

func testUpdate(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := FullClient("acme-grain", 5)
	mustCreate(t, s, c)

	start := time.Now()
	got, changes, err := s.UpdateClient(ctx, c.ID, "U0MANAGER",
		set("risk", "8", "stage", "dormant", "email.personal", "Jane <JANE@Home.Example>", "limit.loss", ""))
	end := time.Now()
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	wantChanges := []store.Change{
		{Field: "email.personal", Old: "jane5@mail.example", New: "jane@home.example"},
		{Field: "limit.loss", Old: "125000.55", New: ""},
		{Field: "risk", Old: "7", New: "8"},
		{Field: "stage", Old: "active", New: "dormant"},
	}
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("changes = %v, want %v", changes, wantChanges)
	}
	if got.Version != 2 {
		t.Errorf("Version = %d after one change, want 2", got.Version)
	}
	if got.Risk.Tolerance != 8 || got.Stage != store.Dormant || got.Risk.LossLimit != nil {
		t.Errorf("returned client lacks the change: risk %d stage %s loss limit %v", got.Risk.Tolerance, got.Stage, got.Risk.LossLimit)
	}
	assertTimeBetween(t, "UpdatedAt", got.UpdatedAt, start, end)
	assertTimeBetween(t, "StageChangedAt after a stage change", got.StageChangedAt, start, end)
	if !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Errorf("update changed identity: id %v created %v, want %v %v", got.ID, got.CreatedAt, c.ID, c.CreatedAt)
	}
	stored, err := s.Client(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSameClient(t, "stored after update", got, stored)
	if _, err := s.ClientByEmail(ctx, "jane5@mail.example"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("the replaced email still finds a client: %v", err)
	}
	if byNew, err := s.ClientByEmail(ctx, "jane@home.example"); err != nil || byNew.ID != c.ID {
		t.Errorf("the new email does not find the client: %v, %v", byNew, err)
	}

	trail, err := s.AuditTrail(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != len(wantChanges)+1 {
		t.Fatalf("audit trail has %d entries, want %d changes and the creation: %v", len(trail), len(wantChanges), trail)
	}
	var audited []store.Change
	for _, e := range trail[:len(wantChanges)] {
		if e.ClientID != c.ID || e.Actor != "U0MANAGER" {
			t.Errorf("audit entry %v: client %v actor %q, want %v U0MANAGER", e.Change, e.ClientID, e.Actor, c.ID)
		}
		assertTimeBetween(t, "audit entry "+e.Field, e.At, start, end)
		audited = append(audited, e.Change)
	}
	slices.SortFunc(audited, func(a, b store.Change) int { return strings.Compare(a.Field, b.Field) })
	if !slices.Equal(audited, wantChanges) {
		t.Errorf("audited %v, want %v", audited, wantChanges)
	}
	if last := trail[len(trail)-1]; last.Actor != "U0CREATOR" || last.Field != "handle" {
		t.Errorf("oldest audit entry = %+v, want the creation by U0CREATOR", last)
	}

	// A second change by someone else: newest first, limit honoured, the
	// stage date kept when the stage is not touched.
	again, changes, err := s.UpdateClient(ctx, c.ID, "U0JANEBROKER", set("risk", "3"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Change{{Field: "risk", Old: "8", New: "3"}}; !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if again.Version != 3 || !again.StageChangedAt.Equal(got.StageChangedAt) {
		t.Errorf("version %d, stage changed at %v; want 3 and %v", again.Version, again.StageChangedAt, got.StageChangedAt)
	}
	latest, err := s.AuditTrail(ctx, c.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 1 || latest[0].Actor != "U0JANEBROKER" || latest[0].Change != changes[0] {
		t.Errorf("AuditTrail(limit 1) = %v, want the risk change by U0JANEBROKER", latest)
	}
}

func testUpdateNoOp(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := FullClient("steady", 6)
	mustCreate(t, s, c)
	noOps := map[string]func(*store.Client) error{
		"nothing":       func(*store.Client) error { return nil },
		"same value":    set("risk", "7", "stage", "ACTIVE", "email.work", "JANE.DOE6@acme-grain.example"),
		"same tag":      set("tags", "high-value,frequent-trader"),
		"clock touched": func(c *store.Client) error { c.UpdatedAt = time.Now().Add(time.Hour); c.Version = 99; return nil },
	}
	for name, change := range noOps {
		got, changes, err := s.UpdateClient(ctx, c.ID, "U0BROKER", change)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(changes) != 0 {
			t.Errorf("%s: changes = %v, want none", name, changes)
		}
		assertSameClient(t, name+": returned client", c, got)
	}
	stored, err := s.Client(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSameClient(t, "stored after no-op updates", c, stored)
	if trail, err := s.AuditTrail(ctx, c.ID, 0); err != nil || len(trail) != 1 {
		t.Errorf("audit trail after no-op updates = %v, %v; want only the creation", trail, err)
	}
}

func testUpdateFailureChangesNothing(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := FullClient("careful", 7)
	mustCreate(t, s, c)
	errCancelled := errors.New("broker pressed cancel")
	failures := []struct {
		name   string
		change func(*store.Client) error
		check  func(t *testing.T, err error)
	}{
		{"change returns an error after editing in place", func(c *store.Client) error {
			c.Risk.Tolerance = 2
			c.Tags[0] = "mangled"
			c.Phones[0].Number = "+13125559999"
			*c.Risk.PositionLimit = 1
			return errCancelled
		}, func(t *testing.T, err error) {
			if !errors.Is(err, errCancelled) {
				t.Errorf("error = %v, want change's own error", err)
			}
		}},
		{"SetField rejects a value", set("risk", "5", "kyc.income", "lots"), func(t *testing.T, err error) {
			assertError(t, err, store.EINVALID, "kyc.income", "lots")
		}},
		{"result does not validate", set("stage", "active", "risk", "6", "timezone", "Mars/Olympus_Mons"), func(t *testing.T, err error) {
			assertError(t, err, store.EINVALID, "timezone", "Mars/Olympus_Mons")
		}},
		{"bad email", func(c *store.Client) error {
			c.Emails = append(c.Emails, store.Email{Kind: store.Home, Address: "@nowhere"})
			return nil
		}, func(t *testing.T, err error) {
			assertError(t, err, store.EINVALID, "email.home", "@nowhere")
		}},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			got, changes, err := s.UpdateClient(ctx, c.ID, "U0BROKER", f.change)
			if got != nil || changes != nil {
				t.Errorf("failed update returned %v, %v", got, changes)
			}
			f.check(t, err)
			assertUnchanged(t, s, c)
		})
	}
}

func testUpdateConflicts(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	a, b := FullClient("alpha", 10), FullClient("bravo", 11)
	mustCreate(t, s, a)
	mustCreate(t, s, b)
	tests := []struct {
		name     string
		change   func(*store.Client) error
		field    string
		mentions []string
	}{
		{"steal an email", set("email.work", "Alpha <JANE.DOE10@acme-grain.example>", "risk", "2"),
			"email.work", []string{"jane.doe10@acme-grain.example"}},
		{"steal an email as another kind", set("email.home", "jane10@mail.example"),
			"email.home", []string{"jane10@mail.example"}},
		{"steal a phone", set("phone.home", "(646) 555-0010"),
			"phone.home", []string{"+16465550010"}},
		{"take a handle", set("handle", "Alpha"),
			"handle", []string{"alpha"}},
		{"take an account", set("accounts", "ACC-0011, acc-0010"),
			"accounts", []string{"ACC-0010"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.UpdateClient(ctx, b.ID, "U0BROKER", tt.change)
			assertError(t, err, store.ECONFLICT, tt.field, tt.mentions...)
			assertHolder(t, err, a, tt.mentions[0])
			assertUnchanged(t, s, a)
			assertUnchanged(t, s, b)
			if owner, err := s.ClientByEmail(ctx, a.Emails[0].Address); err != nil || owner.ID != a.ID {
				t.Errorf("alpha's email now finds %v, %v", owner, err)
			}
		})
	}
	// Handing an address over works once its owner lets go of it.
	if _, _, err := s.UpdateClient(ctx, a.ID, "U0BROKER", set("email.personal", "")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateClient(ctx, b.ID, "U0BROKER", set("email.home", "jane10@mail.example")); err != nil {
		t.Fatalf("taking an address its owner gave up: %v", err)
	}
	if owner, err := s.ClientByEmail(ctx, "jane10@mail.example"); err != nil || owner.ID != b.ID {
		t.Errorf("the handed-over address finds %v, %v; want bravo", owner, err)
	}
	// So does an account number.
	if _, _, err := s.UpdateClient(ctx, a.ID, "U0BROKER", set("accounts", "ACC-0010-H")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateClient(ctx, b.ID, "U0BROKER", set("accounts", "ACC-0011,ACC-0010")); err != nil {
		t.Fatalf("taking an account its owner gave up: %v", err)
	}
	if owner, err := s.ClientByAccount(ctx, "ACC-0010"); err != nil || owner.ID != b.ID {
		t.Errorf("the handed-over account finds %v, %v; want bravo", owner, err)
	}
	if owner, err := s.ClientByAccount(ctx, "ACC-0010-H"); err != nil || owner.ID != a.ID {
		t.Errorf("alpha's remaining account finds %v, %v; want alpha", owner, err)
	}
}

func testConcurrentUpdates(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := &store.Client{Handle: "busy", Name: "Busy Client"}
	mustCreate(t, s, c)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, _, err := store.TagClient(ctx, s, c.ID, fmt.Sprintf("U%02d", i), []string{fmt.Sprintf("tag-%02d", i)}, nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent TagClient: %v", err)
		}
	}
	got, err := s.Client(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("tag-%02d", i))
	}
	tags := slices.Sorted(slices.Values(got.Tags))
	if !slices.Equal(tags, want) {
		t.Errorf("after %d concurrent tag changes, tags = %v; want all of %v", n, tags, want)
	}
	if got.Version != n+1 {
		t.Errorf("Version = %d, want %d", got.Version, n+1)
	}
	trail, err := s.AuditTrail(ctx, c.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != n+1 {
		t.Errorf("audit trail has %d entries, want %d tag changes and the creation", len(trail), n)
	}
}

func testTagClient(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := FullClient("tagged", 12) // tags high-value, frequent-trader
	mustCreate(t, s, c)

	got, changes, err := store.TagClient(ctx, s, c.ID, "U0BROKER", []string{"+VIP", "#needs-frequent-updates", "high-value"}, []string{"frequent-trader"})
	if err != nil {
		t.Fatal(err)
	}
	wantTags := []string{"high-value", "vip", "needs-frequent-updates"}
	if !slices.Equal(got.Tags, wantTags) {
		t.Errorf("tags = %v, want %v", got.Tags, wantTags)
	}
	want := []store.Change{{Field: "tags", Old: "high-value,frequent-trader", New: "high-value,vip,needs-frequent-updates"}}
	if !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	// Tags are searchable as soon as they are set, and not after removal.
	assertFound(t, s, store.ClientFilter{Tag: "vip"}, []string{"tagged"})
	assertFound(t, s, store.ClientFilter{Tag: "frequent-trader"}, nil)

	if _, changes, err := store.TagClient(ctx, s, c.ID, "U0BROKER", []string{"vip"}, []string{"never-had-it"}); err != nil || len(changes) != 0 {
		t.Errorf("re-adding a tag: changes %v, %v; want none", changes, err)
	}
	_, _, err = store.TagClient(ctx, s, c.ID, "U0BROKER", []string{"ok", "not a tag!"}, nil)
	assertError(t, err, store.EINVALID, "tags", "not a tag!")
	assertUnchanged(t, s, got)

	if _, _, err := store.TagClient(ctx, s, c.ID, "U0BROKER", nil, []string{"VIP"}); err != nil {
		t.Fatal(err)
	}
	assertFound(t, s, store.ClientFilter{Tag: "vip"}, nil)
}

// assertUnchanged checks that the stored client is still want, and that its
// contact details still find it.
func assertUnchanged(t *testing.T, s store.ClientStore, want *store.Client) {
	t.Helper()
	ctx := t.Context()
	got, err := s.Client(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSameClient(t, "after a failed update", want, got)
	for _, p := range want.Phones {
		if byPhone, err := s.ClientByPhone(ctx, p.Number); err != nil || byPhone.ID != want.ID {
			t.Errorf("phone %s finds %v, %v; want %s", p.Number, byPhone, err, want.Handle)
		}
	}
}
