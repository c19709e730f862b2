package slack_test

import (
	"testing"

	"github.com/brokersync/brokersync/internal/backendtest"
)

// BenchmarkSlashCommand measures a signed slash command from request to
// acknowledgement, through the HTTP stack, on the embedded store.
func BenchmarkSlashCommand(b *testing.B) {
	for _, c := range [][2]string{{"/client", "show "}, {"/timeline", ""}, {"/note", ""}} {
		b.Run(c[0], func(b *testing.B) {
			e := newEnv(b, options{})
			text := c[1] + e.acme
			if c[0] == "/note" {
				text += " benchmark note"
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if r := e.command(e.broker, c[0], text, "", nil); r.StatusCode != 200 {
					b.Fatal(r.StatusCode)
				}
			}
		})
	}
}

// BenchmarkSlashCommandBackends is BenchmarkSlashCommand with PostgreSQL and
// Cassandra behind the bot.
func BenchmarkSlashCommandBackends(b *testing.B) {
	pg, tl := backendtest.Postgres(b), backendtest.Cassandra(b)
	onBackends = &backing{clients: pg, teams: pg, links: pg, once: pg, timeline: tl, reminders: pg}
	defer func() { onBackends = nil }()
	BenchmarkSlashCommand(b)
}
