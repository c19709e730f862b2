package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// TeamBackend is what the desk and channel-link suite needs of a backend:
// desks, links, and clients to link channels to.
type TeamBackend interface {
	store.TeamStore
	store.LinkStore
	store.ClientStore
}

// RunTeamStoreTests runs the TeamStore and LinkStore contract against one
// backend. Subtests work on desks, users and channels of their own, so a
// store may be shared between them.
func RunTeamStoreTests(t *testing.T, newStore func(t *testing.T) TeamBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, TeamBackend)
	}{
		{"MembersAndHistory", testMembersAndHistory},
		{"InvalidMembersRefused", testInvalidMembers},
		{"RemoveFromEveryDesk", testRemoveMember},
		{"ChannelLinks", testChannelLinks},
		{"DeskLifecycle", testDeskLifecycle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// ids returns a desk name and Slack ids no other subtest or run uses.
func ids() (desk string, user func(string) string) {
	sfx := strings.ToUpper(strings.ReplaceAll(uuid.NewString()[:8], "-", ""))
	return "desk-" + strings.ToLower(sfx), func(role string) string { return "U" + role + sfx }
}

func testMembersAndHistory(t *testing.T, s TeamBackend) {
	ctx := t.Context()
	desk, user := ids()
	jane, omar, admin := user("JANE"), user("OMAR"), user("ADMIN")
	add := func(who string, role store.Role, deskName string) {
		t.Helper()
		if err := s.AddMember(ctx, store.Member{SlackID: who, Desk: deskName, Role: role, AddedBy: admin}); err != nil {
			t.Fatalf("AddMember(%s, %s, %s): %v", who, deskName, role, err)
		}
	}
	add(jane, store.RoleBroker, strings.ToUpper(desk)) // desk names are normalised
	add(omar, store.RoleBroker, desk)
	add(jane, store.RoleBroker, desk) // the same again: nothing changes
	add(jane, store.RoleManager, desk)

	ms, err := s.Members(ctx, desk)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]store.Role{}
	for _, m := range ms {
		roles[m.SlackID] = m.Role
		if m.Desk != desk {
			t.Errorf("member %s listed on desk %q, want %q", m.SlackID, m.Desk, desk)
		}
	}
	if len(ms) != 2 || roles[jane] != store.RoleManager || roles[omar] != store.RoleBroker {
		t.Errorf("members %+v, want jane manager and omar broker", ms)
	}
	mine, err := s.Memberships(ctx, jane)
	if err != nil || len(mine) != 1 || mine[0].Desk != desk || mine[0].AddedBy != admin {
		t.Errorf("jane's memberships %+v %v", mine, err)
	}

	hist, err := s.DeskHistory(ctx, desk, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{jane: "jane", omar: "omar"}
	var got []string
	for _, h := range hist {
		got = append(got, fmt.Sprintf("%s:%s>%s", name[h.SlackID], h.OldRole, h.NewRole))
		if h.Actor != admin || h.Desk != desk {
			t.Errorf("history entry %+v: want actor %s on %s", h, admin, desk)
		}
	}
	want := []string{"jane:broker>manager", "omar:>broker", "jane:>broker"} // newest first
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("desk history %v, want %v (the repeated addition recorded nothing)", got, want)
	}
	if two, err := s.DeskHistory(ctx, desk, 2); err != nil || len(two) != 2 {
		t.Errorf("history limited to 2: %d entries, %v", len(two), err)
	}
}

func testInvalidMembers(t *testing.T, s TeamBackend) {
	ctx := t.Context()
	desk, user := ids()
	for name, m := range map[string]store.Member{
		"no user":    {Desk: desk, Role: store.RoleBroker},
		"bad desk":   {SlackID: user("X"), Desk: "Energy Desk!", Role: store.RoleBroker},
		"bad role":   {SlackID: user("X"), Desk: desk, Role: "trader"},
		"empty desk": {SlackID: user("X"), Role: store.RoleBroker},
	} {
		if err := s.AddMember(ctx, m); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if ms, err := s.Members(ctx, desk); err != nil || len(ms) != 0 {
		t.Errorf("refused members were stored: %+v %v", ms, err)
	}
}

func testRemoveMember(t *testing.T, s TeamBackend) {
	ctx := t.Context()
	desk, user := ids()
	other := desk + "-2"
	jane, admin := user("JANE"), user("ADMIN")
	for _, d := range []string{desk, other} {
		if err := s.AddMember(ctx, store.Member{SlackID: jane, Desk: d, Role: store.RoleBroker, AddedBy: admin}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveMember(ctx, jane, admin); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.Memberships(ctx, jane); err != nil || len(ms) != 0 {
		t.Errorf("after removal jane is on %+v %v", ms, err)
	}
	for _, d := range []string{desk, other} {
		hist, err := s.DeskHistory(ctx, d, 1)
		if err != nil || len(hist) != 1 || hist[0].OldRole != store.RoleBroker || hist[0].NewRole != "" || hist[0].Actor != admin {
			t.Errorf("desk %s: last change %+v %v, want jane's removal by the admin", d, hist, err)
		}
	}
	if err := s.RemoveMember(ctx, jane, admin); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("removing someone on no desk: %v, want ENOTFOUND", err)
	}
}

func testChannelLinks(t *testing.T, s TeamBackend) {
	ctx := t.Context()
	_, user := ids()
	ch := "C" + user("")[1:]
	newClient := func(handle string) *store.Client {
		c := &store.Client{Handle: handle + "-" + strings.ToLower(user("")[1:]), Name: handle}
		if err := s.CreateClient(ctx, c, "U0ADMIN"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := newClient("acme"), newClient("plains")
	if _, err := s.ChannelClient(ctx, ch); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("an unlinked channel: %v, want ENOTFOUND", err)
	}
	if err := s.LinkChannel(ctx, ch, a.ID, "U0JANE"); err != nil {
		t.Fatal(err)
	}
	if id, err := s.ChannelClient(ctx, ch); err != nil || id != a.ID {
		t.Errorf("linked to %v %v, want acme", id, err)
	}
	if err := s.LinkChannel(ctx, ch, b.ID, "U0JANE"); err != nil { // a new link replaces the old
		t.Fatal(err)
	}
	if id, err := s.ChannelClient(ctx, ch); err != nil || id != b.ID {
		t.Errorf("relinked to %v %v, want plains", id, err)
	}
	if err := s.LinkChannel(ctx, ch, uuid.New(), "U0JANE"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("a link to no client: %v, want ENOTFOUND", err)
	}
	if id, err := s.ChannelClient(ctx, ch); err != nil || id != b.ID {
		t.Errorf("a refused link changed the channel's client: %v %v", id, err)
	}
	if err := s.LinkChannel(ctx, "", a.ID, "U0JANE"); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("a link without a channel: %v, want EINVALID", err)
	}
}

func testDeskLifecycle(t *testing.T, s TeamBackend) {
	ctx := t.Context()
	desk, user := ids()
	other, _ := ids()
	lifecycle := func() map[string]store.DeskLifecycle {
		t.Helper()
		all, err := s.DeskLifecycles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]store.DeskLifecycle{}
		for _, l := range all {
			if l.Desk == desk || l.Desk == other {
				got[l.Desk] = l
			}
		}
		return got
	}
	if got := lifecycle(); len(got) != 0 {
		t.Fatalf("desks that set nothing have settings: %+v", got)
	}
	for _, days := range []int{-1, store.MaxDormantAfterDays + 1} {
		if err := s.SetDeskLifecycle(ctx, store.DeskLifecycle{Desk: desk, DormantAfterDays: days, UpdatedBy: user("ADMIN")}); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("dormant-after %d days: %v, want EINVALID", days, err)
		}
	}
	if err := s.SetDeskLifecycle(ctx, store.DeskLifecycle{Desk: "Not A Desk!", DormantAfterDays: 30}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("bad desk name: %v, want EINVALID", err)
	}
	for _, l := range []store.DeskLifecycle{
		{Desk: strings.ToUpper(desk), DormantAfterDays: 60, UpdatedBy: user("ADMIN")}, // desk names are normalised
		{Desk: other, DormantAfterDays: 45, UpdatedBy: user("ADMIN")},
		{Desk: desk, DormantAfterDays: 30, UpdatedBy: user("BOSS")}, // changed
	} {
		if err := s.SetDeskLifecycle(ctx, l); err != nil {
			t.Fatalf("SetDeskLifecycle(%+v): %v", l, err)
		}
	}
	got := lifecycle()
	if l := got[desk]; l.DormantAfterDays != 30 || l.UpdatedBy != user("BOSS") || l.UpdatedAt.IsZero() {
		t.Errorf("%s: %+v, want 30 days by BOSS", desk, l)
	}
	if l := got[other]; l.DormantAfterDays != 45 {
		t.Errorf("%s: %+v, want 45 days", other, l)
	}
	// 0 days: back to the server's default.
	if err := s.SetDeskLifecycle(ctx, store.DeskLifecycle{Desk: desk, UpdatedBy: user("ADMIN")}); err != nil {
		t.Fatal(err)
	}
	if got := lifecycle(); len(got) != 1 || got[other].DormantAfterDays != 45 {
		t.Errorf("after resetting %s: %+v, want only %s", desk, got, other)
	}
}
