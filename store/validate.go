package store

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones validate the same on every machine and in a scratch image

	"github.com/nyaruka/phonenumbers"
)

// DefaultPhoneRegion is the region assumed for phone numbers written without
// a country code.
const DefaultPhoneRegion = "US"

var handleRE = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}-]{1,39}$`)

// NormalizeHandle lower-cases a handle and checks its form.
func NormalizeHandle(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if !handleRE.MatchString(h) {
		return "", Invalid("handle", "%q is not a handle: use 2-40 lower-case letters (any script), digits and dashes, starting with a letter or digit", h)
	}
	return h, nil
}

// PhoneError says why a string is not a phone number BrokerSync stores.
type PhoneError struct {
	Number string
	// Unassigned: the number is well formed (the right length for its
	// country) but in no range that country assigns, so nobody has it.
	Unassigned bool
	reason     string
}

func (e *PhoneError) Error() string { return fmt.Sprintf("%q %s", e.Number, e.reason) }

// NormalizePhone returns n in E.164 form. The error, a *PhoneError, says
// what is wrong: not a number, a country code that does not exist, too few
// or too many digits, or a number no one can have.
func NormalizePhone(n string) (string, error) {
	n = strings.TrimSpace(n)
	bad := func(unassigned bool, format string, a ...any) (string, error) {
		return "", &PhoneError{Number: n, Unassigned: unassigned, reason: fmt.Sprintf(format, a...)}
	}
	num, err := phonenumbers.Parse(n, DefaultPhoneRegion)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return bad(false, "has no country code that exists: write it in E.164 such as +13125550100")
	case err != nil:
		return bad(false, "is not a valid phone number: write it in E.164 such as +13125550100")
	}
	region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	if region == "" || region == "ZZ" {
		region = fmt.Sprintf("+%d", num.GetCountryCode())
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return bad(false, "has no country code that exists: write it in E.164 such as +13125550100")
	case phonenumbers.TOO_SHORT:
		return bad(false, "is not a valid phone number: too few digits for a number in %s", region)
	case phonenumbers.TOO_LONG:
		return bad(false, "is not a valid phone number: too many digits for a number in %s", region)
	case phonenumbers.INVALID_LENGTH:
		return bad(false, "is not a valid phone number: no number in %s has that many digits", region)
	}
	if !phonenumbers.IsValidNumber(num) {
		return bad(true, "is well formed but not a number in use: %s assigns no numbers in that range (check the area code)", region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormalizeEmail parses an address ("Jane <JANE@Acme.com>" or
// "jane@acme.com") and returns the bare, lower-cased address.
func NormalizeEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	a, err := mail.ParseAddress(e)
	if err != nil || !strings.Contains(a.Address, ".") {
		return "", fmt.Errorf("%q is not a valid email address", e)
	}
	return strings.ToLower(a.Address), nil
}

var accountRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._/-]{0,39}$`)

// NormalizeAccount upper-cases an order-system account number and checks
// its form, so that "acc-0042" typed by a broker finds ACC-0042.
func NormalizeAccount(a string) (string, error) {
	a = strings.ToUpper(strings.TrimSpace(a))
	if !accountRE.MatchString(a) {
		return "", Invalid("accounts", "%q is not an account number: use up to 40 letters, digits, dots, dashes, slashes and underscores", a)
	}
	return a, nil
}

// knownZones remembers the zones that loaded: time.LoadLocation reads the
// zone database on every call, which shows in imports of many clients and
// on every command.
var knownZones sync.Map // name -> *time.Location

// Location returns the IANA time zone tz; false for "", "Local" or a name
// that is not a zone.
func Location(tz string) (*time.Location, bool) {
	if l, ok := knownZones.Load(tz); ok {
		return l.(*time.Location), true
	}
	if tz == "" || strings.EqualFold(tz, "local") {
		return nil, false
	}
	l, err := time.LoadLocation(tz)
	if err != nil {
		return nil, false
	}
	knownZones.Store(tz, l)
	return l, true
}

// ValidateTimeZone checks an IANA time zone name.
func ValidateTimeZone(tz string) error {
	if _, ok := Location(tz); !ok {
		return fmt.Errorf("%q is not an IANA time zone such as America/Chicago", tz)
	}
	return nil
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

var timeWindowRE = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)

