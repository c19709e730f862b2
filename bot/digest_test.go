package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// /digest: managers subscribe for their own desks only; each owns their
// subscription; /digest now shows the desk's digest; the Snooze and
// Reassign buttons are a manager's and are recorded on the timeline.
func testDigest(t *testing.T, h *harness) {
	ch := "<#" + h.channel + ">"
	if r := h.do(h.broker, "/digest", "subscribe "+ch+" daily"); r.Status != bot.Refused {
		t.Errorf("a broker subscribed: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.stranger, "/digest", "list"); r.Status != bot.Refused {
		t.Errorf("a stranger listed digests: %v %s", r.Status, r.Text)
	}
	r := h.ok(h.manager, "/digest", "subscribe "+ch+" daily 07:30")
	if !strings.Contains(r.Text, h.desk+": daily at 07:30 UTC in "+ch) || !strings.Contains(r.Text, "times are UTC") {
		t.Errorf("subscribe: %s", r.Text)
	}
	if r := h.do(h.manager, "/digest", "subscribe "+ch+" daily "+h.otherDesk); r.Status != bot.Refused || !strings.Contains(r.Text, "only your own desks") {
		t.Errorf("a manager subscribed to another desk: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.manager, "/digest", "subscribe "+ch+" hourly"); r.Status != bot.Invalid {
		t.Errorf("hourly: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.admin, "/digest", "subscribe "+ch+" weekly"); r.Status != bot.Invalid || !strings.Contains(r.Text, "Name the desk") {
		t.Errorf("an admin without a desk: %v %s", r.Status, r.Text)
	}
	// An admin's subscription to the same desk and channel is the admin's:
	// the manager's stays daily.
	h.ok(h.admin, "/digest", "subscribe "+ch+" weekly 06:00 "+h.desk)
	r = h.ok(h.manager, "/digest", "list")
	if !strings.Contains(r.Text, "daily at 07:30 UTC in "+ch+", by you") || !strings.Contains(r.Text, "weekly, Mondays at 06:00 UTC in "+ch+", by <@"+h.admin+">") {
		t.Errorf("list: %s", r.Text)
	}
	r = h.ok(h.manager, "/digest", "subscribe "+ch+" weekly 09:00")
	if !strings.Contains(r.Text, "now weekly, Mondays at 09:00 UTC in "+ch+" (was daily at 07:30 UTC)") {
		t.Errorf("resubscribe: %s", r.Text)
	}

	// An overdue follow-up of the desk, shown by /digest now.
	acme := h.client(h.acme)
	rem := &store.Reminder{ClientID: acme.ID, Broker: h.broker, Due: time.Now().Add(-2 * time.Hour), Text: "Call back about Dec corn", Source: "command", CreatedBy: h.broker}
	if err := h.st.Reminders.CreateReminder(h.ctx, rem); err != nil {
		t.Fatal(err)
	}
	r = h.ok(h.manager, "/digest", "now")
	text := bot.PlainText(r)
	if !strings.Contains(text, h.desk+" desk: digest so far") || !strings.Contains(text, "Overdue follow-ups: 1, for 1 broker") ||
		!strings.Contains(text, h.acme+" (Acme Grain Co-op): Call back about Dec corn") || strings.Contains(text, h.other) {
		t.Errorf("/digest now:\n%s", text)
	}
	if r := h.do(h.manager, "/digest", "now "+h.otherDesk); r.Status != bot.Refused {
		t.Errorf("a manager read another desk's digest: %v %s", r.Status, r.Text)
	}

	// Snooze and Reassign: a manager's (the broker reminded may snooze).
	id := rem.ID.String()
	if r := h.do(h.broker2, "/digest", "snooze "+id+" tomorrow"); r.Status != bot.NotFound {
		t.Errorf("another desk's broker snoozed: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.broker, "/digest", "reassign "+id+" <@"+h.broker2+">"); r.Status != bot.Refused {
		t.Errorf("a broker reassigned: %v %s", r.Status, r.Text)
	}
	r = h.ok(h.manager, "/digest", "snooze "+id+" tomorrow")
	got, err := h.st.Reminders.Reminder(h.ctx, rem.ID)
	if err != nil || got.State != store.ReminderSnoozed || !got.Due.After(time.Now()) {
		t.Errorf("after snooze: %+v %v (%s)", got, err, r.Text)
	}
	if r := h.do(h.manager, "/digest", "reassign "+id+" <@"+h.broker2+">"); r.Status != bot.Invalid || !strings.Contains(r.Text, "not a broker of "+h.desk) {
		t.Errorf("reassigned to another desk's broker: %v %s", r.Status, r.Text)
	}
	broker3 := "UBRKC" + h.SFX
	if err := h.st.Teams.AddMember(h.ctx, store.Member{SlackID: broker3, Desk: h.desk, Role: store.RoleBroker, AddedBy: h.admin}); err != nil {
		t.Fatal(err)
	}
	h.ok(h.manager, "/digest", "reassign "+id+" <@"+broker3+">")
	if got, err := h.st.Reminders.Reminder(h.ctx, rem.ID); err != nil || got.Broker != broker3 {
		t.Errorf("after reassign: %+v %v", got, err)
	}
	var snoozed, handed bool
	for _, e := range h.events(h.acme, store.KindReminder) {
		snoozed = snoozed || strings.Contains(e.Summary, "snoozed from a digest") && e.Actor == h.manager
		handed = handed || strings.Contains(e.Summary, "handed from <@"+h.broker+"> to <@"+broker3+">") && e.Actor == h.manager
	}
	if !snoozed || !handed {
		t.Errorf("timeline: snooze recorded %v, reassignment recorded %v", snoozed, handed)
	}

	// Unsubscribing ends one's own subscriptions only.
	r = h.ok(h.manager, "/digest", "unsubscribe")
	if !strings.Contains(r.Text, h.desk+" in "+ch) {
		t.Errorf("unsubscribe: %s", r.Text)
	}
	r = h.ok(h.admin, "/digest", "list")
	if !strings.Contains(r.Text, "weekly, Mondays at 06:00") || strings.Contains(r.Text, "by <@"+h.manager+">") {
		t.Errorf("after the manager unsubscribed: %s", r.Text)
	}
	if r := h.do(h.manager, "/digest", "unsubscribe"); r.Status != bot.NotFound {
		t.Errorf("second unsubscribe: %v %s", r.Status, r.Text)
	}
	h.ok(h.admin, "/digest", "unsubscribe")
}
