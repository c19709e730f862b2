package bot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Who may do what, as an attacker would try it: nothing about a client of
// another desk comes out of an answer, and a client's broker, desk and
// channels are real people, desks and channels.

// testConflictsNameOnlyVisible: a value another client holds (email, phone,
// account number, handle) is answered with that client's handle only to
// someone who may see it; anyone else learns it is in use on another desk
// and whom to ask, not whose it is.
func testConflictsNameOnlyVisible(t *testing.T, h *harness) {
	s := h.sfx
	email, account := "ceo-"+s+"@northwind.example", "NW-"+strings.ToUpper(s)
	h.ok(h.broker2, "/client", fmt.Sprintf("set %s email.work=%s phone.work=+13125550777 accounts=%s", h.other, email, account))
	// A client of the broker's own desk, to collide with in plain sight.
	twin := "twin-" + s
	h.ok(h.broker, "/client", fmt.Sprintf(`add %s "Twin Farms" team=%s email.work=twin-%s@twin.example`, twin, h.desk, s))

	before := h.state()
	for _, cmd := range []string{
		"set " + h.acme + " email.work=" + strings.ToUpper(email),
		"set " + h.acme + ` phone.mobile="(312) 555-0777"`,
		"set " + h.acme + " accounts=" + strings.ToLower(account),
		"set " + h.acme + " handle=" + h.other,
		fmt.Sprintf(`add newco-%s "New Co" team=%s email.work=%s`, s, h.desk, email),
		fmt.Sprintf(`add newco-%s "New Co" team=%s phone.work=+13125550777`, s, h.desk),
		fmt.Sprintf(`add newco-%s "New Co" team=%s accounts=%s`, s, h.desk, account),
		fmt.Sprintf(`add %s "New Co" team=%s`, h.other, h.desk),
	} {
		r := h.do(h.broker, "/client", cmd)
		if r.Status != bot.Invalid || !strings.Contains(r.Text, "another desk") || !strings.Contains(r.Text, "Nothing was changed") {
			t.Errorf("/client %s\n = %v %q\nwant a refusal saying the value is in use on another desk", cmd, r.Status, r.Text)
		}
		text := r.Text
		if strings.Contains(cmd, "handle=") || strings.HasPrefix(cmd, "add "+h.other) {
			text = strings.ReplaceAll(text, h.other, "…") // the value typed
		}
		for _, secret := range []string{h.other, h.otherDesk, "Northwind", h.broker2} {
			if strings.Contains(text, secret) {
				t.Errorf("/client %s reveals %q of another desk: %q", cmd, secret, r.Text)
			}
		}
		if strings.Contains(cmd, "email") && !strings.Contains(r.Text, "admin") {
			t.Errorf("/client %s does not say whom to ask: %q", cmd, r.Text)
		}
	}
	if after := h.state(); after != before {
		t.Errorf("refused commands changed the stores:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The broker may see their own desk's client, so it is named.
	r := h.do(h.broker, "/client", "set "+h.acme+" email.work=twin-"+s+"@twin.example")
	if r.Status != bot.Invalid || !strings.Contains(r.Text, twin) || !strings.Contains(r.Text, h.desk) {
		t.Errorf("a visible holder is not named: %v %q", r.Status, r.Text)
	}
	// An admin sees every desk, so the holder is named to them.
	r = h.do(h.admin, "/client", "set "+h.acme+" email.work="+email)
	if r.Status != bot.Invalid || !strings.Contains(r.Text, h.other) || !strings.Contains(r.Text, h.otherDesk) {
		t.Errorf("the holder is not named to an admin: %v %q", r.Status, r.Text)
	}
}

// testReferencesSkipHidden: a reference that names a client of another desk
// (its handle, email, phone, account number) is answered exactly as one
// that names nothing, and when it also names a client the user may see, it
// finds that one.
func testReferencesSkipHidden(t *testing.T, h *harness) {
	s := h.sfx
	h.ok(h.broker2, "/client", fmt.Sprintf("set %s email.work=hidden-%s@northwind.example phone.work=+13125550778 accounts=HID-%s", h.other, s, strings.ToUpper(s)))
	// acme's account number reads as the other desk's client's handle.
	h.ok(h.broker, "/client", "set "+h.acme+" accounts="+strings.ToUpper(h.other))
	r := h.ok(h.broker, "/client", "show "+h.other)
	if !strings.Contains(r.Text, h.acme) || strings.Contains(r.Text, "Northwind") {
		t.Errorf("/client show %s as a broker of %s: %q, want %s (whose account number it is)", h.other, h.desk, r.Text, h.acme)
	}
	if r := h.ok(h.broker2, "/client", "show "+h.other); !strings.Contains(r.Text, "Northwind") {
		t.Errorf("/client show %s on its own desk: %q", h.other, r.Text)
	}

	// Hidden and missing read the same, whatever the command.
	hidden := []string{"hidden-" + s + "@northwind.example", "+13125550778", "HID-" + strings.ToUpper(s)}
	missing := []string{"ghost-" + s + "@northwind.example", "+13125550779", "GHO-" + strings.ToUpper(s)}
	for i := range hidden {
		for _, line := range []string{"/client show %s", "/client set %s risk=3", "/client tag %s +x", "/client link %s here",
			"/log %s call hello", "/note %s hi", "/feedback %s 5 great", "/timeline %s"} {
			name, format, _ := strings.Cut(line, " ")
			a := h.do(h.broker, name, fmt.Sprintf(format, hidden[i]))
			b := h.do(h.broker, name, fmt.Sprintf(format, missing[i]))
			if a.Status != b.Status || same(a.Text, hidden[i]) != same(b.Text, missing[i]) {
				t.Errorf("%s: a client of another desk reads differently from none:\n %v %q\n %v %q", fmt.Sprintf(line, "…"), a.Status, a.Text, b.Status, b.Text)
			}
		}
		m := bot.Message{Channel: h.channel, TS: "1767225800.000100", User: "UCLIENT" + h.SFX, Text: "hello"}
		req := bot.Request{User: h.broker, Channel: h.channel, ID: "sc-" + s}
		a, b := h.bot.LogMessage(h.ctx, req, hidden[i], m), h.bot.LogMessage(h.ctx, req, missing[i], m)
		if a.Status != b.Status || same(a.Text, hidden[i]) != same(b.Text, missing[i]) {
			t.Errorf("Log to client %s reads differently from none: %q, %q", hidden[i], a.Text, b.Text)
		}
	}
	// A shared channel linked to the other desk's client reads, to the
	// shortcut, like one linked to none: the broker picks a client of theirs.
	shared, unlinked := "CSHARED"+h.SFX, "CUNLINKED"+h.SFX
	h.dir.AddMembers(shared, h.broker, h.broker2)
	h.ok(h.broker2, "/client", "link "+h.other+" <#"+shared+">")
	req := bot.Request{User: h.broker, Channel: shared, ID: "sc-shared-" + s}
	a := h.bot.LogMessage(h.ctx, req, "", bot.Message{Channel: shared, TS: "1767225900.000100", User: "UCLIENT" + h.SFX, Text: "hello"})
	b := h.bot.LogMessage(h.ctx, req, "", bot.Message{Channel: unlinked, TS: "1767225900.000100", User: "UCLIENT" + h.SFX, Text: "hello"})
	if a.Status != bot.NeedClient || a.Text != b.Text {
		t.Errorf("shortcut in a channel of another desk's client: %v %q, want it to read like an unlinked one: %q", a.Status, a.Text, b.Text)
	}
}

// same is an answer with the reference it repeats taken out.
func same(text, ref string) string {
	return strings.ReplaceAll(strings.ToLower(text), strings.ToLower(ref), "X")
}

// testBrokerOnDesk: a client's broker is a broker or manager of its desk,
// and a person.
func testBrokerOnDesk(t *testing.T, h *harness) {
	s := h.sfx
	dead := "UDEAD" + h.SFX
	if err := h.st.Teams.AddMember(h.ctx, store.Member{SlackID: dead, Desk: h.desk, Role: store.RoleBroker, AddedBy: h.admin}); err != nil {
		t.Fatal(err)
	}
	h.dir.Add(bot.User{ID: dead, Name: "gone", Deleted: true})
	before := h.state()
	for _, tc := range []struct{ cmd, says string }{
		{"set " + h.acme + " broker=<@" + h.broker2 + "|omar>", "not a broker or manager of " + h.desk},
		{"set " + h.acme + " broker=<@UNOBODY" + h.SFX + ">", "not a broker or manager"},
		{"set " + h.acme + " broker=jane", "not a person"},
		{"set " + h.acme + " broker=<@" + dead + ">", "deactivated"},
		{"set " + h.acme + " broker=<@" + h.stranger + "> risk=9", "not a broker or manager"},
		{fmt.Sprintf(`add newco-%s "New Co" team=%s broker=<@%s>`, s, h.desk, h.broker2), "not a broker or manager of " + h.desk},
		{fmt.Sprintf(`add newco-%s "New Co" team=%s broker=UNOBODY%s`, s, h.desk, h.SFX), "not a broker or manager"},
	} {
		r := h.do(h.broker, "/client", tc.cmd)
		if r.Status != bot.Invalid || !strings.Contains(r.Text, tc.says) {
			t.Errorf("/client %s\n = %v %q\nwant Invalid saying %q", tc.cmd, r.Status, r.Text, tc.says)
		}
	}
	if after := h.state(); after != before {
		t.Errorf("refused commands changed the stores:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The desk's manager may be its broker; the broker may be cleared.
	h.ok(h.broker, "/client", "set "+h.acme+" broker=<@"+h.manager+">")
	if c := h.client(h.acme); c.Broker != h.manager {
		t.Errorf("broker %q, want the manager", c.Broker)
	}
	// A move to a desk the broker is not on needs a broker of that desk.
	r := h.do(h.broker, "/client", "set "+h.acme+" team="+h.desk2)
	if r.Status != bot.Invalid || !strings.Contains(r.Text, "not a broker or manager of "+h.desk2) || h.client(h.acme).Team != h.desk {
		t.Errorf("moved to a desk its broker is not on: %v %q", r.Status, r.Text)
	}
	h.ok(h.broker, "/client", "set "+h.acme+" team="+h.desk2+" broker=<@"+h.broker+">")
	if c := h.client(h.acme); c.Team != h.desk2 || c.Broker != h.broker {
		t.Errorf("after the move: %s %s", c.Team, c.Broker)
	}
	h.ok(h.broker, "/client", `set `+h.acme+` broker=""`)
	// Other fields of a client whose broker has since left the desk still change.
	h.ok(h.broker2, "/client", "set "+h.other+" broker=<@"+h.broker2+">")
	if err := h.st.Teams.AddMember(h.ctx, store.Member{SlackID: h.manager, Desk: h.otherDesk, Role: store.RoleBroker, AddedBy: h.admin}); err != nil {
		t.Fatal(err)
	}
	h.ok(h.broker2, "/client", "set "+h.other+" broker=<@"+h.manager+">")
	if err := h.st.Teams.RemoveMember(h.ctx, h.manager, h.admin); err != nil {
		t.Fatal(err)
	}
	h.ok(h.broker2, "/client", "set "+h.other+" risk=6")
}

// testDeskMustExist: an admin who names a desk nobody is on (a typo, or a
// desk not set up yet) is told so, and nothing is stored: such a client
// would be invisible to every broker.
func testDeskMustExist(t *testing.T, h *harness) {
	s := h.sfx
	nodesk := "new-desk-" + s
	before := h.state()
	for _, cmd := range []string{
		fmt.Sprintf(`add newco-%s "New Co" team=%s`, s, nodesk),
		fmt.Sprintf(`set %s team=%s`, h.acme, nodesk),
		fmt.Sprintf(`set %s team=%s broker=""`, h.acme, nodesk),
	} {
		r := h.do(h.admin, "/client", cmd)
		if r.Status != bot.Invalid || !strings.Contains(r.Text, "nobody is on a desk called "+nodesk) || !strings.Contains(r.Text, "/team add") {
			t.Errorf("/client %s\n = %v %q\nwant Invalid saying nobody is on %s", cmd, r.Status, r.Text, nodesk)
		}
	}
	if after := h.state(); after != before {
		t.Errorf("refused commands changed the stores:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Once someone is on it, the desk takes clients.
	h.ok(h.admin, "/team", "add <@"+h.stranger+"> "+nodesk+" broker")
	h.ok(h.admin, "/client", fmt.Sprintf(`add newco-%s "New Co" team=%s broker=<@%s>`, s, nodesk, h.stranger))
}

// testLinkMembership: a channel is linked only by someone in it, so that a
// private channel of another desk cannot be turned into a feed on one's
// own client's timeline.
func testLinkMembership(t *testing.T, h *harness) {
	priv, unseen := "CPRIV"+h.SFX, "CUNSEEN"+h.SFX
	h.dir.AddMembers(priv, h.broker2, "UCLIENT"+h.SFX)
	for _, tc := range []struct{ ch, says string }{
		{priv, "not in"},
		{unseen, "invite the BrokerSync app"},
	} {
		r := h.do(h.broker, "/client", "link "+h.acme+" <#"+tc.ch+">")
		if r.Status != bot.Refused || !strings.Contains(r.Text, tc.says) {
			t.Errorf("link %s = %v %q, want Refused saying %q", tc.ch, r.Status, r.Text, tc.says)
		}
		if _, err := h.st.Links.ChannelClient(h.ctx, tc.ch); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("%s was linked: %v", tc.ch, err)
		}
	}
	// An admin is no exception: a private channel's messages would reach
	// whoever reads the client's timeline.
	if r := h.do(h.admin, "/client", "link "+h.acme+" <#"+priv+">"); r.Status != bot.Refused {
		t.Errorf("an admin outside the channel linked it: %v %q", r.Status, r.Text)
	}
	// Once in the channel, the broker may link it.
	h.dir.AddMembers(priv, h.broker)
	h.ok(h.broker, "/client", "link "+h.acme+" <#"+priv+">")

	// Without Slack to ask (brokersync exec with no bot token) only the
	// channel the command runs in may be linked.
	nodir, err := bot.New(bot.Config{Catalogue: store.DefaultCatalogue(), Clients: h.st.Clients, Timeline: h.st.Timeline, Teams: h.st.Teams, Links: h.st.Links, Recorder: &ingest.Recorder{Timeline: h.st.Timeline}})
	if err != nil {
		t.Fatal(err)
	}
	run := func(text string) bot.Response {
		return nodir.Handle(h.ctx, bot.Request{User: h.broker, Channel: "CEXEC" + h.SFX, Command: "/client", Text: text})
	}
	if r := run("link " + h.acme + " <#COTHER" + h.SFX + ">"); r.Status != bot.Refused || !strings.Contains(r.Text, "Without Slack") {
		t.Errorf("link without Slack = %v %q", r.Status, r.Text)
	}
	if r := run("link " + h.acme + " here"); r.Status != bot.OK {
		t.Errorf("link here without Slack = %v %q", r.Status, r.Text)
	}
}

// testTeamAddRealPeople: only a person Slack knows goes on a desk.
func testTeamAddRealPeople(t *testing.T, h *harness) {
	before := h.state()
	for _, tc := range []struct{ who, says string }{
		{"<@UNOBODY" + h.SFX + ">", "Slack has no user UNOBODY" + h.SFX},
		{"<@" + h.botUser + ">", "bot"},
	} {
		r := h.do(h.admin, "/team", "add "+tc.who+" "+h.desk+" broker")
		if r.Status != bot.Invalid || !strings.Contains(r.Text, tc.says) {
			t.Errorf("/team add %s = %v %q, want Invalid saying %q", tc.who, r.Status, r.Text, tc.says)
		}
	}
	if after := h.state(); after != before {
		t.Errorf("refused commands changed the stores:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// A desk member Slack no longer knows cannot be made a client's broker.
	gone := "UGONE" + h.SFX
	if err := h.st.Teams.AddMember(h.ctx, store.Member{SlackID: gone, Desk: h.desk, Role: store.RoleBroker, AddedBy: h.admin}); err != nil {
		t.Fatal(err)
	}
	if r := h.do(h.broker, "/client", "set "+h.acme+" broker=<@"+gone+">"); r.Status != bot.Invalid || !strings.Contains(r.Text, "Slack has no user "+gone) {
		t.Errorf("broker unknown to Slack: %v %q", r.Status, r.Text)
	}
}