func validTime(t string) bool {
	switch t {
	case "morning", "afternoon", "evening":
		return true
	}
	return timeWindowRE.MatchString(t) && t[:5] < t[6:]
}

func oneOf[T ~string](field string, v T, allowed ...T) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return Invalid(field, "%q is not one of %s", v, strings.Join(names, ", "))
}

var (
	stages       = []Stage{Prospect, Onboarding, Active, Dormant, Closed}
	clientKinds  = []ClientKind{Individual, Entity}
	contactKinds = []ContactKind{Work, Home, Mobile, Personal}
	channels     = []Channel{ChannelEmail, ChannelPhone, ChannelSMS, ChannelSlack, ChannelInPerson}
	frequencies  = []Frequency{Daily, Weekly, Monthly, Quarterly}
	instruments  = []InstrumentKind{Futures, Options, Spreads, Swaps, Forwards, Spot, ETP}
	orderTypes   = []OrderType{Market, Limit, Stop, StopLimit, MarketIfTouch, TrailingStop, OneCancelOther}
	horizons     = []Horizon{Intraday, ShortTerm, MediumTerm, LongTerm}
	goalTerms    = []GoalTerm{ShortGoal, LongGoal}
)

// Validate normalises c in place (handle, accounts, phones, emails, commodity
// keys, against cat) and checks every field. The first problem is returned
// as an EINVALID *Error naming the field and the value.
func (c *Client) Validate(cat *Catalogue) error {
	h, err := NormalizeHandle(c.Handle)
	if err != nil {
		return err
	}
	c.Handle = h
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Invalid("name", "a client needs a name")
	}
	if c.Kind == "" {
		c.Kind = Entity
	}
	if c.Stage == "" {
		c.Stage = Prospect
	}
	checks := []error{
		oneOf("kind", c.Kind, clientKinds...),
		oneOf("stage", c.Stage, stages...),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if c.TimeZone != "" {
		if err := ValidateTimeZone(c.TimeZone); err != nil {
			return Invalid("timezone", "%v", err)
		}
	}
	if c.Accounts, err = normalizeList(c.Accounts, NormalizeAccount); err != nil {
		return err
	}
	if err := c.validateContacts(); err != nil {
		return err
	}
	if err := c.validatePrefs(cat); err != nil {
		return err
	}
	if err := c.validateRisk(); err != nil {
		return err
	}
	for i := range c.Goals {
		if err := c.Goals[i].validate(fmt.Sprintf("goal.%d", i+1), cat); err != nil {
			return err
		}
	}
	c.Tags, err = normalizeList(c.Tags, NormalizeTag)
	return err
}

func (c *Client) validateContacts() error {
	// A value once, and one of each kind per list: fields name contacts by
	// kind (phone.work), so a second of a kind could be neither changed nor
	// audited.
	seen := map[string]bool{}
	for i, p := range c.Phones {
		field := "phone." + string(p.Kind)
		if err := oneOf(field, p.Kind, contactKinds...); err != nil {
			return err
		}
		if seen[field] {
			return Invalid(field, "a client has one %s phone; set another kind (work, home, mobile, personal)", p.Kind)
		}
		seen[field] = true
		n, err := NormalizePhone(p.Number)
		if err != nil {
			return Invalid(field, "%v", err)
		}
		if seen[n] {
			return Invalid(field, "%s is listed twice", n)
		}
		seen[n] = true
		c.Phones[i].Number = n
	}
	for i, e := range c.Emails {
		field := "email." + string(e.Kind)
		if err := oneOf(field, e.Kind, contactKinds...); err != nil {
			return err
		}
		if seen[field] {
			return Invalid(field, "a client has one %s email; set another kind (work, home, mobile, personal)", e.Kind)
		}
		seen[field] = true
		a, err := NormalizeEmail(e.Address)
		if err != nil {
			return Invalid(field, "%v", err)
		}
		if seen[a] {
			return Invalid(field, "%s is listed twice", a)
		}
		seen[a] = true
		c.Emails[i].Address = a
	}
	for _, a := range c.Addresses {
		field := "address." + string(a.Kind)
		if err := oneOf(field, a.Kind, contactKinds...); err != nil {
			return err
		}
		if a.Country != "" && !countryRE.MatchString(a.Country) {
			return Invalid(field+".country", "%q is not a two-letter country code such as US", a.Country)
		}
	}
	return nil
}

