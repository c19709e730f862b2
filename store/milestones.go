package store

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DeskMilestones are a desk's milestone settings (/team set <desk>
// milestone-…): how long before a milestone its broker is reminded, how
// many exchange business days before a first notice or last trading day,
// the notional of a large trade, how often KYC facts are refreshed, the
// progress at which a goal is reached, and the desk's time zone for
// clients whose profile names none.
type DeskMilestones struct {
	Desk          string
	Enabled       bool
	Lead          time.Duration // before anniversaries, goal deadlines, reviews; whole minutes
	PositionLead  int           // exchange business days before first notice and last trading days
	LargeTrade    float64       // notional in NotionalCurrency; 0: no trade anniversaries
	KYCRefresh    int           // months after the last assessment; 0: no KYC refresh
	GoalThreshold int           // percent of progress at which a goal is reached
	Zone          string        // IANA name; "" for UTC
	UpdatedBy     string
	UpdatedAt     time.Time
}

// Default milestone settings.
const (
	DefaultMilestoneLead   = 3 * 24 * time.Hour
	DefaultPositionLead    = 2
	DefaultLargeTrade      = 1_000_000
	DefaultKYCRefresh      = 12
	DefaultGoalThreshold   = 100
	MaxMilestoneLead       = 90 * 24 * time.Hour
	MaxPositionLead        = 20
	MaxKYCRefreshMonths    = 60
	MinGoalThreshold       = 1
	MaxGoalThresholdPct    = 100
	maxLargeTradeThreshold = 1e15
)

// DefaultDeskMilestones are a desk's until changed: milestones on, three
// days ahead, two business days before position dates, large trades from
// USD 1 million, KYC refreshed yearly, goals reached at 100%, UTC.
func DefaultDeskMilestones(desk string) *DeskMilestones {
	return &DeskMilestones{Desk: desk, Enabled: true, Lead: DefaultMilestoneLead, PositionLead: DefaultPositionLead,
		LargeTrade: DefaultLargeTrade, KYCRefresh: DefaultKYCRefresh, GoalThreshold: DefaultGoalThreshold}
}

// Location returns the desk's time zone, UTC when it has none.
func (d *DeskMilestones) Location() *time.Location {
	if loc, ok := Location(d.Zone); ok && d.Zone != "" {
		return loc
	}
	return time.UTC
}

// Validate checks settings before they are stored.
func (d *DeskMilestones) Validate() error {
	switch {
	case strings.TrimSpace(d.Desk) == "":
		return Invalid("desk", "settings need a desk")
	case d.Lead < 0 || d.Lead > MaxMilestoneLead || d.Lead%time.Minute != 0:
		return Invalid("milestone-lead", "must be whole minutes between 0 and 90 days")
	case d.PositionLead < 0 || d.PositionLead > MaxPositionLead:
		return Invalid("position-lead", "must be between 0 and %d business days", MaxPositionLead)
	case d.LargeTrade < 0 || d.LargeTrade > maxLargeTradeThreshold || math.IsNaN(d.LargeTrade):
		return Invalid("large-trade", "must be a notional in %s, or off", NotionalCurrency)
	case d.KYCRefresh < 0 || d.KYCRefresh > MaxKYCRefreshMonths:
		return Invalid("kyc-refresh", "must be between 1 and %d months, or off", MaxKYCRefreshMonths)
	case d.GoalThreshold < MinGoalThreshold || d.GoalThreshold > MaxGoalThresholdPct:
		return Invalid("goal-threshold", "must be a percentage between 1 and 100")
	}
	if d.Zone != "" {
		if _, ok := Location(d.Zone); !ok {
			return Invalid("desk-zone", "%q is not a time zone: use an IANA name such as America/Chicago", d.Zone)
		}
	}
	return nil
}

// Position is a client's open position in one contract: the net of its
// fills (bought less sold), with the first fill's time.
type Position struct {
	ClientID  uuid.UUID
	Commodity string // catalogue key
	Contract  string // as recorded, e.g. ZCZ26 or ZCZ6
	Net       float64
	Since     time.Time
}

// MilestoneStore keeps what milestones are computed from that profiles do
// not hold: desk settings, open positions and large fills.
type MilestoneStore interface {
	// DeskMilestones returns a desk's milestone settings:
	// DefaultDeskMilestones for a desk that never changed them.
	DeskMilestones(ctx context.Context, desk string) (*DeskMilestones, error)
	// SetDeskMilestones stores a desk's settings (UpdatedAt is set).
	// EINVALID.
	SetDeskMilestones(ctx context.Context, d *DeskMilestones) error
	// OpenPositions returns every client's positions whose net is not zero,
	// by client, commodity and contract, from the fills counted in trading
	// statistics. Fills with no contract are passed over.
	OpenPositions(ctx context.Context) ([]Position, error)
	// LargeFills returns the fills whose notional is at least min in
	// NotionalCurrency, oldest first.
	LargeFills(ctx context.Context, min float64) ([]Fill, error)
}
