package reminders_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// A broker's /remind, through the bot and the scheduler on one clock: one
// message in the broker's DM once two minutes have passed, none before.
func TestRemindThenPostedOnceWhenDue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		records := f.db.(interface {
			store.TeamStore
			store.LinkStore
		})
		tl, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tl.Close() })
		if err := records.AddMember(t.Context(), store.Member{SlackID: "U0JANE", Desk: "grain-desk", Role: store.RoleBroker, AddedBy: "U0ADMIN"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.db.UpdateClient(t.Context(), f.c.ID, "U0ADMIN", func(c *store.Client) error {
			c.Team = "grain-desk"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		b, err := bot.New(bot.Config{
			Catalogue: store.DefaultCatalogue(),
			Clients:   f.db, Timeline: tl.Timeline(), Teams: records, Links: records, Reminders: f.db,
			Recorder:  &ingest.Recorder{Timeline: tl.Timeline()},
			Directory: bottest.NewDirectory(bot.User{ID: "U0JANE", Name: "jane", TimeZone: "America/Chicago"}),
			Now:       f.clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		r := b.Handle(t.Context(), bot.Request{User: "U0JANE", Command: "/remind", Text: "acme-grain in 2 minutes call back about Dec corn", ID: "trigger-1"})
		if r.Status != bot.OK || !strings.Contains(r.Text, "08:02 your time") {
			t.Fatalf("/remind: %v %q", r.Status, r.Text)
		}
		s := f.scheduler(t, "replica-1", nil)
		f.clock.Advance(time.Minute + 59*time.Second)
		tick(t, s)
		if n := len(f.slack.Posted()); n != 0 {
			t.Fatalf("%d messages a second before the reminder was due", n)
		}
		f.clock.Advance(time.Second)
		tick(t, s)
		f.clock.Advance(time.Hour)
		tick(t, s)
		posted := f.slack.Posted()
		if len(posted) != 1 {
			t.Fatalf("Slack received %d messages, want 1", len(posted))
		}
		if p := posted[0]; p.Channel != "DU0JANE" || !strings.Contains(p.Text, "Acme Grain Co-op") || !strings.Contains(p.Text, "call back about Dec corn") {
			t.Errorf("message %+v: want Jane's DM naming the client and the text", p)
		}
	})
}
