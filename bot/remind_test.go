package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// remindBot is the harness's bot on a fixed clock: Thu 10 Dec 2026, 07:00
// in Chicago (Jane's zone).
func remindBot(t *testing.T, h *harness) (*bot.Bot, time.Time) {
	now := time.Date(2026, 12, 10, 13, 0, 0, 0, time.UTC)
	b, err := bot.New(bot.Config{
		Catalogue: store.DefaultCatalogue(),
		Clients:   h.st.Clients, Timeline: h.st.Timeline, Teams: h.st.Teams, Links: h.st.Links,
		Recorder:  &ingest.Recorder{Timeline: h.st.Timeline},
		Reminders: h.st.Reminders, Directory: h.dir, Admins: []string{h.admin},
		Now: func() time.Time { return now }, Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, now
}

func (h *harness) reminders(handle string) []*store.Reminder {
	h.t.Helper()
	rs, err := h.st.Reminders.ListReminders(h.ctx, store.ReminderFilter{ClientID: h.client(handle).ID})
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

func testRemind(t *testing.T, h *harness) {
	b, _ := remindBot(t, h)
	h.ok(h.broker, "/client", "set "+h.acme+" timezone=Europe/London")
	remind := func(user, text, id string) bot.Response {
		return b.Handle(h.ctx, bot.Request{User: user, Channel: h.channel, Command: "/remind", Text: text, ID: id})
	}

	r := remind(h.broker, h.acme+" tomorrow 9am call back about Dec corn", "remind-1-"+h.sfx)
	if r.Status != bot.OK || !strings.Contains(r.Text, "Fri 11 Dec 09:00 your time (15:00 London)") || !strings.Contains(r.Text, "call back about Dec corn") {
		t.Fatalf("/remind: %v %q; want the time in Jane's and the client's zone", r.Status, r.Text)
	}
	// Slack delivering the same command again sets nothing more.
	if r := remind(h.broker, h.acme+" tomorrow 9am call back about Dec corn", "remind-1-"+h.sfx); r.Status != bot.OK {
		t.Fatalf("the same request again: %v %q", r.Status, r.Text)
	}
	rs := h.reminders(h.acme)
	if len(rs) != 1 {
		t.Fatalf("%d reminders stored, want 1", len(rs))
	}
	got := rs[0]
	if want := time.Date(2026, 12, 11, 15, 0, 0, 0, time.UTC); !got.Due.Equal(want) || got.Broker != h.broker ||
		got.Text != "call back about Dec corn" || got.Source != "command" || got.State != store.ReminderPending {
		t.Errorf("stored %+v; want due %v for Jane", got, want)
	}
	evs := h.events(h.acme, store.KindReminder)
	if len(evs) != 1 || !strings.Contains(evs[0].Summary, "call back about Dec corn") || evs[0].Actor != h.broker ||
		evs[0].Attrs.Extra["reminder_id"] != got.ID.String() {
		t.Fatalf("timeline reminder events: %+v", evs)
	}

	// The answer's Undo button cancels it: the broker may, the desk's
	// manager may not.
	var undo string
	for _, blk := range r.Blocks {
		if a, ok := blk.(bot.Actions); ok && len(a) == 1 && a[0].Action == bot.ActionUndoReminder {
			undo = a[0].Value
		}
	}
	if undo != got.ID.String() {
		t.Fatalf("no Undo button for %s in %+v", got.ID, r.Blocks)
	}
	if r := remind(h.manager, "undo "+undo, ""); r.Status != bot.Refused {
		t.Errorf("the manager's undo: %v %q", r.Status, r.Text)
	}
	if r := remind(h.broker, "undo "+undo, ""); r.Status != bot.OK || !strings.Contains(r.Text, "Cancelled the reminder") {
		t.Errorf("the broker's undo: %v %q", r.Status, r.Text)
	}
	if r := remind(h.broker, "undo "+undo, ""); r.Status != bot.Invalid || !strings.Contains(r.Text, "cancelled already") {
		t.Errorf("undo twice: %v %q", r.Status, r.Text)
	}
	if rs := h.reminders(h.acme); len(rs) != 1 || rs[0].State != store.ReminderCancelled {
		t.Errorf("after undo: %+v", rs)
	}

	// A client in the broker's own zone gets no second time.
	h.ok(h.broker, "/client", "set "+h.acme+" timezone=America/Chicago")
	if r := remind(h.broker, h.acme+" in 2 hours confirm the basis", ""); r.Status != bot.OK || !strings.Contains(r.Text, "Thu 10 Dec 09:00 your time:") {
		t.Errorf("/remind in 2 hours: %v %q", r.Status, r.Text)
	}

	before := len(h.reminders(h.acme))
	for _, tc := range []struct {
		user, text string
		status     bot.Status
		want       string
	}{
		{h.broker, h.acme + " whenever you like call", bot.Invalid, "tomorrow 9am"},
		{h.broker, h.acme + " 2026-12-01 10:00 too late", bot.Invalid, "passed"},
		{h.broker, h.acme + " in 2 minutes", bot.Invalid, "What should the reminder say"},
		{h.broker, h.acme, bot.Invalid, "Usage"},
		{h.manager, h.acme + " tomorrow 9am x", bot.Refused, "only its brokers"},
		{h.broker2, h.acme + " tomorrow 9am x", bot.NotFound, "no client"},
		{h.stranger, h.acme + " tomorrow 9am x", bot.Refused, "not on a BrokerSync desk"},
	} {
		r := remind(tc.user, tc.text, "")
		if r.Status != tc.status || !strings.Contains(r.Text, tc.want) {
			t.Errorf("/remind %s as %s: %v %q; want %v containing %q", tc.text, tc.user, r.Status, r.Text, tc.status, tc.want)
		}
	}
	if n := len(h.reminders(h.acme)); n != before {
		t.Errorf("refused commands stored %d reminders", n-before)
	}
}

func testFollowups(t *testing.T, h *harness) {
	b, now := remindBot(t, h)
	run := func(user, text string) bot.Response {
		return b.Handle(h.ctx, bot.Request{User: user, Channel: h.channel, Command: "/followups", Text: text})
	}
	if r := run(h.broker, ""); r.Status != bot.OK || !strings.Contains(r.Text, "No follow-ups today") {
		t.Fatalf("/followups with none: %v %q", r.Status, r.Text)
	}
	for _, line := range []string{"in 1 hour send the recap", "tomorrow 9am confirm basis", "next monday roll the hedge", "in 3 weeks review the year"} {
		if r := b.Handle(h.ctx, bot.Request{User: h.broker, Command: "/remind", Text: h.acme + " " + line}); r.Status != bot.OK {
			t.Fatalf("/remind %s: %q", line, r.Text)
		}
	}
	late := &store.Reminder{ClientID: h.client(h.acme).ID, Broker: h.broker, Due: now.Add(-2 * time.Hour), Text: "missed call", Source: "command"}
	if err := h.st.Reminders.CreateReminder(h.ctx, late); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		which     string
		want, not []string
	}{
		{"", []string{"today (2)", "Acme Grain Co-op", "Thu 10 Dec 08:00 — send the recap", "Thu 10 Dec 05:00 — missed call (overdue)"}, []string{"confirm basis", "roll the hedge"}},
		{"overdue", []string{"overdue (1)", "missed call"}, []string{"send the recap"}},
		{"week", []string{"(4)", "Fri 11 Dec 09:00 — confirm basis", "Mon 14 Dec 09:00 — roll the hedge"}, []string{"review the year"}},
	} {
		r := run(h.broker, tc.which)
		if r.Status != bot.OK {
			t.Fatalf("/followups %s: %v %q", tc.which, r.Status, r.Text)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("/followups %s: %q lacks %q", tc.which, r.Text, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(r.Text, w) {
				t.Errorf("/followups %s: %q shows %q", tc.which, r.Text, w)
			}
		}
	}
	if r := run(h.broker2, "week"); r.Status != bot.OK || !strings.Contains(r.Text, "No follow-ups") {
		t.Errorf("another broker's /followups: %v %q", r.Status, r.Text)
	}
	if r := run(h.broker, "yesterday"); r.Status != bot.Invalid {
		t.Errorf("/followups yesterday: %v %q", r.Status, r.Text)
	}
}

func testFollowupsSettings(t *testing.T, h *harness) {
	run := func(user, text string) bot.Response {
		return h.do(user, "/followups", text)
	}
	if r := run(h.broker, "hours"); r.Status != bot.OK || !strings.Contains(r.Text, "Monday to Friday 08:00-18:00 (America/Chicago)") {
		t.Fatalf("default hours: %v %q", r.Status, r.Text)
	}
	if r := run(h.broker, "hours 07:00-17:00"); r.Status != bot.OK || !strings.Contains(r.Text, "07:00-17:00") {
		t.Fatalf("/followups hours 07:00-17:00: %v %q", r.Status, r.Text)
	}
	for _, bad := range []string{"hours 17:00-07:00", "hours 7am-5pm", "hours 07:00-25:00", "hours 07:00"} {
		if r := run(h.broker, bad); r.Status != bot.Invalid {
			t.Errorf("/followups %s: %v %q", bad, r.Status, r.Text)
		}
	}
	set, err := h.st.Reminders.FollowupSettings(h.ctx, h.broker)
	if err != nil || set.Hours() != "07:00-17:00" || set.Channel != "" {
		t.Fatalf("stored %+v %v", set, err)
	}
	// A channel the broker is in; not one they are not in.
	if r := run(h.broker, "channel <#"+h.channel+"|jane-desk>"); r.Status != bot.OK || !strings.Contains(r.Text, "<#"+h.channel+">") {
		t.Fatalf("/followups channel: %v %q", r.Status, r.Text)
	}
	elsewhere := "CNOT" + h.SFX
	h.dir.AddMembers(elsewhere, h.broker2)
	if r := run(h.broker, "channel <#"+elsewhere+"|omar-desk>"); r.Status != bot.Refused || !strings.Contains(r.Text, "send your reminders there") {
		t.Errorf("a channel Jane is not in: %v %q", r.Status, r.Text)
	}
	if r := run(h.broker, "channel #jane-desk"); r.Status != bot.Invalid {
		t.Errorf("a channel as plain text: %v %q", r.Status, r.Text)
	}
	if set, _ = h.st.Reminders.FollowupSettings(h.ctx, h.broker); set.Channel != h.channel || set.Hours() != "07:00-17:00" {
		t.Fatalf("after channel: %+v", set)
	}
	if r := run(h.broker, "channel dm"); r.Status != bot.OK || !strings.Contains(r.Text, "direct messages") {
		t.Fatalf("/followups channel dm: %v %q", r.Status, r.Text)
	}
	if set, _ = h.st.Reminders.FollowupSettings(h.ctx, h.broker); set.Channel != "" {
		t.Fatalf("after dm: %+v", set)
	}
}

func testFollowupsManager(t *testing.T, h *harness) {
	b, now := remindBot(t, h)
	add := func(client, broker, text string, due time.Time) {
		cl := h.client(client)
		if err := h.st.Reminders.CreateReminder(h.ctx, &store.Reminder{ClientID: cl.ID, Broker: broker, Due: due, Text: text, Source: "command"}); err != nil {
			t.Fatal(err)
		}
	}
	add(h.acme, h.broker, "send the recap", now.Add(time.Hour))
	add(h.acme, h.broker, "missed call", now.Add(-time.Hour))
	add(h.other, h.broker2, "energy desk call", now.Add(time.Hour))
	run := func(user, text string) bot.Response {
		return b.Handle(h.ctx, bot.Request{User: user, Channel: h.channel, Command: "/followups", Text: text})
	}
	for _, tc := range []struct {
		user, text string
		status     bot.Status
		want, not  []string
	}{
		{h.manager, "today <@" + h.broker + "|jane>", bot.OK, []string{"<@" + h.broker + ">'s follow-ups today (2)", "send the recap", "missed call (overdue)"}, []string{"energy desk call"}},
		{h.manager, "overdue <@" + h.broker + "|jane>", bot.OK, []string{"overdue (1)", "missed call"}, []string{"send the recap"}},
		{h.manager, h.desk + " week", bot.OK, []string{h.desk + " follow-ups in the next 7 days (2)", "send the recap — <@" + h.broker + ">"}, []string{"energy desk call"}},
		{h.manager, "week <@" + h.broker2 + "|omar>", bot.Refused, []string{"no desk you manage"}, []string{"energy desk call"}},
		{h.manager, "week " + h.otherDesk, bot.Refused, []string{"You do not manage"}, []string{"energy desk call"}},
		{h.broker, "week " + h.desk, bot.Refused, []string{"You do not manage"}, []string{"send the recap"}},
		{h.broker, "week <@" + h.broker2 + "|omar>", bot.Refused, []string{"no desk you manage"}, nil},
		{h.broker, "week <@" + h.broker + "|jane>", bot.OK, []string{"Your follow-ups in the next 7 days (2)"}, nil},
		{h.admin, "today " + h.otherDesk, bot.OK, []string{"energy desk call"}, []string{"send the recap"}},
		{h.manager, "week " + h.desk + " extra", bot.Invalid, nil, nil},
	} {
		r := run(tc.user, tc.text)
		if r.Status != tc.status {
			t.Errorf("/followups %s as %s: %v %q, want %v", tc.text, tc.user, r.Status, r.Text, tc.status)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("/followups %s: %q lacks %q", tc.text, r.Text, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(r.Text, w) {
				t.Errorf("/followups %s: %q shows %q", tc.text, r.Text, w)
			}
		}
	}
}

func testTeamSetFollowups(t *testing.T, h *harness) {
	if r := h.do(h.admin, "/team", "set "+h.desk); r.Status != bot.OK || !strings.Contains(r.Text, "followup-after-fill=1d followup-market=on followup-sentiment=on followup-cadence=on") {
		t.Fatalf("/team set %s: %v %q", h.desk, r.Status, r.Text)
	}
	r := h.do(h.admin, "/team", "set "+h.desk+" followup-after-fill=4h followup-market=off")
	if r.Status != bot.OK || !strings.Contains(r.Text, "followup-after-fill=4h followup-market=off followup-sentiment=on") {
		t.Fatalf("/team set: %v %q", r.Status, r.Text)
	}
	d, err := h.st.Reminders.DeskFollowups(h.ctx, h.desk)
	if err != nil || d.AfterFill != 4*time.Hour || d.MarketMoves || !d.Sentiment || d.UpdatedBy != h.admin {
		t.Fatalf("stored %+v %v", d, err)
	}
	if r := h.do(h.admin, "/team", "set "+h.desk+" followup-after-fill=off"); r.Status != bot.OK || !strings.Contains(r.Text, "followup-after-fill=off") {
		t.Errorf("off: %v %q", r.Status, r.Text)
	}
	for _, tc := range []struct {
		user, text string
		status     bot.Status
	}{
		{h.broker, "set " + h.desk + " followup-market=on", bot.Refused},
		{h.manager, "set " + h.desk + " followup-market=on", bot.Refused},
		{h.admin, "set " + h.desk + " followup-after-fill=soon", bot.Invalid},
		{h.admin, "set " + h.desk + " followup-after-fill=30s", bot.Invalid},
		{h.admin, "set " + h.desk + " followup-market=maybe", bot.Invalid},
		{h.admin, "set " + h.desk + " colour=blue", bot.Invalid},
		{h.admin, "set nobody-" + h.sfx + " followup-market=on", bot.NotFound},
	} {
		if r := h.do(tc.user, "/team", tc.text); r.Status != tc.status {
			t.Errorf("/team %s as %s: %v %q, want %v", tc.text, tc.user, r.Status, r.Text, tc.status)
		}
	}
	if d, _ := h.st.Reminders.DeskFollowups(h.ctx, h.desk); d.MarketMoves || d.AfterFill != 0 {
		t.Errorf("refused commands changed %+v", d)
	}

	// The desk's own dormant-after, for the lifecycle rules.
	dormant := func() int {
		t.Helper()
		all, err := h.st.Teams.DeskLifecycles(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range all {
			if l.Desk == h.desk {
				return l.DormantAfterDays
			}
		}
		return 0
	}
	if r := h.do(h.admin, "/team", "set "+h.desk); !strings.Contains(r.Text, "dormant-after=default") {
		t.Errorf("/team set %s before dormant-after: %q", h.desk, r.Text)
	}
	if r := h.do(h.admin, "/team", "set "+h.desk+" dormant-after=60d"); r.Status != bot.OK || !strings.Contains(r.Text, "dormant-after=60d") || dormant() != 60 {
		t.Errorf("dormant-after=60d: %v %q, stored %d", r.Status, r.Text, dormant())
	}
	for _, text := range []string{"dormant-after=0d", "dormant-after=soon", "dormant-after=4000d", "dormant-after=-5d"} {
		if r := h.do(h.admin, "/team", "set "+h.desk+" "+text); r.Status != bot.Invalid {
			t.Errorf("/team set %s: %v %q, want Invalid", text, r.Status, r.Text)
		}
	}
	if r := h.do(h.manager, "/team", "set "+h.desk+" dormant-after=10d"); r.Status != bot.Refused || dormant() != 60 {
		t.Errorf("a manager set dormant-after: %v %q, stored %d", r.Status, r.Text, dormant())
	}
	if r := h.do(h.admin, "/team", "set "+h.desk+" dormant-after=default"); r.Status != bot.OK || !strings.Contains(r.Text, "dormant-after=default") || dormant() != 0 {
		t.Errorf("dormant-after=default: %v %q, stored %d", r.Status, r.Text, dormant())
	}
}
