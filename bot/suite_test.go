package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// runSuite runs every command test against one set of backends. The same
// suite runs on the embedded store and on PostgreSQL + Cassandra.
func runSuite(t *testing.T, st Stores) {
	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"BadInputChangesNothing", testBadInput},
		{"Help", testHelp},
		{"ClientAdd", testClientAdd},
		{"ClientShowAndFind", testShowFind},
		{"ClientShowActivity", testShowActivity},
		{"SegmentCommands", testSegmentCommands},
		{"SegmentDeskRights", testSegmentDeskRights},
		{"SegmentWatch", testSegmentWatch},
		{"WorkflowCommands", testWorkflowCommands},
		{"WorkflowDeskRights", testWorkflowDeskRights},
		{"ClientSetReachesEveryField", testSetEveryField},
		{"ClientSetRecordsChange", testSetRecords},
		{"ClientTag", testTag},
		{"ClientLinkAndChannelMessages", testLinkMessages},
		{"LogNoteFeedback", testLogNoteFeedback},
		{"Timeline", testTimeline},
		{"Remind", testRemind},
		{"Followups", testFollowups},
		{"FollowupsSettings", testFollowupsSettings},
		{"FollowupsManager", testFollowupsManager},
		{"TeamSetFollowups", testTeamSetFollowups},
		{"TeamSetMilestones", testTeamSetMilestones},
		{"Team", testTeam},
		{"Rights", testRights},
		{"LogMessageShortcut", testLogMessage},
		{"SameRequestTwiceLogsOnce", testIdempotent},
		{"Concurrent", testConcurrent},
		{"WhatPeopleRead", testWhatPeopleRead},
		{"ConflictsNameOnlyVisibleClients", testConflictsNameOnlyVisible},
		{"ReferencesSkipHiddenClients", testReferencesSkipHidden},
		{"BrokerMustBeOnTheDesk", testBrokerOnDesk},
		{"DeskMustHavePeople", testDeskMustExist},
		{"LinkOnlyChannelsYouAreIn", testLinkMembership},
		{"TeamAddRealPeople", testTeamAddRealPeople},
		{"Digest", testDigest},
		{"DeskLinks", testDeskLinks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newHarness(t, st))
		})
	}
}

