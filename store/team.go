package store

import (
	"context"
	"time"
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
