package store

import (
	"time"

	"github.com/google/uuid"
)

// Client is a client's profile: who they are, how to reach them, what they
// trade and how much risk they take. Handles are short, unique and what
// brokers type in commands ("acme-grain").
type Client struct {
	ID             uuid.UUID
	Handle         string
	Name           string
	Company        string
	Kind           ClientKind
	Accounts       []string // account numbers in the order system
	Broker         string   // Slack user id of the assigned broker
	Team           string   // desk, e.g. "energy-desk"
	Onboarded      Date
	Stage          Stage
	StageChangedAt time.Time

	Phones    []Phone
	Emails    []Email
	Addresses []Address
	TimeZone  string // IANA name

	Contact ContactPrefs
	Trading TradingPrefs
	Risk    Risk
	KYC     KYC

	Goals           []Goal
	Diversification string
	Tags            []string

	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64 // incremented on every change
}

// ClientKind tells individuals, who carry know-your-customer facts, from firms.
type ClientKind string

// Client kinds.
const (
	Individual ClientKind = "individual"
	Entity     ClientKind = "entity"
)

// Stage is where a client is in its life with the desk.
type Stage string

// Lifecycle stages.
const (
	Prospect   Stage = "prospect"
	Onboarding Stage = "onboarding"
	Active     Stage = "active"
	Dormant    Stage = "dormant"
	Closed     Stage = "closed"
)

// ContactKind labels a phone, email or postal address.
type ContactKind string

// Contact kinds.
const (
	Work     ContactKind = "work"
	Home     ContactKind = "home"
	Mobile   ContactKind = "mobile"
	Personal ContactKind = "personal"
)

// Phone is a phone number in E.164 form.
type Phone struct {
	Kind   ContactKind
	Number string
}

// Email is a lower-cased address; an address belongs to at most one client.
type Email struct {
	Kind    ContactKind
	Address string
}

// Address is a postal address.
type Address struct {
	Kind       ContactKind
	Street     string
	City       string
	Region     string
	PostalCode string
	Country    string // ISO 3166-1 alpha-2
}

// Channel is a way of reaching a client.
type Channel string

// Channels.
const (
	ChannelEmail    Channel = "email"
	ChannelPhone    Channel = "phone"
	ChannelSMS      Channel = "sms"
	ChannelSlack    Channel = "slack"
	ChannelInPerson Channel = "in-person"
)

// Frequency is how often a client wants to hear from the desk.
type Frequency string

// Frequencies.
const (
	Daily     Frequency = "daily"
	Weekly    Frequency = "weekly"
	Monthly   Frequency = "monthly"
	Quarterly Frequency = "quarterly"
)

// ContactPrefs says how, when and how often a client likes to be contacted.
type ContactPrefs struct {
	Channels     []Channel // in order of preference
	Times        []string  // "morning", "afternoon", "evening" or "HH:MM-HH:MM" in the client's time zone
	Frequency    Frequency
	DoNotContact bool
	DoNotReason  string
}

// InstrumentKind is a kind of contract a client trades.
type InstrumentKind string

// Instruments.
const (
	Futures  InstrumentKind = "futures"
	Options  InstrumentKind = "options"
	Spreads  InstrumentKind = "spreads"
	Swaps    InstrumentKind = "swaps"
	Forwards InstrumentKind = "forwards"
	Spot     InstrumentKind = "spot"
	ETP      InstrumentKind = "etp"
)

// OrderType is an order type a client uses.
type OrderType string

// Order types.
const (
	Market         OrderType = "market"
	Limit          OrderType = "limit"
	Stop           OrderType = "stop"
	StopLimit      OrderType = "stop-limit"
	MarketIfTouch  OrderType = "market-if-touched"
	TrailingStop   OrderType = "trailing-stop"
	OneCancelOther OrderType = "one-cancels-other"
)

// TradingPrefs lists what a client trades and how.
type TradingPrefs struct {
	Commodities []string // catalogue keys
	Instruments []InstrumentKind
	OrderTypes  []OrderType
}

// Horizon is a client's trading horizon.
type Horizon string

// Horizons.
const (
	Intraday   Horizon = "intraday"
	ShortTerm  Horizon = "short"
	MediumTerm Horizon = "medium"
	LongTerm   Horizon = "long"
)

// Risk is a client's risk profile and suitability review schedule.
type Risk struct {
	Tolerance     int // 1-10, 0 when not assessed
	Horizon       Horizon
	PositionLimit *float64 // contracts
	LossLimit     *float64 // account currency
	AssessedOn    Date
	ReviewOn      Date
}

// RiskLabel names a tolerance the way brokers speak of it.
func RiskLabel(tolerance int) string {
	switch {
	case tolerance <= 0:
		return ""
	case tolerance <= 3:
		return "conservative"
	case tolerance <= 7:
		return "moderate"
	default:
		return "aggressive"
	}
}

// KYC holds the know-your-customer facts a futures broker must keep for an
// individual client (NFA Rule 2-30).
type KYC struct {
	Occupation           string
	AnnualIncome         *float64
	NetWorth             *float64
	DateOfBirth          Date
	InvestmentExperience string
	FuturesExperience    string
}

// GoalTerm separates short-term from long-term goals.
type GoalTerm string

// Goal terms.
const (
	ShortGoal GoalTerm = "short"
	LongGoal  GoalTerm = "long"
)

// Goal is something the client wants to achieve.
type Goal struct {
	Term        GoalTerm
	Description string
	Commodity   string   // optional catalogue key
	Target      *float64 // optional numeric target
	Deadline    Date
	Progress    float64 // 0-100 percent
}
