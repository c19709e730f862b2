package postgres

import (
	"fmt"
	"strings"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

// profile is the jsonb document that holds every part of a Client that has
// no column of its own. Its keys are spelled out here rather than derived from
// Go field names, so that renaming a field in package store cannot orphan
// data already stored.
//
// Phones, emails, account numbers and tags are here as well as in their own
// tables: reading a client is then one row, while the tables enforce
// uniqueness and serve lookups. Every write goes through this package and
// updates both in one transaction.
//
// The nested types have the same fields as their counterparts in package
// store, so conversions between them are plain type conversions; a field
// added there stops this package compiling until it is added here too.
type profile struct {
	Kind            store.ClientKind `json:"kind"`
	Accounts        []string         `json:"accounts,omitempty"`
	Onboarded       store.Date       `json:"onboarded,omitzero"`
	TimeZone        string           `json:"time_zone,omitempty"`
	Phones          []phone          `json:"phones,omitempty"`
	Emails          []email          `json:"emails,omitempty"`
	Addresses       []address        `json:"addresses,omitempty"`
	Contact         contactPrefs     `json:"contact,omitzero"`
	Trading         tradingPrefs     `json:"trading,omitzero"`
	Risk            riskLimits       `json:"risk,omitzero"`
	KYC             kyc              `json:"kyc,omitzero"`
	Goals           []goal           `json:"goals,omitempty"`
	Diversification string           `json:"diversification,omitempty"`
	Tags            []string         `json:"tags,omitempty"`
}

type phone struct {
	Kind   store.ContactKind `json:"kind"`
	Number string            `json:"number"`
}

type email struct {
	Kind    store.ContactKind `json:"kind"`
	Address string            `json:"address"`
}

type address struct {
	Kind       store.ContactKind `json:"kind"`
	Street     string            `json:"street,omitempty"`
	City       string            `json:"city,omitempty"`
	Region     string            `json:"region,omitempty"`
	PostalCode string            `json:"postal_code,omitempty"`
	Country    string            `json:"country,omitempty"`
}

type contactPrefs struct {
	Channels     []store.Channel `json:"channels,omitempty"`
	Times        []string        `json:"times,omitempty"`
	Frequency    store.Frequency `json:"frequency,omitempty"`
	DoNotContact bool            `json:"do_not_contact,omitempty"`
	DoNotReason  string          `json:"do_not_contact_reason,omitempty"`
}

type tradingPrefs struct {
	Commodities []string               `json:"commodities,omitempty"`
	Instruments []store.InstrumentKind `json:"instruments,omitempty"`
	OrderTypes  []store.OrderType      `json:"order_types,omitempty"`
}

// riskLimits is the part of store.Risk without a column (tolerance and
// horizon are promoted for segment filters).
type riskLimits struct {
	PositionLimit *float64   `json:"position_limit,omitempty"`
	LossLimit     *float64   `json:"loss_limit,omitempty"`
	AssessedOn    store.Date `json:"assessed_on,omitzero"`
	ReviewOn      store.Date `json:"review_on,omitzero"`
}

type kyc struct {
	Occupation           string     `json:"occupation,omitempty"`
	AnnualIncome         *float64   `json:"annual_income,omitempty"`
	NetWorth             *float64   `json:"net_worth,omitempty"`
	DateOfBirth          store.Date `json:"date_of_birth,omitzero"`
	InvestmentExperience string     `json:"investment_experience,omitempty"`
	FuturesExperience    string     `json:"futures_experience,omitempty"`
}

type goal struct {
	Term        store.GoalTerm `json:"term"`
	Description string         `json:"description"`
	Commodity   string         `json:"commodity,omitempty"`
	Target      *float64       `json:"target,omitempty"`
	Deadline    store.Date     `json:"deadline,omitzero"`
	Progress    float64        `json:"progress,omitempty"`
}

func profileOf(c *store.Client) profile {
	p := profile{
		Kind:            c.Kind,
		Accounts:        c.Accounts,
		Onboarded:       c.Onboarded,
		TimeZone:        c.TimeZone,
		Contact:         contactPrefs(c.Contact),
		Trading:         tradingPrefs(c.Trading),
		Risk:            riskLimits{c.Risk.PositionLimit, c.Risk.LossLimit, c.Risk.AssessedOn, c.Risk.ReviewOn},
		KYC:             kyc(c.KYC),
		Diversification: c.Diversification,
		Tags:            c.Tags,
	}
	for _, ph := range c.Phones {
		p.Phones = append(p.Phones, phone(ph))
	}
	for _, e := range c.Emails {
		p.Emails = append(p.Emails, email(e))
	}
	for _, a := range c.Addresses {
		p.Addresses = append(p.Addresses, address(a))
	}
	for _, g := range c.Goals {
		p.Goals = append(p.Goals, goal(g))
	}
	return p
}

// apply copies the document into c, leaving the promoted fields alone.
func (p *profile) apply(c *store.Client) {
	c.Kind = p.Kind
	c.Accounts = p.Accounts
	c.Onboarded = p.Onboarded
	c.TimeZone = p.TimeZone
	c.Contact = store.ContactPrefs(p.Contact)
	c.Trading = store.TradingPrefs(p.Trading)
	c.Risk.PositionLimit = p.Risk.PositionLimit
	c.Risk.LossLimit = p.Risk.LossLimit
	c.Risk.AssessedOn = p.Risk.AssessedOn
	c.Risk.ReviewOn = p.Risk.ReviewOn
	c.KYC = store.KYC(p.KYC)
	c.Diversification = p.Diversification
	c.Tags = p.Tags
	c.Phones, c.Emails, c.Addresses, c.Goals = nil, nil, nil, nil
	for _, ph := range p.Phones {
		c.Phones = append(c.Phones, store.Phone(ph))
	}
	for _, e := range p.Emails {
		c.Emails = append(c.Emails, store.Email(e))
	}
	for _, a := range p.Addresses {
		c.Addresses = append(c.Addresses, store.Address(a))
	}
	for _, g := range p.Goals {
		c.Goals = append(c.Goals, store.Goal(g))
	}
}

// pgUUID is how ids are handed to pgx, which encodes a [16]byte directly; a
// uuid.UUID would go through driver.Valuer and back through text, which
// profiled at a sixth of the client-side time of a large import. Scans
// likewise read into (*[16]byte)(&id).
func pgUUID(id uuid.UUID) [16]byte { return id }

// searchText is what FindClients matches against: handle, name and company,
// lower-cased here rather than by the server, whose lower() only folds ASCII
// under the C locale many installations use.
func searchText(c *store.Client) string {
	return strings.ToLower(c.Handle + "\n" + c.Name + "\n" + c.Company)
}

// clientColumns is the select list scanClient reads, for a clients table
// aliased c.
const clientColumns = `c.id, c.handle, c.name, c.company, c.broker, c.team, c.stage,
	c.stage_changed_at, c.risk_tolerance, c.horizon, c.profile, c.created_at, c.updated_at, c.version`

// clientRow is one row of clientColumns, with the profile document still
// encoded, so that decode can make as many independent copies as a caller
// needs (UpdateClient keeps one to diff against).
type clientRow struct {
	c   store.Client // the promoted columns
	doc []byte
}

func (r *clientRow) scan(row pgx.Row) error {
	c := &r.c
	// Plain types scan on pgx's fast paths; named ones (store.Stage) would
	// go through reflection on every row.
	var stage, horizon string
	err := row.Scan((*[16]byte)(&c.ID), &c.Handle, &c.Name, &c.Company, &c.Broker, &c.Team, &stage,
		&c.StageChangedAt, &c.Risk.Tolerance, &horizon, &r.doc, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	c.Stage, c.Risk.Horizon = store.Stage(stage), store.Horizon(horizon)
	return err
}

func (r *clientRow) decode() (*store.Client, error) {
	c := r.c
	var p profile
	// Decoding the profile is most of what a lookup costs this side of the
	// wire: go-json reads a full profile in 7-10 µs, encoding/json in 30-50.
	// (fastjson and easyjson were no faster than go-json here.) Encoding,
	// done once per write, stays with encoding/json.
	if err := gojson.Unmarshal(r.doc, &p); err != nil {
		return nil, store.Internal(fmt.Sprintf("decode profile of client %s", c.Handle), err)
	}
	p.apply(&c)
	// pgx returns times in the local zone; the domain keeps UTC.
	c.StageChangedAt = c.StageChangedAt.UTC()
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

// scanClient reads one row of clientColumns.
func scanClient(row pgx.Row) (*store.Client, error) {
	var r clientRow
	if err := r.scan(row); err != nil {
		return nil, err
	}
	return r.decode()
}
