package bot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	"github.com/brokersync/brokersync/store"
)

// countingDirectory counts lookups; down makes every lookup fail as Slack
// does when it cannot be reached.
type countingDirectory struct {
	*bottest.Directory
	calls atomic.Int64
	down  bool
}

func (d *countingDirectory) User(ctx context.Context, id string) (bot.User, error) {
	d.calls.Add(1)
	if d.down {
		return bot.User{}, store.Unavailable("Slack users.info", errors.New("timeout"))
	}
	return d.Directory.User(ctx, id)
}

// A page names each person once, and waits for Slack at most once when it
// is down; what cannot be named is shown as a plain id.
func TestNamesAskOncePerPage(t *testing.T) {
	text := "<@U0JANE> <@U0JANE> <@U0OMAR> <@U0GONE> <@U0JANE> <#C0DEALS>"
	d := &countingDirectory{Directory: bottest.NewDirectory(bot.User{ID: "U0JANE", Name: "jane"}, bot.User{ID: "U0OMAR", Name: "omar"})}
	d.AddChannel(bot.Channel{ID: "C0DEALS", Name: "acme-deals"})
	names := (&bot.Names{Users: d, Channels: d}).Memo()
	if got := names.Text(t.Context(), text); got != "@jane @jane @omar @U0GONE @jane #acme-deals" {
		t.Errorf("named: %q", got)
	}
	if n := d.calls.Load(); n != 3 {
		t.Errorf("%d lookups for 3 people, want 3", n)
	}
	d.calls.Store(0)
	d.down = true
	names = (&bot.Names{Users: d, Channels: d}).Memo()
	if got := names.Text(t.Context(), text); got != "@U0JANE @U0JANE @U0OMAR @U0GONE @U0JANE #C0DEALS" {
		t.Errorf("Slack down: %q", got)
	}
	if n := d.calls.Load(); n != 1 {
		t.Errorf("Slack down: %d lookups, want 1", n)
	}
}
