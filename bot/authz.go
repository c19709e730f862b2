package bot

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Who may do what (SPEC §7), checked here before any client is read:
//
//   - admins (Slack workspace admins and owners, and BROKERSYNC_ADMINS) may do
//     everything, including /team;
//   - a broker sees and changes the clients of their desks;
//   - a manager sees the clients of their desks;
//   - anyone else is told to ask an admin and shown nothing about any client.
//
// A client's desk is its Team. A client a user may not see is answered
// exactly like one that does not exist.

// User is what the directory knows about a Slack user.
type User struct {
	ID       string
	Name     string // display name
	TimeZone string // IANA name
	Admin    bool   // workspace admin or owner
	Bot      bool
	Deleted  bool
}

// Directory looks up Slack users (bot/slack: users.info, cached) and who is
// in a channel (conversations.members).
type Directory interface {
	UserDirectory
	// InChannel reports whether user is a member of channel. ENOTFOUND when
	// the app cannot see the channel (it does not exist, or it is private
	// and the app is not in it).
	InChannel(ctx context.Context, channel, user string) (bool, error)
}

// UserDirectory looks up Slack users (users.info). ENOTFOUND for an
// unknown id.
type UserDirectory interface {
	User(ctx context.Context, id string) (User, error)
}

// Actor is the user behind a request, with their rights.
type Actor struct {
	User
	Admin    bool     // BrokerSync admin
	Brokers  []string // desks where the user is a broker
	Manages  []string // desks the user manages
	Location *time.Location
}

func (b *Bot) actor(ctx context.Context, id string) (*Actor, error) {
	a := &Actor{User: User{ID: id}, Location: time.UTC}
	if b.dir != nil {
		u, err := b.dir.User(ctx, id)
		switch {
		case err != nil:
			// Without the directory a workspace admin is not recognised as
			// one; desk rights below still apply. Default deny.
			b.log.Warn("user lookup failed", slog.String("user", id), slog.Any("err", err))
		case u.Deleted || u.Bot:
			return a, nil // no rights
		default:
			a.User = u
		}
	}
	a.ID = id
	a.Admin = a.User.Admin || slices.Contains(b.admins, id)
	if loc, ok := store.Location(a.TimeZone); ok {
		a.Location = loc
	}
	ms, err := b.teams.Memberships(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		switch m.Role {
		case store.RoleBroker:
			a.Brokers = append(a.Brokers, m.Desk)
		case store.RoleManager:
			a.Manages = append(a.Manages, m.Desk)
		}
	}
	return a, nil
}

// anyRights reports whether the actor may use BrokerSync at all.
func (a *Actor) anyRights() bool { return a.Admin || len(a.Brokers) > 0 || len(a.Manages) > 0 }

// canSee reports whether the actor may see a client of desk team.
func (a *Actor) canSee(team string) bool {
	return a.Admin || team != "" && (slices.Contains(a.Brokers, team) || slices.Contains(a.Manages, team))
}

// canChange reports whether the actor may change a client of desk team.
func (a *Actor) canChange(team string) bool {
	return a.Admin || team != "" && slices.Contains(a.Brokers, team)
}

// visibleDesks is the scope of searches: nil (every desk) for admins.
func (a *Actor) visibleDesks() []string {
	if a.Admin {
		return nil
	}
	desks := slices.Concat(a.Brokers, a.Manages)
	slices.Sort(desks)
	return slices.Compact(desks)
}

func (a *Actor) brokerDesks() string {
	if len(a.Brokers) == 0 {
		return "none"
	}
	return strings.Join(a.Brokers, ", ")
}

// noRights is what someone without any rights is told, whatever they asked.
func noRights() Response {
	return textResponse(Refused, "You are not on a BrokerSync desk yet, so there is nothing to show you. Ask an admin to add you: `/team add @you <desk> broker`.")
}

// errForbidden is returned from inside UpdateClient so that nothing is written.
var errForbidden = &store.Error{Code: store.EFORBIDDEN, Message: "only the desk's brokers may change this client"}
