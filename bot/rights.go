package bot

import (
	"context"
	"log/slog"
	"slices"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// Rights answers, for what does not come through a command (the web
// timeline), whether a user may see a client now: by the same rules and
// from the same sources as every command (SPEC §7), asked again each time,
// so that a user removed from a desk, a user deactivated in Slack or a
// client moved to another desk is refused at once.
type Rights struct {
	Teams     store.TeamStore
	Directory Directory        // nil: workspace admins are not recognised
	Admins    []string         // BrokerSync admins (BROKERSYNC_ADMINS)
	Catalogue *store.Catalogue // what filters are checked against
	Logger    *slog.Logger
}

// bot is a Bot with r's rules, for deciding as its commands do.
func (r Rights) bot(segments Segments) *Bot {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bot{teams: r.Teams, dir: r.Directory, admins: r.Admins, cat: r.Catalogue, log: log, segments: segments}
}

// actor loads user's rights the way the bot does.
func (r Rights) actor(ctx context.Context, user string) (*Actor, error) {
	return r.bot(nil).actor(ctx, user)
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

// DeskScope is what a user may see of the desks now: for the desk pages,
// by the same rules as every command.
type DeskScope struct {
	User    string
	Admin   bool
	Brokers []string // desks where the user is a broker
	Manages []string // desks the user manages
}

// Desks is the scope of a search: nil (every desk) for admins, else the
// desks the user brokers on or manages, sorted (empty: none).
func (s DeskScope) Desks() []string {
	a := Actor{Admin: s.Admin, Brokers: s.Brokers, Manages: s.Manages}
	if d := a.visibleDesks(); d != nil || s.Admin {
		return d
	}
	return []string{}
}

// CanSee reports whether the user may see the clients of desk.
func (s DeskScope) CanSee(desk string) bool {
	a := Actor{Admin: s.Admin, Brokers: s.Brokers, Manages: s.Manages}
	return a.canSee(desk)
}

// CanManage reports whether the user may read desk's digest: a manager of
// it, or an admin.
func (s DeskScope) CanManage(desk string) bool {
	return s.Admin || desk != "" && slices.Contains(s.Manages, desk)
}

// Scope returns what user may see of the desks now.
func (r Rights) Scope(ctx context.Context, user string) (DeskScope, error) {
	if user == "" {
		return DeskScope{}, nil
	}
	a, err := r.actor(ctx, user)
	if err != nil {
		return DeskScope{}, err
	}
	return DeskScope{User: user, Admin: a.Admin, Brokers: slices.Clone(a.Brokers), Manages: slices.Clone(a.Manages)}, nil
}

// SegmentFilter parses and resolves a filter for user exactly as
// /segment preview does: segment: terms read only the saved segments user
// may see, broker:@name the people on desks. A mistake in the filter is a
// *segment.Error (with its caret).
func (r Rights) SegmentFilter(ctx context.Context, segments Segments, user, text string) (*segment.Filter, error) {
	f, err := segment.Parse(text, r.Catalogue)
	if err != nil {
		return nil, err
	}
	c, err := r.call(ctx, segments, user)
	if err != nil {
		return nil, err
	}
	return segment.Resolve(ctx, f, c.lookup("", text))
}

// SeesSegment reports whether user may see a saved segment, as
// /segment list decides: admins, whoever saved it and people sharing a
// desk with them.
func (r Rights) SeesSegment(ctx context.Context, segments Segments, user string, s segment.Saved) (bool, error) {
	c, err := r.call(ctx, segments, user)
	if err != nil {
		return false, err
	}
	return c.sees(ctx, s)
}

func (r Rights) call(ctx context.Context, segments Segments, user string) (*call, error) {
	b := r.bot(segments)
	a, err := b.actor(ctx, user)
	if err != nil {
		return nil, err
	}
	return &call{b: b, actor: a}, nil
}
