package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Role is what a person does on a desk.
type Role string

// Roles. Admins are not a role on a desk: they come from Slack (workspace
// admins and owners) and from configuration.
const (
	RoleBroker  Role = "broker"
	RoleManager Role = "manager"
)

// Member puts a Slack user on a desk.
type Member struct {
	SlackID string
	Desk    string
	Role    Role
	AddedBy string
	AddedAt time.Time
}

// DeskChange records one change of who may see and change a desk's clients:
// someone added to a desk, given another role there, or removed.
type DeskChange struct {
	At      time.Time
	Actor   string // who made the change
	SlackID string // whose place changed
	Desk    string
	OldRole Role // "" when they were added
	NewRole Role // "" when they were removed
}

// TeamStore keeps who is on which desk, and every change of it.
type TeamStore interface {
	// AddMember puts a user on a desk, or changes their role there, and
	// records the change by m.AddedBy; adding someone again in the same
	// role changes and records nothing. EINVALID.
	AddMember(ctx context.Context, m Member) error
	// RemoveMember takes a user off every desk and records each removal by
	// actor. ENOTFOUND if on none.
	RemoveMember(ctx context.Context, slackID, actor string) error
	// Members lists a desk's members, or everyone's when desk is "".
	Members(ctx context.Context, desk string) ([]Member, error)
	// Memberships lists the desks a user is on.
	Memberships(ctx context.Context, slackID string) ([]Member, error)
	// DeskHistory lists the changes to a desk, or to every desk when desk is
	// "", newest first: at most limit, 100 when limit is 0.
	DeskHistory(ctx context.Context, desk string, limit int) ([]DeskChange, error)
}

// DefaultHistoryLimit is how many changes DeskHistory returns when asked
// for no particular number.
const DefaultHistoryLimit = 100

// OnceRetention is how long a OnceStore remembers that a key's work was
// done. Slack retries an event for a few minutes; webhook senders for a day
// or two.
const OnceRetention = 7 * 24 * time.Hour

// DefaultOnceLease is how long a claim holds off other claims of its key
// when the caller names no lease: longer than the work it guards may take
// (a Slack event is given 10 s), shorter than the minute after which Slack
// retries a failed delivery, so that after a crash the retry applies it.
const DefaultOnceLease = 30 * time.Second

// OnceState is what a claim found.
type OnceState int

// The states of a key.
const (
	// OnceClaimed: this claim holds the key's lease. The caller does the
	// work, then calls Done when it succeeded, or Release when it failed.
	// A key never seen, released, whose lease ran out (its holder crashed)
	// or done longer than OnceRetention ago is claimed.
	OnceClaimed OnceState = iota
	// OnceBusy: another claim holds a live lease; its work may still be
	// under way. The sender should deliver again later.
	OnceBusy
	// OnceDone: the work was done; the delivery is a duplicate.
	OnceDone
)

func (s OnceState) String() string {
	switch s {
	case OnceClaimed:
		return "claimed"
	case OnceBusy:
		return "busy"
	case OnceDone:
		return "done"
	}
	return fmt.Sprintf("OnceState(%d)", int(s))
}

// OnceStore remembers deliveries that a sender may retry (a Slack event,
// command or interaction) so that each is applied once and none is lost.
// A key is claimed for a lease, and is done only once the caller says its
// work succeeded: a crash between the two leaves a lease that runs out, and
// the sender's next retry does the work. The work itself must be safe to do
// twice (a lease can run out while a slow holder still works).
type OnceStore interface {
	// Claim takes key for lease (DefaultOnceLease when lease <= 0) unless a
	// live lease or a done mark holds it, and reports which. Of concurrent
	// claims of a free key exactly one gets OnceClaimed. EINVALID for an
	// empty key.
	Claim(ctx context.Context, key string, lease time.Duration) (OnceState, error)
	// Done marks key's work done, whoever holds the lease: later claims
	// get OnceDone for OnceRetention. EINVALID for an empty key.
	Done(ctx context.Context, key string) error
	// Release gives up a lease whose work failed, so that the sender's retry
	// is applied at once. It never forgets a done key, and releasing a key
	// that is not claimed does nothing.
	Release(ctx context.Context, key string) error
}

// Validate checks a membership and normalises its desk name.
func (m *Member) Validate() error {
	if m.SlackID == "" {
		return Invalid("user", "a member needs a Slack user")
	}
	d, err := NormalizeHandle(m.Desk)
	if err != nil {
		return Invalid("desk", "%q is not a desk name: use lower-case letters, digits and dashes", m.Desk)
	}
	m.Desk = d
	return oneOf("role", m.Role, RoleBroker, RoleManager)
}

// LinkStore remembers which Slack channels belong to which client, so that
// messages there are logged to the client's timeline.
type LinkStore interface {
	// LinkChannel links a channel to a client, replacing any earlier link.
	LinkChannel(ctx context.Context, channelID string, clientID uuid.UUID, actor string) error
	// ChannelClient returns the client a channel is linked to. ENOTFOUND.
	ChannelClient(ctx context.Context, channelID string) (uuid.UUID, error)
}
