package store

import (
	"context"
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

// OnceRetention is how long a OnceStore remembers a key. Slack retries an
// event for about an hour; webhook senders for a day or two.
const OnceRetention = 7 * 24 * time.Hour

// OnceStore remembers keys so that a delivery retried by its sender (a Slack
// event, a webhook event id) is applied once.
type OnceStore interface {
	// Claim records key and reports whether this call was the first to do
	// so. Keys older than the store's retention may be claimed again.
	Claim(ctx context.Context, key string) (first bool, err error)
	// Release forgets key, so that a delivery whose processing failed after
	// the claim is applied when its sender retries.
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
