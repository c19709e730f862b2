package bot_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
)

// FuzzCommand runs any command text, as anyone, through the whole bot core
// on the embedded store with a seeded desk (people on three desks, a client
// on two of them). Whatever the input: no panic and no internal failure (the
// core turns a panic into a Failed answer with a reference), no internals
// in the answer, and nothing about a client shown to someone who may not
// see it unless they typed it themselves.
func FuzzCommand(f *testing.F) {
	st, _ := embeddedStores(f)
	h := newHarness(f, st)
	// acme (grain desk) has an email, a phone and an account number to find.
	h.ok(h.broker, "/client", "set "+h.acme+" phone.work=+13125550999 accounts=ACC-"+strings.ToUpper(h.sfx)+" tags=vip")
	users := []string{h.broker, h.manager, h.admin, h.wsAdmin, h.broker2, h.stranger, h.botUser, ""}
	commands := []string{"/client", "/log", "/note", "/feedback", "/timeline", "/team", "/Client", "client", "/nope", "/segment"}
	acme, other := h.client(h.acme), h.client(h.other)
	for _, seed := range []struct {
		who, cmd uint8
		text     string
	}{
		{0, 0, "show " + h.acme}, {0, 0, "find acme tag:vip <@" + h.broker + ">"},
		{0, 0, `add newco "New Co" team=` + h.desk + ` broker=<@` + h.manager + `|maria> email.work=<mailto:a@b.example|a@b.example>`},
		{0, 0, "set " + h.acme + ` risk=7 name="Acme “Grain”" goal.1.description=x goal.1.target=50% dnc=yes`},
		{0, 0, "set " + h.acme + " email.work=ops-" + h.sfx + "@acmegrain.com handle=" + h.other},
		{0, 0, "tag " + h.acme + " +vip –vip -nope +café"}, {0, 0, "link " + h.acme + " <#C1|x>"}, {0, 0, "link " + h.acme + " here"},
		{0, 1, h.acme + " call out 15m talked"}, {0, 1, h.acme + " meeting"}, {0, 2, h.acme + " hi <@U1|x> & <!here>"},
		{0, 3, h.acme + " ★★★ fine"}, {0, 3, h.acme + " 4/5 ok"}, {1, 4, h.acme + " calls feedback since 7d"},
		{1, 4, "+13125550999 since 2026-13-45"}, {2, 5, "add <@U9> new-desk broker"}, {2, 5, "history"}, {2, 5, "remove <@U9>"},
		{4, 0, "show ACC-" + strings.ToUpper(h.sfx)}, {4, 0, "set " + h.other + " accounts=ACC-" + h.sfx}, {5, 0, "show " + h.acme},
		{0, 9, "preview tag:vip risk>=7"}, {0, 9, "save vips-" + h.sfx + " tag:vip OR desk:" + h.desk}, {4, 9, "list"},
		{4, 9, "show vips-" + h.sfx}, {4, 9, "export tag:vip"}, {0, 9, "preview rsk>=7 (tag:'"}, {2, 9, "export vips-" + h.sfx},
		{0, 0, `set ` + h.acme + ` name="unclosed`}, {0, 0, "help"}, {0, 6, "show\x00\xff" + h.acme}, {0, 0, "set " + acme.ID.String() + " risk=3"},
	} {
		f.Add(seed.who, seed.cmd, seed.text)
	}
	f.Fuzz(func(t *testing.T, who, cmd uint8, text string) {
		user := users[int(who)%len(users)]
		req := bot.Request{User: user, Channel: h.channel, Command: commands[int(cmd)%len(commands)], Text: text}
		done := make(chan bot.Response, 1)
		go func() { done <- h.bot.Handle(t.Context(), req) }()
		var r bot.Response
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("%s %q as %q: no answer after 10 s\n%s", req.Command, text, user, buf[:runtime.Stack(buf, true)])
		}
		if r.Status == bot.Failed {
			t.Fatalf("%s %q as %q failed: %s", req.Command, text, user, r.Text)
		}
		answer := r.Text + "\n" + bot.PlainText(r)
		for _, internal := range []string{"panic", "goroutine", "runtime error", "sqlite", "SQL", "internal error", ".go:"} {
			if strings.Contains(answer, internal) && !strings.Contains(text, internal) {
				t.Fatalf("%s %q as %q shows internals (%q): %s", req.Command, text, user, internal, answer)
			}
		}
		// What each user may not be told unless they typed it.
		hidden := map[string][]string{
			h.broker2:  {acme.Name, acme.Handle, acme.Emails[0].Address, acme.ID.String(), h.desk},
			h.stranger: {acme.Name, other.Name, acme.Handle, other.Handle},
			h.botUser:  {acme.Name, other.Name, acme.Handle, other.Handle},
			h.manager:  {other.Name, other.Handle, other.ID.String(), h.otherDesk},
		}
		for _, secret := range hidden[user] {
			if strings.Contains(strings.ToLower(answer), strings.ToLower(secret)) && !strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
				t.Fatalf("%s %q as %q reveals %q:\n%s", req.Command, text, user, secret, answer)
			}
		}
		if len(r.Text) > 40_000 {
			t.Fatalf("%s %q: a %d-byte answer", req.Command, text, len(r.Text))
		}
	})
}
