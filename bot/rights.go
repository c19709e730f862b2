package bot

import (
	"context"
	"log/slog"
	"slices"

	"github.com/brokersync/brokersync/store"
)

// Rights answers, for what does not come through a command (the web
// timeline), whether a user may see a client now: by the same rules and
// from the same sources as every command (SPEC §7), asked again each time,
// so that a user removed from a desk, a user deactivated in Slack or a
// client moved to another desk is refused at once.
type Rights struct {
	Teams     store.TeamStore
	Directory Directory // nil: workspace admins are not recognised
	Admins    []string  // BrokerSync admins (BROKERSYNC_ADMINS)
	Logger    *slog.Logger
}

// actor loads user's rights the way the bot does.
func (r Rights) actor(ctx context.Context, user string) (*Actor, error) {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{teams: r.Teams, dir: r.Directory, admins: r.Admins, log: log}
	return b.actor(ctx, user)
}

// CanSee reports whether user may see a client of desk team.
func (r Rights) CanSee(ctx context.Context, user, team string) (bool, error) {
	if user == "" {
		return false, nil
	}
	a, err := r.actor(ctx, user)
	if err != nil {
		return false, err
	}
	return a.canSee(team), nil
}

// CanSeeKYC reports whether user may read c's know-your-customer facts
// (income, net worth, date of birth): admins, the client's own broker and
// the managers of the client's desk. Other brokers of the desk see only
// which facts are on file.
func (r Rights) CanSeeKYC(ctx context.Context, user string, c *store.Client) (bool, error) {
	if user == "" || c == nil {
		return false, nil
	}
	a, err := r.actor(ctx, user)
	if err != nil {
		return false, err
	}
	if a.Admin {
		return true, nil
	}
	if c.Team == "" {
		return false, nil
	}
	return c.Broker == user && slices.Contains(a.Brokers, c.Team) || slices.Contains(a.Manages, c.Team), nil
}
