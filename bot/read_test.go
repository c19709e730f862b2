package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// testWhatPeopleRead: what brokers read in Slack and in a terminal says what
// happened, in their words and their time zone.
func testWhatPeopleRead(t *testing.T, h *harness) {
	c := h.client(h.acme)
	at := time.Now().Add(-time.Hour).Truncate(time.Second)

	// System actors are not Slack users: shown as they are, never <@market>.
	for i, actor := range []string{h.acme, "market", "+13125550100"} {
		e := &store.Event{ClientID: c.ID, Time: at.Add(time.Duration(i) * time.Minute), Kind: store.KindEvent, Source: "test",
			SourceID: "actor-" + actor, Actor: actor, Summary: "moved by " + actor}
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
		if err := h.st.Timeline.AppendEvents(h.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	r := h.ok(h.broker, "/timeline", h.acme)
	all := r.Text + "\n" + bot.PlainText(r)
	for _, b := range r.Blocks {
		if l, ok := b.(bot.List); ok {
			all += "\n" + strings.Join(l.Items, "\n")
		}
	}
	for _, bad := range []string{"<@" + h.acme + ">", "<@market>", "<@+13125550100>"} {
		if strings.Contains(all, bad) {
			t.Errorf("a system actor shown as a mention %s:\n%s", bad, all)
		}
	}
	for _, want := range []string{"· market", "· " + h.acme, "· +13125550100"} {
		if !strings.Contains(all, want) {
			t.Errorf("timeline lacks actor %q:\n%s", want, all)
		}
	}
	// The broker's own entries still mention them.
	h.ok(h.broker, "/note", h.acme+" call them back")
	if r := h.ok(h.broker, "/timeline", h.acme+" note"); !strings.Contains(r.Blocks[2].(bot.List).Items[0], "<@"+h.broker+">") {
		t.Errorf("a broker's note does not mention them: %v", r.Blocks[2])
	}

	// Times carry their zone: jane reads Chicago time, omar London's.
	if p := bot.PlainText(h.ok(h.broker, "/timeline", h.acme)); !strings.Contains(p, at.In(mustLoc(t, "America/Chicago")).Format("15:04 MST")) {
		t.Errorf("jane's timeline has no Chicago time with its zone:\n%s", p)
	}
	if p := bot.PlainText(h.ok(h.manager, "/timeline", h.acme)); !strings.Contains(p, at.UTC().Format("15:04 UTC")) {
		t.Errorf("maria (no zone known) does not read UTC, named:\n%s", p)
	}

	// Call lengths keep their digits.
	for _, tc := range []struct{ typed, shown string }{{"10m", "10m"}, {"1h30m", "1h 30m"}, {"90s", "1m 30s"}, {"2h", "2h"}} {
		r := h.ok(h.broker, "/log", h.acme+" call out "+tc.typed+" about the basis")
		if !strings.Contains(r.Text, "outbound "+tc.shown+" — about the basis") {
			t.Errorf("call of %s reads %q, want %q", tc.typed, r.Text, tc.shown)
		}
	}

	before := h.state()
	// Adding and removing one tag at once is a contradiction, refused.
	r = h.do(h.broker, "/client", "tag "+h.acme+" +vip -vip")
	if r.Status != bot.Invalid || !strings.Contains(r.Text, `both to add and to remove the tag "vip"`) {
		t.Errorf("+vip -vip: %v %q", r.Status, r.Text)
	}
	// A rating is a whole number: 3.5 is refused, not kept as the words.
	for _, w := range []string{"3.5", "4,5", "3.5/5", "-2"} {
		r = h.do(h.broker, "/feedback", h.acme+" "+w+" good service")
		if r.Status != bot.Invalid || !strings.Contains(r.Text, "whole number from 1") || !strings.Contains(r.Text, w) {
			t.Errorf("feedback rated %s: %v %q", w, r.Status, r.Text)
		}
	}
	// Field names are kept as they are typed.
	r = h.do(h.broker, "/client", "set "+h.acme+" phone.work=12")
	if r.Status != bot.Invalid || !strings.HasPrefix(r.Text, `phone.work: "12"`) {
		t.Errorf("bad phone: %v %q, want it to start with the field as typed", r.Status, r.Text)
	}
	if after := h.state(); after != before {
		t.Errorf("refused commands changed something:\n%s\n%s", before, after)
	}
	// Removing a tag the client does not have says so.
	r = h.ok(h.broker, "/client", "tag "+h.acme+" -unknown")
	if !strings.Contains(r.Text, h.acme+` has no tag "unknown"`) || strings.Contains(r.Text, "already has") {
		t.Errorf("-unknown: %q", r.Text)
	}
	r = h.ok(h.broker, "/client", "tag "+h.acme+" +vip -unknown")
	if !strings.Contains(r.Text, "Updated") || !strings.Contains(r.Text, `no tag "unknown"`) || !strings.Contains(strings.Join(h.client(h.acme).Tags, ","), "vip") {
		t.Errorf("+vip -unknown: %q", r.Text)
	}

	// One is singular.
	r = h.ok(h.broker, "/client", "find Acme Grain Co-op")
	if !strings.Contains(r.Text, "1 client ") || strings.Contains(r.Text, "1 clients") {
		t.Errorf("find one: %q", r.Text)
	}
	r = h.ok(h.broker, "/timeline", h.acme+" feedback")
	if r.Status == bot.OK && strings.Contains(r.Text, "Nothing") {
		h.ok(h.broker, "/feedback", h.acme+" 4 good service")
		r = h.ok(h.broker, "/timeline", h.acme+" feedback")
	}
	if !strings.Contains(r.Text, "Latest 1 event (feedback): 1 feedback") {
		t.Errorf("one feedback: %q", r.Text)
	}
	r = h.ok(h.broker, "/timeline", h.acme+" call")
	if !strings.Contains(r.Text, "Latest 4 events (call): 4 calls") {
		t.Errorf("four calls: %q", r.Text)
	}

	// Outside Slack, mentions read as names from the directory; ids it does
	// not know stay ids, never <@…> markup.
	ch := "C7" + h.SFX
	h.dir.AddChannel(bot.Channel{ID: ch, Name: "acme-deals"})
	h.dir.AddMembers(ch, h.broker)
	r = h.ok(h.broker, "/client", "link "+h.acme+" <#"+ch+">")
	names := &bot.Names{Users: h.dir, Channels: h.dir}
	if got := bot.PlainTextNamed(h.ctx, r, names); !strings.Contains(got, "#acme-deals") || strings.Contains(got, "<#") {
		t.Errorf("link answer outside Slack: %q", got)
	}
	r = h.ok(h.broker, "/timeline", h.acme+" event")
	got := bot.PlainTextNamed(h.ctx, r, names)
	if !strings.Contains(got, "linked by @jane") || !strings.Contains(got, "#acme-deals") || strings.Contains(got, "<@") {
		t.Errorf("timeline outside Slack:\n%s", got)
	}
	if got := (&bot.Names{}).Text(h.ctx, "by <@"+h.broker+"> in <#"+ch+">"); got != "by @"+h.broker+" in #"+ch {
		t.Errorf("without a directory: %q", got)
	}
}
