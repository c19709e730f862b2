package bot_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
)

// TestGarbageInput types lines made of the pieces brokers and Slack produce
// (handles, mentions, quotes of every kind, field=value, Unicode, stray
// escapes) after every command, as a broker with rights: the bot must always
// answer with some text and never fail on its side (a panic or an internal
// error shows as Failed). The parser itself is fuzzed in bot/cmdline.
func TestGarbageInput(t *testing.T) {
	st, _ := embeddedStores(t)
	h := newHarness(t, st)
	pieces := []string{
		h.acme, h.other, "help", "show", "set", "tag", "add", "find", "link", "list", "remove", "call", "out", "15m", "since", "7d",
		"risk=7", "risk=", "=", "name=\"Acme Grain\"", "name=“", "goal.1.description=x", "goal.9.target=1e400", "phone.work=+1",
		"email.work=<mailto:a@b.co|a@b.co>", "<@U1|x>", "<@" + h.broker + ">", "<#C1|desk>", "<!here>", "<https://x.io|x>",
		"\"", "“", "”", "<|>", "'", "«", "&amp;", "&lt;", "<", ">", "+tag", "-tag", "–", "★★★", "5/5", "0", "-1", "broker", "manager",
		"株式会社", "Ölhandel", "🌽", "\u00a0", "\n", "\t", "\xff", "", "x", "grain-desk", "2026-01-31", "9999-99-99",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lines := []string{"", "   ", "help", "help help", strings.Repeat("x ", 2000), strings.Repeat("\"", 500), strings.Repeat("<", 500)}
	for range 250 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			if rng.IntN(4) > 0 {
				b.WriteByte(' ')
			}
		}
		lines = append(lines, b.String())
	}
	commands := []string{"/client", "/log", "/note", "/feedback", "/timeline", "/team", "/segment", "/nonsense"}
	for i, line := range lines {
		cmd := commands[i%len(commands)]
		for _, user := range []string{h.broker, h.admin} {
			r := h.bot.Handle(h.ctx, bot.Request{User: user, Channel: h.channel, Command: cmd, Text: line})
			if strings.TrimSpace(r.Text) == "" {
				t.Fatalf("%s %q: empty answer", cmd, line)
			}
			if r.Status == bot.Failed {
				t.Fatalf("%s %q: failed on our side: %s", cmd, line, r.Text)
			}
			_ = bot.PlainText(r)
		}
	}
}