// testBadInput: every command's malformed, refused and unknown-client cases
// get the right status, a message that says what to do, and change nothing.
func testBadInput(t *testing.T, h *harness) {
	type c struct {
		user, cmd, text string
		status          bot.Status
		says            string
	}
	B, M, S, A := h.broker, h.manager, h.stranger, h.admin
	cases := []c{
		{B, "/frobnicate", "", bot.Invalid, "no /frobnicate command"},
		{"", "/client", "show " + h.acme, bot.Refused, "--as"},
		{B, "/client", "explode", bot.Invalid, "has no \"explode\""},
		{B, "/client", "add", bot.Invalid, "Usage: /client add"},
		{B, "/client", `add Bad_Handle! "X"`, bot.Invalid, "not a handle"},
		{B, "/client", "add newco-" + h.sfx, bot.Invalid, "name"},
		{B, "/client", "add risk=3", bot.Invalid, "handle"},
		{B, "/client", fmt.Sprintf(`add newco-%s "New Co" risk=11`, h.sfx), bot.Invalid, "risk"},
		{B, "/client", fmt.Sprintf(`add newco-%s "New Co" colour=red`, h.sfx), bot.Invalid, "no such field"},
		{B, "/client", fmt.Sprintf(`add newco-%s "New Co" team="%s`, h.sfx, h.desk), bot.Invalid, "never closed"},
		{B, "/client", fmt.Sprintf(`add newco-%s "New Co" email.work=not-an-email`, h.sfx), bot.Invalid, "email"},
		{B, "/client", fmt.Sprintf(`add newco-%s "New Co"`, h.sfx), bot.Invalid, "team=<desk>"},
		{B, "/client", fmt.Sprintf(`add newco-%s "New Co" team=%s`, h.sfx, h.otherDesk), bot.Refused, "only to desks"},
		{A, "/client", fmt.Sprintf(`add newco-%s "New Co"`, h.sfx), bot.Invalid, "team=<desk>"},
		{B, "/client", fmt.Sprintf(`add %s "Duplicate" team=%s`, h.acme, h.desk), bot.Invalid, h.acme},
		{B, "/client", "show", bot.Invalid, "Which client"},
		{B, "/client", "show nosuch-" + h.sfx, bot.NotFound, "no client"},
		{B, "/client", "show " + h.other, bot.NotFound, "no client"},
		{B, "/client", "show acme grain", bot.Invalid, "/client find"},
		{B, "/client", "find tag:!!", bot.Invalid, "tag"},
		{B, "/client", "set", bot.Invalid, "Name the client"},
		{B, "/client", "set " + h.acme, bot.Invalid, "field=value"},
		{B, "/client", "set " + h.acme + " risk", bot.Invalid, "not field=value"},
		{B, "/client", "set " + h.acme + " =7", bot.Invalid, "no field name"},
		{B, "/client", "set " + h.acme + " risk=11", bot.Invalid, "risk tolerance"},
		{B, "/client", "set " + h.acme + " risk=7 nosuch=1", bot.Invalid, "no such field"},
		{B, "/client", "set " + h.acme + " timezone=Mars/Base", bot.Invalid, "time zone"},
		{B, "/client", "set " + h.acme + " phone.work=12", bot.Invalid, "phone"},
		{B, "/client", "set " + h.acme + " goal.3.description=x", bot.Invalid, "goal"},
		{B, "/client", "set " + h.acme + " stage=asleep", bot.Invalid, "stage"},
		{B, "/client", "set " + h.acme + " team=" + h.otherDesk, bot.Invalid, "only to a desk"},
		{B, "/client", "set nosuch-" + h.sfx + " risk=3", bot.NotFound, "no client"},
		{B, "/client", "set " + h.other + " risk=3", bot.NotFound, "no client"},
		{M, "/client", "set " + h.acme + " risk=3", bot.Refused, "only its brokers"},
		{B, "/client", "tag " + h.acme, bot.Invalid, "tags to add"},
		{B, "/client", "tag " + h.acme + ` "bad tag!"`, bot.Invalid, "not a tag"},
		{B, "/client", "tag " + h.acme + ` ""`, bot.Invalid, "empty tag"},
		{M, "/client", "tag " + h.acme + " +vip", bot.Refused, "only its brokers"},
		{B, "/client", "link " + h.acme + " #general", bot.Invalid, "plain text"},
		{B, "/client", "link " + h.acme + " general", bot.Invalid, "not a channel"},
		{B, "/client", "link", bot.Invalid, "Name the client"},
		{B, "/client", "link " + h.other + " <#C1" + h.SFX + "|x>", bot.NotFound, "no client"},
		{M, "/client", "link " + h.acme + " <#C1" + h.SFX + "|x>", bot.Refused, "only its brokers"},
		{B, "/log", "", bot.Invalid, "Usage: /log"},
		{B, "/log", h.acme, bot.Invalid, "call, meeting"},
		{B, "/log", h.acme + " dance all night", bot.Invalid, "not something /log records"},
		{B, "/log", h.acme + " call", bot.Invalid, "summary"},
		{B, "/log", h.acme + " call out 15m", bot.Invalid, "summary"},
		{B, "/log", "nosuch-" + h.sfx + " call hello", bot.NotFound, "no client"},
		{M, "/log", h.acme + " call hello", bot.Refused, "only its brokers"},
		{B, "/note", "", bot.Invalid, "Usage: /note"},
		{B, "/note", h.acme, bot.Invalid, "write the note"},
		{B, "/note", h.other + " psst", bot.NotFound, "no client"},
		{B, "/feedback", h.acme, bot.Invalid, "what they said"},
		{B, "/feedback", h.acme + " 7 great service", bot.Invalid, "1 (poor) to 5"},
		{B, "/feedback", h.acme + " 0/5 meh", bot.Invalid, "1 (poor) to 5"},
		{B, "/feedback", h.acme + " 4", bot.Invalid, "What did the client say"},
		{B, "/timeline", "", bot.Invalid, "Which client"},
		{B, "/timeline", h.acme + " dances", bot.Invalid, "not a kind"},
		{B, "/timeline", h.acme + " since", bot.Invalid, "Since when"},
		{B, "/timeline", h.acme + " since someday", bot.Invalid, "not a date"},
		{B, "/timeline", "nosuch-" + h.sfx, bot.NotFound, "no client"},
		{B, "/timeline", h.other, bot.NotFound, "no client"},
		{B, "/team", "add <@" + h.stranger + "> " + h.desk + " broker", bot.Refused, "Only BrokerSync admins"},
		{M, "/team", "list", bot.Refused, "Only BrokerSync admins"},
		{A, "/team", "add", bot.Invalid, "Usage: /team add"},
		{A, "/team", "add bob new-desk-" + h.sfx + " broker", bot.Invalid, "not a person"},
		{A, "/team", "add <@" + h.stranger + "> new-desk-" + h.sfx + " chief", bot.Invalid, "role"},
		{A, "/team", "add <@" + h.stranger + "> Bad_Desk! broker", bot.Invalid, "desk"},
		{A, "/team", "add <@" + h.botUser + "> new-desk-" + h.sfx + " broker", bot.Invalid, "bot"},
		{A, "/team", "remove <@" + h.stranger + ">", bot.NotFound, "not on any desk"},
		{A, "/team", "remove", bot.Invalid, "Usage: /team remove"},
		{A, "/team", "promote <@" + h.broker + ">", bot.Invalid, "has no"},
	}
	// Someone on no desk is told to ask an admin, whatever they ask, and is
	// shown nothing about any client.
	for _, cmd := range []string{"/client show " + h.acme, "/client find acme", "/client set " + h.acme + " risk=9",
		"/client add newco-" + h.sfx + " \"New\" team=" + h.desk, "/client tag " + h.acme + " +x",
		"/client link " + h.acme + " here", "/log " + h.acme + " call hi", "/note " + h.acme + " hi",
		"/feedback " + h.acme + " 5 great", "/timeline " + h.acme, "/team list"} {
		name, text, _ := strings.Cut(cmd, " ")
		cases = append(cases, c{S, name, text, bot.Refused, "Ask an admin"})
	}
	before := h.state()
	for _, tc := range cases {
		r := h.do(tc.user, tc.cmd, tc.text)
		if r.Status != tc.status || !strings.Contains(strings.ToLower(r.Text), strings.ToLower(tc.says)) {
			t.Errorf("%s %s %s\n = %v %q\nwant %v saying %q", tc.user, tc.cmd, tc.text, r.Status, r.Text, tc.status, tc.says)
		}
		if tc.status != bot.Invalid || !strings.HasPrefix(tc.cmd, "/client") {
			if strings.Contains(r.Text, "Acme Grain") || strings.Contains(r.Text, "Northwind") {
				t.Errorf("%s %s: the refusal shows a client: %q", tc.cmd, tc.text, r.Text)
			}
		}
		if len(r.Text) > 600 {
			t.Errorf("%s %s: error is not short (%d bytes): %q", tc.cmd, tc.text, len(r.Text), r.Text)
		}
	}
	if after := h.state(); after != before {
		t.Errorf("bad commands changed the stores:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func testHelp(t *testing.T, h *harness) {
	for _, line := range []string{"/client help", "/client", "/client add help", "/client show help", "/client find help",
		"/client set help", "/client tag help", "/client link help", "/log help", "/note help", "/feedback help",
		"/timeline help", "/team help", "/team add help", "/team remove help", "/team list help"} {
		name, text, _ := strings.Cut(line, " ")
		// Help shows no client, so anyone may read it.
		r := h.do(h.stranger, name, text)
		if r.Status != bot.OK || !strings.Contains(r.Text, "Usage:") {
			t.Errorf("%s = %v %q", line, r.Status, r.Text)
		}
	}
	r := h.do(h.broker, "/client", "set help")
	for _, f := range store.FieldHelp() {
		if !strings.Contains(r.Text, f[0]) {
			t.Errorf("/client set help does not list %s", f[0])
		}
	}
}

func testClientAdd(t *testing.T, h *harness) {
	// Unicode names, Slack's mailto and mention escapes, typographic quotes.
	handle := "newco-" + h.sfx
	r := h.ok(h.broker, "/client", fmt.Sprintf(`add %s “Société Générale — Ölhandel 株式会社” team=%s broker=<@%s|maria> email.work=<mailto:Ops-%s@SocGen.example|Ops-%s@SocGen.example> phone.mobile=<tel:+13125550188|+1 312 555 0188>`,
		handle, h.desk, h.manager, h.sfx, h.sfx))
	c := h.client(handle)
	if c.Name != "Société Générale — Ölhandel 株式会社" || c.Team != h.desk || c.Broker != h.manager {
		t.Errorf("added %+v", c)
	}
	if len(c.Emails) != 1 || c.Emails[0].Address != "ops-"+h.sfx+"@socgen.example" || len(c.Phones) != 1 || c.Phones[0].Number != "+13125550188" {
		t.Errorf("contacts %+v %+v", c.Emails, c.Phones)
	}
	if !strings.Contains(r.Text, "Added "+handle) {
		t.Errorf("answer %q", r.Text)
	}
	// The addition is on the timeline and in the audit trail, by the broker.
	evs := h.events(handle)
	if len(evs) != 1 || evs[0].Kind != store.KindEvent || evs[0].Actor != h.broker || !strings.Contains(evs[0].Summary, "client added") {
		t.Errorf("timeline after add: %v", evs)
	}
	trail, err := h.st.Clients.AuditTrail(h.ctx, c.ID, 10)
	if err != nil || len(trail) == 0 || trail[0].Actor != h.broker {
		t.Errorf("audit trail %v %v", trail, err)
	}
	// A broker on one desk need not name it; they become the client's broker.
	h.ok(h.broker2, "/client", "add solo-"+h.sfx+" Solo Trading LLC")
	if c := h.client("solo-" + h.sfx); c.Team != h.otherDesk || c.Broker != h.broker2 || c.Name != "Solo Trading LLC" {
		t.Errorf("defaults: %+v", c)
	}
	// A workspace admin (from users.info) may add to any desk.
	h.ok(h.wsAdmin, "/client", fmt.Sprintf(`add admin-%s "Admin Co" team=%s`, h.sfx, h.otherDesk))
}

func testShowFind(t *testing.T, h *harness) {
	h.ok(h.broker, "/client", "set "+h.acme+" tags=high-value stage=active accounts=acc-"+h.sfx)
	for _, user := range []string{h.broker, h.manager, h.admin} {
		r := h.ok(user, "/client", "show "+strings.ToUpper(h.acme))
		if !strings.Contains(r.Text, "Acme Grain Co-op") || len(r.Blocks) == 0 {
			t.Errorf("show as %s: %q", user, r.Text)
		}
		plain := bot.PlainText(r)
		for _, want := range []string{"Acme Grain Co-op", "Desk:", h.desk, "@" + h.broker, "high-value", "4/10 (moderate)"} {
			if !strings.Contains(plain, want) {
				t.Errorf("profile as text lacks %q:\n%s", want, plain)
			}
		}
	}
	// By email, as Slack sends it.
	r := h.ok(h.broker, "/client", fmt.Sprintf("show <mailto:ops-%s@acmegrain.com|ops-%s@acmegrain.com>", h.sfx, h.sfx))
	if !strings.Contains(r.Text, h.acme) {
		t.Errorf("show by email: %q", r.Text)
	}
	// By order-system account number, in any case.
	r = h.ok(h.broker, "/client", "show ACC-"+strings.ToUpper(h.sfx))
	if !strings.Contains(r.Text, h.acme) {
		t.Errorf("show by account number: %q", r.Text)
	}
	// Find stays within the user's desks.
	r = h.ok(h.broker, "/client", "find "+h.sfx)
	plain := bot.PlainText(r)
	if !strings.Contains(plain, h.acme) || strings.Contains(plain, h.other) {
		t.Errorf("broker's find: %s", plain)
	}
	r = h.ok(h.admin, "/client", "find "+h.sfx)
	if plain := bot.PlainText(r); !strings.Contains(plain, h.acme) || !strings.Contains(plain, h.other) {
		t.Errorf("admin's find: %s", plain)
	}
	r = h.ok(h.broker, "/client", "find tag:high-value")
	if plain := bot.PlainText(r); !strings.Contains(plain, h.acme) {
		t.Errorf("find by tag: %s", plain)
	}
	r = h.ok(h.broker, "/client", "find zzz-nothing-"+h.sfx)
	if !strings.Contains(r.Text, "No clients") {
		t.Errorf("find nothing: %q", r.Text)
	}
}

// every profile field, the value typed and the value stored.
func everyField(h *harness) [][3]string {
	s := h.sfx
	return [][3]string{
		{"goal.1.description", "Hedge 50% of the 2026 crop", ""},
		{"goal.1.term", "long", ""},
		{"goal.1.commodity", "corn", ""},
		{"goal.1.target", "50", ""},
		{"goal.1.deadline", "2026-10-01", ""},
		{"goal.1.progress", "20%", "20"},
		{"name", "Acme Grain & Feed Коопера́тив", ""},
		{"company", "Acme Holdings", ""},
		{"kind", "individual", ""},
		{"accounts", "A-1, A-2", "A-1,A-2"},
		{"broker", "<@" + h.broker + "|jane>", h.broker},
		{"team", h.desk2, ""},
		{"onboarded", "2024-03-01", ""},
		{"stage", "active", ""},
		{"timezone", "America/Chicago", ""},
		{"channels", "phone,email", ""},
		{"times", "morning,08:00-11:30", ""},
		{"frequency", "weekly", ""},
		{"dnc", "yes", "true"},
		{"dnc.reason", "quiet period until harvest", ""},
		{"commodities", "corn,CBOT:ZS", "corn,soybeans"},
		{"instruments", "futures,options", ""},
		{"ordertypes", "limit,stop-limit", ""},
		{"risk", "7", ""},
		{"horizon", "long", ""},
		{"limit.position", "50", ""},
		{"limit.loss", "25,000", "25000"},
		{"risk.assessed", "2025-01-10", ""},
		{"risk.review", "2026-01-10", ""},
		{"kyc.occupation", "farmer", ""},
		{"kyc.income", "120000", ""},
		{"kyc.networth", "1500000", ""},
		{"kyc.dob", "1970-05-01", ""},
		{"kyc.investing", "20 years of equities", ""},
		{"kyc.futures", "10 years of hedging", ""},
		{"diversification", "spread across grains and softs", ""},
		{"tags", "high-value,frequent-trader", ""},
		{"phone.work", "+1 312 555 0100", "+13125550100"},
		{"phone.home", "(312) 555-0101", "+13125550101"},
		{"phone.mobile", "<tel:+13125550102|+1 312 555 0102>", "+13125550102"},
		{"phone.personal", "+44 20 7946 0958", "+442079460958"},
		{"email.work", "Jane-" + s + "@AcmeGrain.com", "jane-" + s + "@acmegrain.com"},
		{"email.home", "<mailto:home-" + s + "@example.com|home-" + s + "@example.com>", "home-" + s + "@example.com"},
		{"email.mobile", "m-" + s + "@example.com", ""},
		{"email.personal", "p-" + s + "@example.com", ""},
		{"address.work.street", "1 Elevator Rd", ""},
		{"address.work.city", "Decatur", ""},
		{"address.work.region", "IL", ""},
		{"address.work.postcode", "62521", ""},
		{"address.work.country", "us", "US"},
		{"address.home.street", "2 Farm Ln", ""},
		{"address.home.city", "Mattoon", ""},
		{"address.home.region", "IL", ""},
		{"address.home.postcode", "61938", ""},
		{"address.home.country", "US", ""},
		{"handle", "acme-renamed-" + s, ""},
	}
}

// testSetEveryField sets every field /client set knows, in one command, and
// reads each back: a field added to the store without a sample here fails.
func testSetEveryField(t *testing.T, h *harness) {
	fields := everyField(h)
	var words []string
	want := map[string]string{}
	for _, f := range fields {
		words = append(words, fmt.Sprintf("%s=%q", f[0], f[1]))
		want[f[0]] = f[2]
		if f[2] == "" {
			want[f[0]] = f[1]
		}
	}
	for _, fh := range store.FieldHelp() {
		name := strings.ReplaceAll(fh[0], ".N.", ".1.")
		if _, ok := want[name]; !ok {
			t.Errorf("field %s has no sample value in this test", fh[0])
		}
	}
	r := h.ok(h.broker, "/client", "set "+h.acme+" "+strings.Join(words, " "))
	c := h.client("acme-renamed-" + h.sfx)
	got := store.Fields(c)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %q, want %q", name, got[name], v)
		}
	}
	if !strings.Contains(r.Text, "risk 4 -> 7") {
		t.Errorf("answer does not list the change: %q", r.Text)
	}
	h.acme = c.Handle // later checks in this harness use the new handle
	// Clearing a field.
	h.ok(h.broker, "/client", `set `+c.Handle+` dnc.reason="" goal.1.description=`)
	if c := h.client(c.Handle); c.Contact.DoNotReason != "" || len(c.Goals) != 0 {
		t.Errorf("clear: %+v %+v", c.Contact, c.Goals)
	}
}

