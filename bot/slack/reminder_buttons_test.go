package slack_test

import (
	"encoding/json"
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

// postReminder stores a reminder for acme due a minute ago and has a
// scheduler post it to the fake Slack; it returns the reminder and the
// message Slack received.
func (e *env) postReminder(text string) (*store.Reminder, slacktest.Posted) {
	e.t.Helper()
	r := &store.Reminder{ClientID: e.client(e.acme).ID, Broker: e.broker, Due: time.Now().Add(-time.Minute),
		Text: text, Source: "command", CreatedBy: e.broker}
	if err := e.reminders.CreateReminder(e.t.Context(), r); err != nil {
		e.t.Fatal(err)
	}
	before := len(e.slack.Posted())
	s, err := reminders.New(reminders.Options{
		Store: e.reminders, Clients: e.clients, Timeline: e.timeline,
		Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", e.slack.BaseURL+"/api/")), Logger: logger(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := s.Tick(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	posted := e.slack.Posted()
	if len(posted) != before+1 {
		e.t.Fatalf("%d messages posted, want 1", len(posted)-before)
	}
	return r, posted[len(posted)-1]
}

// buttons returns the action id and value of each button of a message.
func buttons(t testing.TB, blocks string) map[string]string {
	t.Helper()
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocks), &bs); err != nil {
		t.Fatalf("blocks %s: %v", blocks, err)
	}
	out := map[string]string{}
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, el := range b.Elements {
			out[el.ActionID] = el.Value
		}
	}
	return out
}

func messageAction(e *env, user, trigger string, p slacktest.Posted, action, value string) map[string]any {
	return map[string]any{
		"type": "block_actions", "trigger_id": trigger, "user": map[string]any{"id": user},
		"channel": map[string]any{"id": p.Channel}, "message": map[string]any{"ts": p.TS, "type": "message"},
		"container":    map[string]any{"type": "message", "message_ts": p.TS, "channel_id": p.Channel},
		"response_url": e.slack.ResponseURL(trigger),
		"actions":      []map[string]any{{"type": "button", "action_id": action, "value": value, "block_id": "reminder_actions"}},
	}
}

