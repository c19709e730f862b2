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
	// DeskLifecycles lists the lifecycle settings of every desk that set
	// them; other desks use the server's defaults.
	DeskLifecycles(ctx context.Context) ([]DeskLifecycle, error)
	// SetDeskLifecycle stores a desk's lifecycle settings (UpdatedAt set
	// when zero); DormantAfterDays 0 removes them, so the desk uses the
	// server's default again. EINVALID.
	SetDeskLifecycle(ctx context.Context, d DeskLifecycle) error
}

// DeskLifecycle is a desk's lifecycle settings (/team set <desk>
// dormant-after=60d): how many days an active client of the desk goes
// without a fill or a real contact before it is dormant.
type DeskLifecycle struct {
	Desk             string
	DormantAfterDays int
	UpdatedBy        string
	UpdatedAt        time.Time
}

// MaxDormantAfterDays bounds dormant-after: ten years.
const MaxDormantAfterDays = 3650

// Validate checks the settings and normalises the desk name.
func (d *DeskLifecycle) Validate() error {
	desk, err := NormalizeHandle(d.Desk)
	if err != nil {
		return Invalid("desk", "%q is not a desk name", d.Desk)
	}
	d.Desk = desk
	if d.DormantAfterDays < 0 || d.DormantAfterDays > MaxDormantAfterDays {
		return Invalid("dormant-after", "must be between 1 and %d days", MaxDormantAfterDays)
	}
	return nil
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