func testSetRecords(t *testing.T, h *harness) {
	before := h.client(h.acme)
	r := h.ok(h.broker, "/client", "set "+h.acme+" risk=7 horizon=long")
	after := h.client(h.acme)
	if after.Risk.Tolerance != 7 || after.Version != before.Version+1 {
		t.Errorf("after set: %+v", after.Risk)
	}
	// The timeline keeps milliseconds, and the client was added in the same
	// millisecond often enough: look for the change rather than expect it
	// first.
	evs := h.events(h.acme, store.KindEvent)
	i := slices.IndexFunc(evs, func(e *store.Event) bool { return strings.Contains(e.Summary, "risk 4 -> 7") })
	if i < 0 || evs[i].Actor != h.broker || len(evs[i].Attrs.Change) != 2 {
		t.Errorf("change event: %+v", evs)
	}
	trail, err := h.st.Clients.AuditTrail(h.ctx, after.ID, 5)
	if err != nil || len(trail) < 2 || trail[0].Actor != h.broker {
		t.Errorf("audit trail %+v %v", trail, err)
	}
	if !strings.Contains(r.Text, "horizon (none) -> long") {
		t.Errorf("answer %q", r.Text)
	}
	// The same values again change nothing and add no event.
	n := len(h.events(h.acme))
	r = h.ok(h.broker, "/client", "set "+h.acme+" risk=7")
	if !strings.Contains(r.Text, "Nothing changed") || len(h.events(h.acme)) != n || h.client(h.acme).Version != after.Version {
		t.Errorf("no-op set: %q", r.Text)
	}
}