func (c *Client) validatePrefs(cat *Catalogue) error {
	p := &c.Contact
	for _, ch := range p.Channels {
		if err := oneOf("channels", ch, channels...); err != nil {
			return err
		}
	}
	for _, t := range p.Times {
		if !validTime(t) {
			return Invalid("times", "%q is not morning, afternoon, evening or a window such as 08:00-11:30", t)
		}
	}
	if p.Frequency != "" {
		if err := oneOf("frequency", p.Frequency, frequencies...); err != nil {
			return err
		}
	}
	for i, k := range c.Trading.Commodities {
		com, ok := cat.Lookup(k)
		if !ok {
			return Invalid("commodities", "%q is not in the catalogue (use a name such as corn or an exchange and symbol such as CBOT:ZS)", k)
		}
		c.Trading.Commodities[i] = com.Key
	}
	c.Trading.Commodities = dedupe(c.Trading.Commodities)
	for _, in := range c.Trading.Instruments {
		if err := oneOf("instruments", in, instruments...); err != nil {
			return err
		}
	}
	for _, ot := range c.Trading.OrderTypes {
		if err := oneOf("ordertypes", ot, orderTypes...); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) validateRisk() error {
	r := &c.Risk
	if r.Tolerance < 0 || r.Tolerance > 10 {
		return Invalid("risk", "%d is out of range: risk tolerance is 1 (most conservative) to 10 (most aggressive)", r.Tolerance)
	}
	if r.Horizon != "" {
		if err := oneOf("horizon", r.Horizon, horizons...); err != nil {
			return err
		}
	}
	if r.PositionLimit != nil && *r.PositionLimit <= 0 {
		return Invalid("limit.position", "%v must be more than zero", *r.PositionLimit)
	}
	if r.LossLimit != nil && *r.LossLimit <= 0 {
		return Invalid("limit.loss", "%v must be more than zero", *r.LossLimit)
	}
	if !r.AssessedOn.IsZero() && !r.ReviewOn.IsZero() && r.ReviewOn.Before(r.AssessedOn) {
		return Invalid("risk.review", "%s is before the assessment on %s", r.ReviewOn, r.AssessedOn)
	}
	k := c.KYC
	if k.AnnualIncome != nil && *k.AnnualIncome < 0 {
		return Invalid("kyc.income", "%v must not be negative", *k.AnnualIncome)
	}
	if !k.DateOfBirth.IsZero() && k.DateOfBirth.Time().After(time.Now()) {
		return Invalid("kyc.dob", "%s is in the future", k.DateOfBirth)
	}
	return nil
}

func (g *Goal) validate(field string, cat *Catalogue) error {
	g.Description = strings.TrimSpace(g.Description)
	if g.Description == "" {
		return Invalid(field+".description", "a goal needs a description")
	}
	if g.Term == "" {
		g.Term = ShortGoal
	}
	if err := oneOf(field+".term", g.Term, goalTerms...); err != nil {
		return err
	}
	if g.Commodity != "" {
		com, ok := cat.Lookup(g.Commodity)
		if !ok {
			return Invalid(field+".commodity", "%q is not in the catalogue", g.Commodity)
		}
		g.Commodity = com.Key
	}
	if g.Progress < 0 || g.Progress > 100 {
		return Invalid(field+".progress", "%v is out of range 0-100", g.Progress)
	}
	return nil
}

var tagRE = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}_.:-]{0,63}$`)

// NormalizeTag lower-cases a tag and checks its form.
func NormalizeTag(t string) (string, error) {
	t = strings.ToLower(strings.TrimSpace(strings.TrimLeft(t, "+#")))
	if !tagRE.MatchString(t) {
		return "", Invalid("tags", "%q is not a tag: use letters, digits, dashes and dots, up to 64", t)
	}
	return t, nil
}

// normalizeList normalises each of vs in place with f and drops repeats. On
// an error vs is returned as far as it got.
func normalizeList(vs []string, f func(string) (string, error)) ([]string, error) {
	for i, v := range vs {
		n, err := f(v)
		if err != nil {
			return vs, err
		}
		vs[i] = n
	}
	return dedupe(vs), nil
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func parseFloat(field, v string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
	if err != nil {
		return nil, Invalid(field, "%q is not a number", v)
	}
	return &f, nil
}
