package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// remindBot is the harness's bot on a fixed clock: Thu 10 Dec 2026, 07:00
// in Chicago (Jane's zone).
func remindBot(t *testing.T, h *harness) (*bot.Bot, time.Time) {
	now := time.Date(2026, 12, 10, 13, 0, 0, 0, time.UTC)
	b, err := bot.New(bot.Config{
		Clients: h.st.Clients, Timeline: h.st.Timeline, Teams: h.st.Teams, Links: h.st.Links,
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