func testTag(t *testing.T, h *harness) {
	h.ok(h.broker, "/client", "tag "+h.acme+" +high-value #Frequent-Trader needs-updates")
	if got := h.client(h.acme).Tags; strings.Join(got, ",") != "high-value,frequent-trader,needs-updates" {
		t.Errorf("tags %v", got)
	}
	// Slack turns - into an en dash on some keyboards.
	r := h.ok(h.broker, "/client", "tag "+h.acme+" –needs-updates -high-value +café")
	if got := h.client(h.acme).Tags; strings.Join(got, ",") != "frequent-trader,café" {
		t.Errorf("tags %v (%s)", got, r.Text)
	}
	if evs := h.events(h.acme, store.KindEvent); !strings.Contains(evs[0].Summary, "tags") {
		t.Errorf("tag change not on the timeline: %v", evs[0])
	}
}

func testLinkMessages(t *testing.T, h *harness) {
	ch := "C9" + h.SFX
	h.dir.AddMembers(ch, h.broker, h.broker2)
	r := h.ok(h.broker, "/client", "link "+h.acme+" <#"+ch+"|acme-desk>")
	if !strings.Contains(r.Text, "<#"+ch+">") {
		t.Errorf("link answer %q", r.Text)
	}
	// "here" links the channel the command was typed in.
	h.ok(h.broker, "/client", "link "+h.acme+" here")
	if id, err := h.st.Links.ChannelClient(h.ctx, h.channel); err != nil || id != h.client(h.acme).ID {
		t.Errorf("here: %v %v", id, err)
	}
	// Another desk's broker may not take the channel over.
	h.ok(h.broker2, "/client", "show "+h.other)
	if r := h.do(h.broker2, "/client", "link "+h.other+" <#"+ch+">"); r.Status != bot.Refused {
		t.Errorf("relink by another desk: %v %q", r.Status, r.Text)
	}

	msg := bot.Message{Channel: ch, TS: "1767225600.000100", User: "UCLIENT" + h.SFX, Text: "Thanks, great fill on the crude &amp; the spread"}
	for range 2 { // a retried delivery is the same event
		if err := h.bot.ChannelMessage(h.ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	chats := h.events(h.acme, store.KindChat)
	if len(chats) != 1 {
		t.Fatalf("chat events %d, want 1", len(chats))
	}
	e := chats[0]
	if e.Source != "slack" || e.SourceID != ch+"/1767225600.000100" || e.Summary != "Thanks, great fill on the crude & the spread" ||
		e.Sentiment == nil || e.Sentiment.Label != "positive" || e.Attrs.Chat == nil || e.Attrs.Chat.Channel != ch ||
		!e.Time.Equal(time.Unix(1767225600, 0)) || e.Actor != msg.User {
		t.Errorf("chat event %+v %+v", e, e.Sentiment)
	}
	edit := msg
	edit.Text, edit.Edited = "Not happy with the slippage on the crude", true
	for range 2 {
		if err := h.bot.ChannelMessage(h.ctx, edit); err != nil {
			t.Fatal(err)
		}
	}
	chats = h.events(h.acme, store.KindChat)
	if len(chats) != 1 || chats[0].ID != e.ID || !chats[0].Attrs.Chat.Edited || chats[0].Summary != edit.Text ||
		chats[0].Sentiment.Label != "negative" || chats[0].Attrs.Extra["original"] != e.Summary {
		t.Errorf("after edit: %+v %+v", chats[0], chats[0].Attrs)
	}
	del := bot.Message{Channel: ch, TS: msg.TS, Deleted: true}
	if err := h.bot.ChannelMessage(h.ctx, del); err != nil {
		t.Fatal(err)
	}
	chats = h.events(h.acme, store.KindChat)
	if len(chats) != 1 || !chats[0].Attrs.Chat.Deleted || chats[0].Summary != edit.Text {
		t.Errorf("after delete the event must stay, marked: %+v", chats)
	}
	// Unlinked channels, empty messages and deletions of unknown messages leave nothing.
	n := len(h.events(h.acme))
	for _, m := range []bot.Message{
		{Channel: "CUNLINKED" + h.SFX, TS: "1767225601.000001", User: "U1", Text: "hello"},
		{Channel: ch, TS: "1767225602.000001", User: "U1", Text: "  "},
		{Channel: ch, TS: "1767225603.000001", Deleted: true},
	} {
		if err := h.bot.ChannelMessage(h.ctx, m); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
	if got := len(h.events(h.acme)); got != n {
		t.Errorf("events %d, want %d", got, n)
	}
	if err := h.bot.ChannelMessage(h.ctx, bot.Message{Channel: ch, TS: "garbage", Text: "x"}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("bad ts: %v", err)
	}
}

func testLogNoteFeedback(t *testing.T, h *harness) {
	r := h.ok(h.broker, "/log", h.acme+" call out 15m Talked through the Dec corn hedge; happy with the fill")
	calls := h.events(h.acme, store.KindCall)
	if len(calls) != 1 || calls[0].Attrs.Call == nil || calls[0].Attrs.Call.Direction != "outbound" ||
		calls[0].Attrs.Call.Duration != 15*time.Minute || calls[0].Sentiment == nil || calls[0].Actor != h.broker ||
		calls[0].Source != "command" {
		t.Errorf("call %+v", calls)
	}
	if !strings.Contains(r.Text, "Logged to "+h.acme) {
		t.Errorf("answer %q", r.Text)
	}
	for _, kind := range []string{"meetings", "chat", "EMAIL", "recommendation"} {
		h.ok(h.broker, "/log", h.acme+" "+kind+" something about "+kind)
	}
	long := strings.Repeat("Long summary with détails. ", 20) + "\nsecond line"
	h.ok(h.broker, "/log", h.acme+" meeting "+long)
	meetings := h.events(h.acme, store.KindMeeting)
	i := slices.IndexFunc(meetings, func(e *store.Event) bool { return strings.HasPrefix(e.Summary, "Long summary") })
	if len(meetings) != 2 || i < 0 || len([]rune(meetings[i].Summary)) > 201 || !strings.Contains(meetings[i].Body, "second line") {
		t.Errorf("long meeting: %+v", meetings)
	}

	h.ok(h.broker, "/note", h.acme+" ask <@"+h.broker2+"|omar> about the basis\nand the storage costs")
	notes := h.events(h.acme, store.KindNote)
	if len(notes) != 1 || notes[0].Attrs.Extra["mentions"] != h.broker2 || !strings.Contains(notes[0].Body, "storage costs") ||
		!strings.Contains(notes[0].Summary, "<@"+h.broker2+">") || notes[0].Sentiment != nil {
		t.Errorf("note %+v", notes)
	}

	h.ok(h.broker, "/feedback", h.acme+" 4/5 Good service, slow reports")
	h.ok(h.broker, "/feedback", h.acme+" ★★ angry about the slippage")
	h.ok(h.broker, "/feedback", h.acme+" no rating given, thanks")
	fb := h.events(h.acme, store.KindFeedback)
	if len(fb) != 3 {
		t.Fatalf("feedback events %d", len(fb))
	}
	ratings := map[string]int{}
	for _, e := range fb {
		ratings[e.Summary] = e.Attrs.Feedback.Rating
	}
	if ratings["Good service, slow reports"] != 4 || ratings["angry about the slippage"] != 2 || ratings["no rating given, thanks"] != 0 {
		t.Errorf("ratings %v", ratings)
	}
}

func testTimeline(t *testing.T, h *harness) {
	h.ok(h.broker, "/log", h.acme+" call in 5m Client happy with the corn fill")
	h.ok(h.broker, "/feedback", h.acme+" 2 not happy with the slippage")
	h.ok(h.broker, "/note", h.acme+" follow up Friday")
	c := h.client(h.acme)
	order := &store.Event{ClientID: c.ID, Time: time.Now().Add(-time.Hour), Kind: store.KindOrder, Source: "orders", SourceID: "ord-" + h.sfx,
		Summary: "Dec corn", Attrs: store.Attrs{Order: &store.OrderAttrs{OrderID: "O1", Status: "filled", Side: "buy", Quantity: 10, Contract: "ZCZ6", Price: 452.25, OrderType: "limit"}}}
	if err := order.Prepare(); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Timeline.AppendEvents(h.ctx, order); err != nil {
		t.Fatal(err)
	}
	r := h.ok(h.manager, "/timeline", h.acme)
	plain := bot.PlainText(r)
	for _, want := range []string{"1 call", "1 order", "1 note", "1 feedback", "sentiment", "Latest orders", "filled buy 10 ZCZ6 @ 452.25 limit",
		"inbound 5m", "2/5", "negative", "positive", "https://brokersync.example.com/clients/" + h.acme + "/timeline"} {
		if !strings.Contains(plain, want) {
			t.Errorf("timeline lacks %q:\n%s", want, plain)
		}
	}
	r = h.ok(h.broker, "/timeline", h.acme+" calls feedback since 7d")
	plain = bot.PlainText(r)
	if !strings.Contains(plain, "1 call, 1 feedback") || strings.Contains(plain, "note") || strings.Contains(plain, "Latest orders") ||
		!strings.Contains(plain, "kind=call&kind=feedback") {
		t.Errorf("filtered timeline:\n%s", plain)
	}
	r = h.ok(h.broker, "/timeline", h.acme+" since 2999-01-01")
	if !strings.Contains(r.Text, "Nothing on") {
		t.Errorf("future since: %q", r.Text)
	}
	// Times are shown in the reader's time zone (jane is in Chicago).
	r = h.ok(h.broker, "/timeline", h.acme+" order")
	if want := order.Time.In(mustLoc(t, "America/Chicago")).Format("2006-01-02 15:04 MST"); !strings.Contains(bot.PlainText(r), want) {
		t.Errorf("order time not in Chicago time %s:\n%s", want, bot.PlainText(r))
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func testTeam(t *testing.T, h *harness) {
	desk := "new-desk-" + h.sfx
	r := h.ok(h.admin, "/team", "add <@"+h.stranger+"|sam> "+desk+" broker")
	if !strings.Contains(r.Text, "broker on "+desk) {
		t.Errorf("answer %q", r.Text)
	}
	// The new broker may now work on that desk.
	h.ok(h.stranger, "/client", fmt.Sprintf(`add newco-%s "New Co"`, h.sfx))
	// A role change, by a workspace admin.
	h.ok(h.wsAdmin, "/team", "add <@"+h.stranger+"> "+desk+" manager")
	if r := h.do(h.stranger, "/client", "set newco-"+h.sfx+" risk=3"); r.Status != bot.Refused {
		t.Errorf("manager changed a client: %v %q", r.Status, r.Text)
	}
	r = h.ok(h.admin, "/team", "list "+desk)
	if plain := bot.PlainText(r); !strings.Contains(plain, "@"+h.stranger+" — manager") {
		t.Errorf("list:\n%s", plain)
	}
	h.ok(h.admin, "/team", "remove <@"+h.stranger+">")
	if r := h.do(h.stranger, "/client", "show newco-"+h.sfx); r.Status != bot.Refused {
		t.Errorf("removed user still sees: %v %q", r.Status, r.Text)
	}
	// Every change is kept, with who made it; adding someone again in the
	// same role is no change.
	h.ok(h.admin, "/team", "add <@"+h.broker2+"> "+desk+" broker")
	h.ok(h.admin, "/team", "add <@"+h.broker2+"> "+desk+" broker")
	plain := bot.PlainText(h.ok(h.admin, "/team", "history "+desk))
	want := []string{
		"@" + h.admin + " added @" + h.broker2 + " to " + desk + " as broker",
		"@" + h.admin + " removed @" + h.stranger + " (manager) from " + desk,
		"@" + h.wsAdmin + " made @" + h.stranger + " a manager on " + desk + " (was broker)",
		"@" + h.admin + " added @" + h.stranger + " to " + desk + " as broker",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(plain, w)
		if i < 0 || i < last {
			t.Errorf("history lacks %q, or not newest first:\n%s", w, plain)
		}
		last = i
	}
	if n := strings.Count(plain, "added @"+h.broker2); n != 1 {
		t.Errorf("adding someone again in the same role was recorded: %d additions\n%s", n, plain)
	}
	if r := h.do(h.broker, "/team", "history "+desk); r.Status != bot.Refused {
		t.Errorf("a broker read the desk history: %v", r.Status)
	}
}

func testRights(t *testing.T, h *harness) {
	// Deactivated accounts and bots have no rights even on a desk.
	h.dir.Add(bot.User{ID: h.broker2, Deleted: true})
	if r := h.do(h.broker2, "/client", "show "+h.other); r.Status != bot.Refused {
		t.Errorf("deleted user: %v %q", r.Status, r.Text)
	}
	// A user the directory cannot find keeps their desk rights, but is no
	// workspace admin.
	ghost := "UGHOST" + h.SFX
	if r := h.do(ghost, "/team", "list"); r.Status != bot.Refused {
		t.Errorf("unknown user: %v", r.Status)
	}
	if err := h.st.Teams.AddMember(h.ctx, store.Member{SlackID: ghost, Desk: h.desk, Role: store.RoleBroker, AddedBy: h.admin}); err != nil {
		t.Fatal(err)
	}
	h.ok(ghost, "/client", "show "+h.acme)
	// Managers see and do not change; the check holds inside the update too.
	h.ok(h.manager, "/client", "show "+h.acme)
	h.ok(h.manager, "/timeline", h.acme)
	if r := h.do(h.manager, "/note", h.acme+" hi"); r.Status != bot.Refused {
		t.Errorf("manager note: %v", r.Status)
	}
}

func testLogMessage(t *testing.T, h *harness) {
	m := bot.Message{Channel: "CSHORT" + h.SFX, TS: "1767225700.000200", User: "UCLIENT" + h.SFX, Text: "Please send the KC coffee specs"}
	h.dir.AddMembers(m.Channel, h.broker, m.User)
	req := bot.Request{User: h.broker, Channel: m.Channel, ID: "sc-" + h.sfx}
	if r := h.bot.LogMessage(h.ctx, req, "", m); r.Status != bot.NeedClient {
		t.Errorf("unlinked channel: %v %q", r.Status, r.Text)
	}
	if r := h.bot.LogMessage(h.ctx, req, h.other, m); r.Status != bot.NotFound {
		t.Errorf("other desk's client: %v %q", r.Status, r.Text)
	}
	if r := h.bot.LogMessage(h.ctx, bot.Request{User: h.stranger}, h.acme, m); r.Status != bot.Refused {
		t.Errorf("stranger: %v", r.Status)
	}
	r := h.bot.LogMessage(h.ctx, req, h.acme, m)
	if r.Status != bot.OK {
		t.Fatalf("log: %v %q", r.Status, r.Text)
	}
	chats := h.events(h.acme, store.KindChat)
	if len(chats) != 1 || chats[0].Actor != m.User || chats[0].Attrs.Extra["logged_by"] != h.broker || chats[0].SourceID != m.Channel+"/"+m.TS {
		t.Errorf("logged %+v", chats)
	}
	// In a linked channel the client is the channel's; logging again is the same event.
	h.ok(h.broker, "/client", "link "+h.acme+" <#"+m.Channel+">")
	if r := h.bot.LogMessage(h.ctx, req, "", m); r.Status != bot.OK {
		t.Errorf("linked: %v %q", r.Status, r.Text)
	}
	if n := len(h.events(h.acme, store.KindChat)); n != 1 {
		t.Errorf("chat events %d, want 1", n)
	}
	if r := h.bot.LogMessage(h.ctx, bot.Request{User: h.manager}, "", m); r.Status != bot.Refused {
		t.Errorf("manager logs: %v %q", r.Status, r.Text)
	}

	// The same message logged by another desk to its own client gets an
	// entry there and leaves acme's where it is; logging it again changes
	// neither.
	before := h.events(h.acme, store.KindChat)
	for range 2 {
		if r := h.bot.LogMessage(h.ctx, bot.Request{User: h.broker2, Channel: m.Channel}, h.other, m); r.Status != bot.OK {
			t.Fatalf("log to another desk's client: %v %q", r.Status, r.Text)
		}
	}
	after := h.events(h.acme, store.KindChat)
	if len(after) != 1 || after[0].ID != before[0].ID || after[0].Attrs.Extra["logged_by"] != h.broker {
		t.Errorf("acme's entry after logging to another client: %+v, want it unchanged", after)
	}
	others := h.events(h.other, store.KindChat)
	if len(others) != 1 || others[0].Summary != m.Text || others[0].Attrs.Extra["logged_by"] != h.broker2 || others[0].ID == before[0].ID {
		t.Errorf("the other client's entry: %+v", others)
	}
	// An edit in the linked channel revises acme's entry only.
	edit := m
	edit.Text, edit.Edited = "Please send the KC coffee specs and margins", true
	if err := h.bot.ChannelMessage(h.ctx, edit); err != nil {
		t.Fatal(err)
	}
	if got := h.events(h.acme, store.KindChat); len(got) != 1 || got[0].Summary != edit.Text {
		t.Errorf("acme after the edit: %+v", got)
	}
	if got := h.events(h.other, store.KindChat); len(got) != 1 || got[0].Summary != m.Text {
		t.Errorf("the other client after acme's channel edit: %+v", got)
	}
}

func testIdempotent(t *testing.T, h *harness) {
	req := bot.Request{User: h.broker, Command: "/note", Text: h.acme + " once only", ID: "trigger-once-" + h.sfx}
	for range 3 {
		if r := h.bot.Handle(h.ctx, req); r.Status != bot.OK {
			t.Fatal(r.Text)
		}
	}
	if n := len(h.events(h.acme, store.KindNote)); n != 1 {
		t.Errorf("notes %d, want 1", n)
	}
}

func testConcurrent(t *testing.T, h *harness) {
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if r := h.do(h.broker, "/note", fmt.Sprintf("%s note %d", h.acme, i)); r.Status != bot.OK {
				t.Errorf("note %d: %q", i, r.Text)
			}
			if r := h.do(h.broker, "/client", fmt.Sprintf("tag %s +t%d", h.acme, i)); r.Status != bot.OK {
				t.Errorf("tag %d: %q", i, r.Text)
			}
		})
	}
	wg.Wait()
	if n := len(h.events(h.acme, store.KindNote)); n != 20 {
		t.Errorf("notes %d, want 20", n)
	}
	if n := len(h.client(h.acme).Tags); n != 20 {
		t.Errorf("tags %d, want 20 (a concurrent update was lost)", n)
	}
}
