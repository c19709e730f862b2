package bot

import (
	"context"
	"sync"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Channel is what the directory knows about a Slack channel.
type Channel struct {
	ID   string
	Name string // without the #
}

// ChannelDirectory looks up Slack channels (bot/slack: conversations.info,
// cached).
type ChannelDirectory interface {
	Channel(ctx context.Context, id string) (Channel, error)
}

// Names shows Slack ids as people read them outside Slack (a terminal, the
// web page): <@U123> as @jane and <#C123> as #acme-deals. Slack renders its
// own mentions; everywhere else the directory names them. Without a
// directory, or for an id it does not know, the id is shown plainly
// (@U123), never as raw markup. A nil *Names shows ids.
type Names struct {
	Users    UserDirectory    // nil: user ids are shown as ids
	Channels ChannelDirectory // nil: channel ids are shown as ids
}

// Text replaces every <@U…> and <#C…> in s with a name.
func (n *Names) Text(ctx context.Context, s string) string {
	return refRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := refRE.FindStringSubmatch(m)
		if sub[1] == "@" {
			return n.User(ctx, sub[2])
		}
		return n.Channel(ctx, sub[2])
	})
}

// User names an actor: a Slack user as @name (or @U123 when unknown); any
// other actor (a client handle, a system such as "market") as it is.
func (n *Names) User(ctx context.Context, id string) string {
	if !IsSlackUser(id) {
		return id
	}
	if n != nil && n.Users != nil {
		if u, err := n.Users.User(ctx, id); err == nil && u.Name != "" {
			return "@" + u.Name
		}
	}
	return "@" + id
}

// Channel names a channel as #name (or #C123 when unknown).
func (n *Names) Channel(ctx context.Context, id string) string {
	if n != nil && n.Channels != nil {
		if c, err := n.Channels.Channel(ctx, id); err == nil && c.Name != "" {
			return "#" + c.Name
		}
	}
	return "#" + id
}

// Location is the time zone of a Slack user (users.info tz), if known.
func (n *Names) Location(ctx context.Context, id string) (*time.Location, bool) {
	if n == nil || n.Users == nil || !IsSlackUser(id) {
		return nil, false
	}
	u, err := n.Users.User(ctx, id)
	if err != nil {
		return nil, false
	}
	return store.Location(u.TimeZone)
}

// Memo returns names that ask the directory at most once per id, and not
// at all once a lookup has failed for any reason but an unknown id (Slack
// is not answering): a page of a hundred events then costs one lookup per
// person, and at most one wait when Slack is down. Use one per page or
// answer; the directory keeps its own longer cache.
func (n *Names) Memo() *Names {
	if n == nil {
		return nil
	}
	m := &memo{}
	out := &Names{}
	if n.Users != nil {
		out.Users = memoUsers{lookups: lookups[User]{m: m, got: map[string]lookup[User]{}, ask: n.Users.User}}
	}
	if n.Channels != nil {
		out.Channels = memoChannels{lookups: lookups[Channel]{m: m, got: map[string]lookup[Channel]{}, ask: n.Channels.Channel}}
	}
	return out
}

// memo is what the lookups of one Memo share: one lock, and whether the
// directory stopped answering.
type memo struct {
	mu   sync.Mutex
	down bool // a lookup failed: show ids from now on
}

var errDirectoryDown = store.Errorf(store.EUNAVAILABLE, "the Slack directory is not answering")

// lookup is a remembered answer of the directory.
type lookup[T any] struct {
	v   T
	err error
}

// lookups asks the directory once per id, and no more once it has failed
// for any reason but an unknown id.
type lookups[T any] struct {
	m   *memo
	got map[string]lookup[T]
	ask func(context.Context, string) (T, error)
}

func (l lookups[T]) get(ctx context.Context, id string) (T, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if r, ok := l.got[id]; ok {
		return r.v, r.err
	}
	if l.m.down {
		var zero T
		return zero, errDirectoryDown
	}
	v, err := l.ask(ctx, id)
	l.got[id] = lookup[T]{v, err}
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		l.m.down = true
	}
	return v, err
}

type memoUsers struct{ lookups[User] }

func (u memoUsers) User(ctx context.Context, id string) (User, error) { return u.get(ctx, id) }

type memoChannels struct{ lookups[Channel] }

func (c memoChannels) Channel(ctx context.Context, id string) (Channel, error) {
	return c.get(ctx, id)
}
