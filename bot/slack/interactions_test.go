package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

func blockAction(e *env, user, trigger, action, value string) map[string]any {
	return map[string]any{
		"type": "block_actions", "trigger_id": trigger, "user": map[string]any{"id": user},
		"channel": map[string]any{"id": "CBTN"}, "response_url": e.slack.ResponseURL(trigger),
		"actions": []map[string]any{{"type": "button", "action_id": action, "value": value, "block_id": "b1"}},
	}
}

func viewSubmission(user, callback, viewID, meta string, values map[string]map[string]any) map[string]any {
	return map[string]any{
		"type": "view_submission", "trigger_id": "vt-" + viewID, "user": map[string]any{"id": user},
		"view": map[string]any{"id": viewID, "callback_id": callback, "private_metadata": meta, "state": map[string]any{"values": values}},
	}
}

func TestOpenTimelineButton(t *testing.T) {
	e := newEnv(t, options{})
	e.command(e.broker, "/note", e.acme+" prefers calls after the close", "", nil)
	r := e.interact(blockAction(e, e.broker, "tl-"+e.sfx, "open_timeline", e.acme))
	if r.StatusCode != 200 || r.Body != "" {
		t.Fatalf("ack %d %q", r.StatusCode, r.Body)
	}
	got := e.slack.Responses("tl-"+e.sfx, 1, 5*time.Second)
	if len(got) != 1 || !strings.Contains(string(got[0]), "prefers calls after the close") {
		t.Errorf("timeline answer %s", got)
	}
	// A stranger pressing a button they were forwarded sees nothing.
	e.interact(blockAction(e, e.stranger, "tl2-"+e.sfx, "open_timeline", e.acme))
	got = e.slack.Responses("tl2-"+e.sfx, 1, 5*time.Second)
	if len(got) != 1 || strings.Contains(string(got[0]), "prefers calls") || !strings.Contains(string(got[0]), "Ask an admin") {
		t.Errorf("stranger's answer %s", got)
	}
}

