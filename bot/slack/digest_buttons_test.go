package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

// A digest's overdue follow-up carries Open timeline, Snooze and a
// Reassign menu of people; the manager's Snooze and Reassign reach the
// follow-up through the interaction handler and are recorded on the
// client's timeline.
func TestDigestButtons(t *testing.T) {
	e := newEnv(t, options{})
	other := "UBRKB" + strings.ToUpper(e.sfx)
	e.slack.AddUser(other, "omar", "Europe/London", false, false)
	if err := e.teams.AddMember(t.Context(), store.Member{SlackID: other, Desk: e.desk, Role: store.RoleBroker, AddedBy: e.admin}); err != nil {
		t.Fatal(err)
	}
	r := &store.Reminder{ClientID: e.client(e.acme).ID, Broker: e.broker, Due: time.Now().Add(-3 * time.Hour),
		Text: "send the March spread quote", Source: "command", CreatedBy: e.broker}
	if err := e.reminders.CreateReminder(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	b := &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: e.clients, Timeline: e.timeline, Teams: e.teams, Reminders: e.reminders}
	d, err := b.Build(t.Context(), e.desk, time.Now().Add(-24*time.Hour), time.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := reminders.DigestResponse(d)
	blocks, err := json.Marshal(bslack.Blocks(msg))
	if err != nil {
		t.Fatal(err)
	}
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(blocks, &bs); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, bl := range bs {
		for _, el := range bl.Elements {
			got[el.Type+" "+el.ActionID] = el.Value
		}
	}
	id := r.ID.String()
	if got["button "+bot.ActionOpenTimeline] != e.acme || got["button "+bot.ActionDigestSnooze] != id+" tomorrow" {
		t.Fatalf("digest buttons: %v", got)
	}
	if _, ok := got["users_select "+bot.ActionDigestReassign+":"+id]; !ok {
		t.Fatalf("no Reassign menu: %v", got)
	}
	p := slacktest.Posted{Channel: "C0DIGEST", TS: "1700000000.000100"}

	// A broker of the desk who is not the manager may not reassign.
	pick := func(user, trigger string) map[string]any {
		a := messageAction(e, user, trigger, p, "", "")
		a["actions"] = []map[string]any{{"type": "users_select", "action_id": bot.ActionDigestReassign + ":" + id, "selected_user": other, "block_id": "b"}}
		return a
	}
	e.interact(pick(e.broker, "ra0-"+e.sfx))
	if resp := e.slack.Responses("ra0-"+e.sfx, 1, 5*time.Second); len(resp) != 1 || !strings.Contains(string(resp[0]), "Only a manager") {
		t.Fatalf("a broker's Reassign: %s", resp)
	}
	e.interact(messageAction(e, e.manager, "sz-"+e.sfx, p, bot.ActionDigestSnooze, id+" tomorrow"))
	if resp := e.slack.Responses("sz-"+e.sfx, 1, 5*time.Second); len(resp) != 1 || !strings.Contains(string(resp[0]), "Snoozed") {
		t.Fatalf("Snooze: %s", resp)
	}
	if st := e.reminder(id).State; st != store.ReminderSnoozed {
		t.Fatalf("after Snooze: %s", st)
	}
	e.interact(pick(e.manager, "ra-"+e.sfx))
	if resp := e.slack.Responses("ra-"+e.sfx, 1, 5*time.Second); len(resp) != 1 || !strings.Contains(string(resp[0]), "Handed the follow-up") {
		t.Fatalf("Reassign: %s", resp)
	}
	if got := e.reminder(id); got.Broker != other {
		t.Fatalf("after Reassign: broker %s", got.Broker)
	}
	var summaries []string
	for _, ev := range e.events(store.KindReminder) {
		if ev.Actor == e.manager {
			summaries = append(summaries, ev.Summary)
		}
	}
	if len(summaries) != 2 {
		t.Fatalf("timeline: %q", summaries)
	}
}