func (e *env) reminder(id string) *store.Reminder {
	e.t.Helper()
	r, err := e.reminders.Reminder(e.t.Context(), mustUUID(e.t, id))
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// TestReminderMessageButtons: a posted reminder names the client, why it
// fired and the last contact, and its Done and Snooze buttons change the
// message in place and the client's timeline.
func TestReminderMessageButtons(t *testing.T) {
	e := newEnv(t, options{})
	e.command(e.broker, "/log", e.acme+" call spoke about Dec corn basis", "log-"+e.sfx, nil)
	r, p := e.postReminder("send the March spread quote")
	if p.Channel != "D"+e.broker || !strings.Contains(p.Text, "send the March spread quote") {
		t.Fatalf("posted %+v", p)
	}
	for _, want := range []string{"Acme", "you set it", "Last contact: call", "spoke about Dec corn basis"} {
		if !strings.Contains(p.Blocks, want) {
			t.Errorf("message blocks lack %q: %s", want, p.Blocks)
		}
	}
	bs := buttons(t, p.Blocks)
	if bs[bot.ActionReminderDone] != r.ID.String() || bs[bot.ActionLogCall] != r.ID.String() || bs[bot.ActionOpenTimeline] != e.acme {
		t.Fatalf("buttons %v", bs)
	}
	var snoozes []string
	for id, v := range bs {
		if strings.HasPrefix(id, bot.ActionReminderSnooze) {
			snoozes = append(snoozes, strings.TrimPrefix(v, r.ID.String()+" "))
		}
	}
	if len(snoozes) != 3 {
		t.Fatalf("snooze buttons %v", bs)
	}

	// A stranger's press changes nothing, and says so privately.
	e.interact(messageAction(e, e.stranger, "dn0-"+e.sfx, p, bot.ActionReminderDone, r.ID.String()))
	if got := e.slack.Responses("dn0-"+e.sfx, 1, 5*time.Second); len(got) != 1 || e.reminder(r.ID.String()).State != store.ReminderPosted {
		t.Fatalf("a stranger's Done: %s, state %s", got, e.reminder(r.ID.String()).State)
	}

	// Snooze until tomorrow 9:00, Jane's time (Chicago).
	var tomorrow string
	for id, v := range bs {
		if strings.HasSuffix(v, " tomorrow") {
			tomorrow = id
		}
	}
	e.interact(messageAction(e, e.broker, "sn-"+e.sfx, p, tomorrow, r.ID.String()+" tomorrow"))
	up := e.slack.Updated(1, 5*time.Second)
	if len(up) != 1 || up[0].Channel != p.Channel || up[0].TS != p.TS || !strings.Contains(up[0].Text, "Snoozed by") {
		t.Fatalf("chat.update after snooze: %+v", up)
	}
	got := e.reminder(r.ID.String())
	chicago, _ := time.LoadLocation("America/Chicago")
	want, _ := bot.SnoozeUntil("tomorrow", time.Now(), chicago)
	if got.State != store.ReminderSnoozed || !got.Due.Equal(want) || got.Due.In(chicago).Hour() != 9 {
		t.Fatalf("after snooze: %s due %v, want %v", got.State, got.Due.In(chicago), want.In(chicago))
	}
	if evs := e.events(store.KindReminder); len(evs) != 1 || !strings.Contains(evs[0].Summary, "snoozed until") {
		t.Fatalf("timeline after snooze: %+v", evs)
	}

	// Done on a second reminder replaces its message and closes it.
	r2, p2 := e.postReminder("confirm the fill")
	e.interact(messageAction(e, e.broker, "dn-"+e.sfx, p2, bot.ActionReminderDone, r2.ID.String()))
	up = e.slack.Updated(2, 5*time.Second)
	if len(up) != 2 || up[1].TS != p2.TS || !strings.Contains(up[1].Text, "Done: marked done by <@"+e.broker+">") {
		t.Fatalf("chat.update after done: %+v", up)
	}
	if st := e.reminder(r2.ID.String()).State; st != store.ReminderDone {
		t.Fatalf("after done: %s", st)
	}
	evs := e.events(store.KindReminder)
	if len(evs) != 2 || !strings.Contains(evs[0].Summary+evs[1].Summary, "Follow-up done (marked done): confirm the fill") {
		t.Fatalf("timeline after done: %+v", evs)
	}
	// Pressing Done again changes nothing more.
	e.interact(messageAction(e, e.broker, "dn2-"+e.sfx, p2, bot.ActionReminderDone, r2.ID.String()))
	if got := e.slack.Responses("dn2-"+e.sfx, 1, 5*time.Second); len(got) != 1 || !strings.Contains(string(got[0]), "done already") {
		t.Errorf("second Done: %s", got)
	}
	if n := len(e.events(store.KindReminder)); n != 2 {
		t.Errorf("%d reminder events after a second Done, want 2", n)
	}
}

// TestReminderLogCall: Log call opens a modal; submitting it logs the call
// and closes the reminder, whose message says so.
func TestReminderLogCall(t *testing.T) {
	e := newEnv(t, options{})
	r, p := e.postReminder("call back about Dec corn")
	e.interact(messageAction(e, e.broker, "lc-"+e.sfx, p, bot.ActionLogCall, r.ID.String()))
	views := e.slack.Views()
	if len(views) != 1 {
		t.Fatalf("views.open called %d times", len(views))
	}
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	if err := json.Unmarshal(views[0], &v); err != nil || v.CallbackID != "log_call" || !strings.Contains(v.PrivateMetadata, r.ID.String()) {
		t.Fatalf("view %s (%v)", views[0], err)
	}
	value := func(s string) map[string]map[string]any {
		return map[string]map[string]any{"call": {"summary": map[string]any{"type": "plain_text_input", "value": s}}}
	}
	if resp := e.interact(viewSubmission(e.broker, "log_call", "VC1"+e.sfx, v.PrivateMetadata, value(" "))); !strings.Contains(resp.Body, "errors") {
		t.Fatalf("an empty call: %s", resp.Body)
	}
	if resp := e.interact(viewSubmission(e.broker, "log_call", "VC2"+e.sfx, v.PrivateMetadata, value("Tom wants 50 lots Dec corn at 4.50"))); resp.StatusCode != 200 || resp.Body != "" {
		t.Fatalf("submit: %d %s", resp.StatusCode, resp.Body)
	}
	calls := e.events(store.KindCall)
	if len(calls) != 1 || calls[0].Summary != "Tom wants 50 lots Dec corn at 4.50" || calls[0].Actor != e.broker {
		t.Fatalf("calls %+v", calls)
	}
	if st := e.reminder(r.ID.String()).State; st != store.ReminderDone {
		t.Fatalf("after the call: %s", st)
	}
	up := e.slack.Updated(1, 5*time.Second)
	if len(up) != 1 || up[0].TS != p.TS || !strings.Contains(up[0].Text, "Done: call logged by") {
		t.Fatalf("chat.update after the call: %+v", up)
	}
}

// TestReminderDoNotContact: a follow-up for a do-not-contact client says
// so and has no call button.
func TestReminderDoNotContact(t *testing.T) {
	e := newEnv(t, options{})
	e.command(e.broker, "/client", "set "+e.acme+" dnc=yes", "dnc-"+e.sfx, nil)
	if !e.client(e.acme).Contact.DoNotContact {
		t.Fatal("dnc not set")
	}
	r, p := e.postReminder("check the margin call")
	bs := buttons(t, p.Blocks)
	if _, ok := bs[bot.ActionLogCall]; ok || bs[bot.ActionReminderDone] != r.ID.String() {
		t.Fatalf("buttons of a do-not-contact client: %v", bs)
	}
	if !strings.Contains(p.Blocks, "Do not contact") || !strings.Contains(p.Text, "do not contact") {
		t.Errorf("message does not say do not contact: %s", p.Blocks)
	}
}

func mustUUID(t testing.TB, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestReminderGoesToChosenChannel: /followups channel sends the broker's
// reminders to that channel; dm sends them back to the DM.
func TestReminderGoesToChosenChannel(t *testing.T) {
	e := newEnv(t, options{})
	desk := "CJANE" + strings.ToUpper(e.sfx)
	e.slack.AddChannel(desk, "jane-desk")
	e.slack.AddMembers(desk, e.broker)
	if r := e.command(e.broker, "/followups", "channel <#"+desk+"|jane-desk>", "ch-"+e.sfx, nil); !strings.Contains(r.Body, "now go to") {
		t.Fatalf("/followups channel: %s", r.Body)
	}
	if _, p := e.postReminder("to the desk channel"); p.Channel != desk {
		t.Fatalf("posted to %s, want %s", p.Channel, desk)
	}
	if r := e.command(e.broker, "/followups", "channel dm", "dm-"+e.sfx, nil); !strings.Contains(r.Body, "direct messages") {
		t.Fatalf("/followups channel dm: %s", r.Body)
	}
	if _, p := e.postReminder("to the DM"); p.Channel != "D"+e.broker {
		t.Fatalf("posted to %s, want the DM", p.Channel)
	}
}