func TestAddNoteModal(t *testing.T) {
	e := newEnv(t, options{})
	if r := e.interact(blockAction(e, e.broker, "an-"+e.sfx, "add_note", e.acme)); r.StatusCode != 200 {
		t.Fatalf("ack %d", r.StatusCode)
	}
	views := e.slack.Views()
	if len(views) != 1 {
		t.Fatalf("views.open called %d times", len(views))
	}
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	if err := json.Unmarshal(views[0], &v); err != nil || v.CallbackID != "add_note" || !strings.Contains(v.PrivateMetadata, e.acme) {
		t.Fatalf("view %s (%v)", views[0], err)
	}
	// An empty note is sent back to the modal with the reason.
	r := e.interact(viewSubmission(e.broker, "add_note", "V1"+e.sfx, v.PrivateMetadata, map[string]map[string]any{"note": {"text": map[string]any{"type": "plain_text_input", "value": ""}}}))
	if m := r.json(t); m["response_action"] != "errors" || !strings.Contains(r.Body, "note") {
		t.Errorf("empty note: %s", r.Body)
	}
	text := "Wants <b>options</b> & a call re: \"Dec corn\"\non Friday"
	r = e.interact(viewSubmission(e.broker, "add_note", "V2"+e.sfx, v.PrivateMetadata, map[string]map[string]any{"note": {"text": map[string]any{"type": "plain_text_input", "value": text}}}))
	if r.StatusCode != 200 || r.Body != "" {
		t.Fatalf("submit: %d %q", r.StatusCode, r.Body)
	}
	notes := e.events(store.KindNote)
	if len(notes) != 1 || notes[0].Body != text || notes[0].Actor != e.broker {
		t.Fatalf("notes %+v", notes)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.slack.Ephemeral()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if eph := e.slack.Ephemeral(); len(eph) != 1 || eph[0]["user"] != e.broker || eph[0]["channel"] != "CBTN" {
		t.Errorf("confirmation %v", eph)
	}
	// A manager may not add notes: the modal says so.
	r = e.interact(viewSubmission(e.manager, "add_note", "V3"+e.sfx, v.PrivateMetadata, map[string]map[string]any{"note": {"text": map[string]any{"type": "plain_text_input", "value": "hi"}}}))
	if !strings.Contains(r.Body, "errors") || !strings.Contains(r.Body, "only its brokers") {
		t.Errorf("manager: %s", r.Body)
	}
}

func TestLogToClientShortcut(t *testing.T) {
	e := newEnv(t, options{})
	shortcut := func(trigger, channel string) map[string]any {
		return map[string]any{
			"type": "message_action", "callback_id": "log_to_client", "trigger_id": trigger,
			"user": map[string]any{"id": e.broker}, "channel": map[string]any{"id": channel},
			"response_url": e.slack.ResponseURL(trigger),
			"message":      map[string]any{"type": "message", "user": "UCLIENT", "ts": "1767225600.000300", "text": "Can you work a buy for 10 Dec corn at 4.52 limit &amp; GTC?"},
		}
	}
	// Not a linked channel: a modal asks which client.
	if r := e.interact(shortcut("sc1-"+e.sfx, "CDM1")); r.StatusCode != 200 {
		t.Fatalf("ack %d", r.StatusCode)
	}
	views := e.slack.Views()
	if len(views) != 1 || !strings.Contains(string(views[0]), "log_to_client") {
		t.Fatalf("views %s", views)
	}
	var v struct {
		PrivateMetadata string `json:"private_metadata"`
	}
	_ = json.Unmarshal(views[0], &v)
	bad := e.interact(viewSubmission(e.broker, "log_to_client", "VL1"+e.sfx, v.PrivateMetadata, map[string]map[string]any{"client": {"ref": map[string]any{"value": "nobody-" + e.sfx}}}))
	if !strings.Contains(bad.Body, "errors") || !strings.Contains(bad.Body, "no client") {
		t.Errorf("unknown client: %s", bad.Body)
	}
	ok := e.interact(viewSubmission(e.broker, "log_to_client", "VL2"+e.sfx, v.PrivateMetadata, map[string]map[string]any{"client": {"ref": map[string]any{"value": e.acme}}}))
	if ok.StatusCode != 200 || ok.Body != "" {
		t.Fatalf("submit: %d %q", ok.StatusCode, ok.Body)
	}
	chats := e.events(store.KindChat)
	if len(chats) != 1 || chats[0].Summary != "Can you work a buy for 10 Dec corn at 4.52 limit & GTC?" || chats[0].SourceID != "CDM1/1767225600.000300" ||
		chats[0].Attrs.Extra["logged_by"] != e.broker {
		t.Fatalf("logged %+v", chats)
	}
	if got := e.slack.Responses("sc1-"+e.sfx, 1, 5*time.Second); len(got) != 1 || !strings.Contains(string(got[0]), "Logged to "+e.acme) {
		t.Errorf("confirmation %s", got)
	}
	// In a linked channel it is logged at once, without a modal.
	e.slack.AddMembers("CLINKED", "UCLIENT", e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#CLINKED>", "", nil)
	e.interact(shortcut("sc2-"+e.sfx, "CLINKED"))
	if len(e.slack.Views()) != 1 {
		t.Errorf("a modal was opened for a linked channel")
	}
	if got := e.slack.Responses("sc2-"+e.sfx, 1, 5*time.Second); len(got) != 1 || !strings.Contains(string(got[0]), "Logged to "+e.acme) {
		t.Errorf("linked confirmation %s", got)
	}
	if n := len(e.events(store.KindChat)); n != 2 {
		t.Errorf("chat events %d, want 2", n)
	}
}

// /remind over signed Slack HTTP sets one reminder; its Undo button cancels
// it, for the broker only.
func TestRemindAndUndoButton(t *testing.T) {
	e := newEnv(t, options{})
	r := e.command(e.broker, "/remind", e.acme+" in 2 minutes call back about Dec corn", "rm-"+e.sfx, nil)
	if r.StatusCode != 200 || !strings.Contains(r.Body, "your time") || !strings.Contains(r.Body, "undo_reminder") {
		t.Fatalf("/remind: %d %s", r.StatusCode, r.Body)
	}
	rs, err := e.reminders.ListReminders(t.Context(), store.ReminderFilter{ClientID: e.client(e.acme).ID})
	if err != nil || len(rs) != 1 || rs[0].Text != "call back about Dec corn" || rs[0].Broker != e.broker {
		t.Fatalf("stored %+v %v", rs, err)
	}
	id := rs[0].ID.String()
	if due := time.Until(rs[0].Due); due < time.Minute || due > 2*time.Minute+5*time.Second {
		t.Errorf("due in %v, want about 2 minutes", due)
	}

	e.interact(blockAction(e, e.manager, "undo1-"+e.sfx, "undo_reminder", id))
	got := e.slack.Responses("undo1-"+e.sfx, 1, 5*time.Second)
	if len(got) != 1 || !strings.Contains(string(got[0]), "Nothing was changed") {
		t.Errorf("the manager's undo: %s", got)
	}
	e.interact(blockAction(e, e.broker, "undo2-"+e.sfx, "undo_reminder", id))
	got = e.slack.Responses("undo2-"+e.sfx, 1, 5*time.Second)
	if len(got) != 1 || !strings.Contains(string(got[0]), "Cancelled the reminder") {
		t.Fatalf("the broker's undo: %s", got)
	}
	cur, err := e.reminders.Reminder(t.Context(), rs[0].ID)
	if err != nil || cur.State != store.ReminderCancelled {
		t.Fatalf("after undo: %+v %v", cur, err)
	}
	if evs := e.events(store.KindReminder); len(evs) != 2 || !strings.Contains(evs[0].Summary+evs[1].Summary, "Reminder cancelled") {
		t.Errorf("timeline: %d reminder events", len(evs))
	}
}
