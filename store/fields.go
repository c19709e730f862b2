package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A profile field has one name everywhere: in `/client set acme risk=7`, in
// the CSV header, and in the audit trail ("risk 4 -> 7"). fields.go is the
// one table that maps those names onto the Client struct.

type fieldDef struct {
	name string
	help string
	get  func(*Client) string
	set  func(*Client, string) error
}

func list[T ~string](s []T) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = string(v)
	}
	return strings.Join(parts, ",")
}

func splitList[T ~string](v string) []T {
	var out []T
	for _, p := range strings.Split(v, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, T(p))
		}
	}
	return out
}

func fmtFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func dateField(name, help string, at func(*Client) *Date) fieldDef {
	return fieldDef{name, help,
		func(c *Client) string { return at(c).String() },
		func(c *Client, v string) error {
			var d Date
			if err := d.UnmarshalText([]byte(v)); err != nil {
				return Invalid(name, "%v", err)
			}
			*at(c) = d
			return nil
		}}
}

func textField(name, help string, at func(*Client) *string) fieldDef {
	return fieldDef{name, help,
		func(c *Client) string { return *at(c) },
		func(c *Client, v string) error { *at(c) = v; return nil }}
}

func enumField[T ~string](name, help string, at func(*Client) *T) fieldDef {
	return fieldDef{name, help,
		func(c *Client) string { return string(*at(c)) },
		func(c *Client, v string) error { *at(c) = T(strings.ToLower(v)); return nil }}
}

func listField[T ~string](name, help string, at func(*Client) *[]T) fieldDef {
	return fieldDef{name, help,
		func(c *Client) string { return list(*at(c)) },
		func(c *Client, v string) error { *at(c) = splitList[T](v); return nil }}
}

func numberField(name, help string, at func(*Client) **float64) fieldDef {
	return fieldDef{name, help,
		func(c *Client) string { return fmtFloat(*at(c)) },
		func(c *Client, v string) error {
			f, err := parseFloat(name, v)
			if err != nil {
				return err
			}
			*at(c) = f
			return nil
		}}
}

var staticFields = []fieldDef{
	textField("name", "display or legal name", func(c *Client) *string { return &c.Name }),
	textField("company", "company", func(c *Client) *string { return &c.Company }),
	enumField("kind", "individual or entity", func(c *Client) *ClientKind { return &c.Kind }),
	{"accounts", "order-system account numbers, comma separated",
		func(c *Client) string { return strings.Join(c.Accounts, ",") },
		func(c *Client, v string) error {
			c.Accounts = nil
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					c.Accounts = append(c.Accounts, a)
				}
			}
			return nil
		}},
	textField("broker", "assigned broker (Slack user id)", func(c *Client) *string { return &c.Broker }),
	textField("team", "desk, e.g. energy-desk", func(c *Client) *string { return &c.Team }),
	dateField("onboarded", "onboarding date, YYYY-MM-DD", func(c *Client) *Date { return &c.Onboarded }),
	enumField("stage", "prospect, onboarding, active, dormant or closed", func(c *Client) *Stage { return &c.Stage }),
	textField("timezone", "IANA time zone, e.g. America/Chicago", func(c *Client) *string { return &c.TimeZone }),
	listField("channels", "preferred channels in order: email, phone, sms, slack, in-person", func(c *Client) *[]Channel { return &c.Contact.Channels }),
	listField("times", "preferred times: morning, afternoon, evening or HH:MM-HH:MM", func(c *Client) *[]string { return &c.Contact.Times }),
	enumField("frequency", "daily, weekly, monthly or quarterly", func(c *Client) *Frequency { return &c.Contact.Frequency }),
	{"dnc", "do not contact: yes or no",
		func(c *Client) string { return strconv.FormatBool(c.Contact.DoNotContact) },
		func(c *Client, v string) error {
			switch strings.ToLower(v) {
			case "yes", "true", "on", "1":
				c.Contact.DoNotContact = true
			case "no", "false", "off", "0", "":
				c.Contact.DoNotContact = false
			default:
				return Invalid("dnc", "%q is not yes or no", v)
			}
			return nil
		}},
	textField("dnc.reason", "why the client is not to be contacted", func(c *Client) *string { return &c.Contact.DoNotReason }),
	listField("commodities", "commodities of interest, e.g. corn,wti,CBOT:ZS", func(c *Client) *[]string { return &c.Trading.Commodities }),
	listField("instruments", "futures, options, spreads, swaps, forwards, spot, etp", func(c *Client) *[]InstrumentKind { return &c.Trading.Instruments }),
	listField("ordertypes", "market, limit, stop, stop-limit, market-if-touched, trailing-stop, one-cancels-other", func(c *Client) *[]OrderType { return &c.Trading.OrderTypes }),
	{"risk", "risk tolerance 1-10",
		func(c *Client) string {
			if c.Risk.Tolerance == 0 {
				return ""
			}
			return strconv.Itoa(c.Risk.Tolerance)
		},
		func(c *Client, v string) error {
			if v == "" {
				c.Risk.Tolerance = 0
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10 {
				return Invalid("risk", "%q is not a risk tolerance from 1 (most conservative) to 10 (most aggressive)", v)
			}
			c.Risk.Tolerance = n
			return nil
		}},
	enumField("horizon", "intraday, short, medium or long", func(c *Client) *Horizon { return &c.Risk.Horizon }),
	numberField("limit.position", "position limit in contracts", func(c *Client) **float64 { return &c.Risk.PositionLimit }),
	numberField("limit.loss", "loss limit in account currency", func(c *Client) **float64 { return &c.Risk.LossLimit }),
	dateField("risk.assessed", "last risk assessment, YYYY-MM-DD", func(c *Client) *Date { return &c.Risk.AssessedOn }),
	dateField("risk.review", "next risk review, YYYY-MM-DD", func(c *Client) *Date { return &c.Risk.ReviewOn }),
	textField("kyc.occupation", "occupation", func(c *Client) *string { return &c.KYC.Occupation }),
	numberField("kyc.income", "estimated annual income", func(c *Client) **float64 { return &c.KYC.AnnualIncome }),
	numberField("kyc.networth", "estimated net worth", func(c *Client) **float64 { return &c.KYC.NetWorth }),
	dateField("kyc.dob", "date of birth, YYYY-MM-DD", func(c *Client) *Date { return &c.KYC.DateOfBirth }),
	textField("kyc.investing", "previous investment experience", func(c *Client) *string { return &c.KYC.InvestmentExperience }),
	textField("kyc.futures", "previous futures trading experience", func(c *Client) *string { return &c.KYC.FuturesExperience }),
	textField("diversification", "diversification strategy notes", func(c *Client) *string { return &c.Diversification }),
	listField("tags", "tags, comma separated", func(c *Client) *[]string { return &c.Tags }),
}

var staticByName = func() map[string]fieldDef {
	m := make(map[string]fieldDef, len(staticFields))
	for _, f := range staticFields {
		m[f.name] = f
	}
	return m
}()

var addressParts = []string{"street", "city", "region", "postcode", "country"}
var goalParts = []string{"description", "term", "commodity", "target", "deadline", "progress"}

// FieldHelp lists every settable field with a short description, in the order
// shown by `/client set help` and used in CSV headers.
func FieldHelp() [][2]string {
	out := [][2]string{{"handle", "unique short name used in commands"}}
	for _, f := range staticFields {
		out = append(out, [2]string{f.name, f.help})
	}
	for _, k := range contactKinds {
		out = append(out, [2]string{"phone." + string(k), "phone number; stored in E.164"})
	}
	for _, k := range contactKinds {
		out = append(out, [2]string{"email." + string(k), "email address; unique across clients"})
	}
	for _, k := range []ContactKind{Work, Home} {
		for _, p := range addressParts {
			out = append(out, [2]string{"address." + string(k) + "." + p, "postal address " + p})
		}
	}
	for _, p := range goalParts {
		out = append(out, [2]string{"goal.N." + p, "goal N's " + p + " (N from 1; setting goal.N.description for the next N adds a goal, an empty one removes it)"})
	}
	return out
}

// IsField reports whether name is a profile field SetField accepts.
func IsField(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, ok := staticByName[name]; ok || name == "handle" {
		return true
	}
	parts := strings.Split(name, ".")
	switch {
	case len(parts) == 2 && (parts[0] == "phone" || parts[0] == "email"):
		return slices.Contains(contactKinds, ContactKind(parts[1]))
	case len(parts) == 3 && parts[0] == "address":
		return slices.Contains(contactKinds, ContactKind(parts[1])) && slices.Contains(addressParts, parts[2])
	case len(parts) == 3 && parts[0] == "goal":
		n, err := strconv.Atoi(parts[1])
		return err == nil && n >= 1 && slices.Contains(goalParts, parts[2])
	}
	return false
}

// SetField sets one field from its text form, as typed in Slack or read from a
// CSV cell. An empty value clears the field. The Client is not validated as a
// whole: call Validate afterwards.
func SetField(c *Client, name, value string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	value = strings.TrimSpace(value)
	if f, ok := staticByName[name]; ok {
		return f.set(c, value)
	}
	parts := strings.Split(name, ".")
	switch {
	case name == "handle":
		c.Handle = value
		return nil
	case len(parts) == 2 && parts[0] == "phone":
		return setPhone(c, ContactKind(parts[1]), value)
	case len(parts) == 2 && parts[0] == "email":
		return setEmail(c, ContactKind(parts[1]), value)
	case len(parts) == 3 && parts[0] == "address":
		return setAddress(c, ContactKind(parts[1]), parts[2], value)
	case len(parts) == 3 && parts[0] == "goal":
		return setGoal(c, parts[1], parts[2], value)
	}
	return Invalid(name, "no such field; `/client set help` lists them")
}

// Fields returns every non-empty field of c as name -> text, the form used in
// CSV export and to diff profiles for the audit trail.
func Fields(c *Client) map[string]string {
	m := map[string]string{"handle": c.Handle}
	for _, f := range staticFields {
		if v := f.get(c); v != "" && v != "false" {
			m[f.name] = v
		}
	}
	for _, p := range c.Phones {
		m["phone."+string(p.Kind)] = p.Number
	}
	for _, e := range c.Emails {
		m["email."+string(e.Kind)] = e.Address
	}
	for _, a := range c.Addresses {
		vals := []string{a.Street, a.City, a.Region, a.PostalCode, a.Country}
		for i, p := range addressParts {
			if vals[i] != "" {
				m["address."+string(a.Kind)+"."+p] = vals[i]
			}
		}
	}
	for i, g := range c.Goals {
		vals := []string{g.Description, string(g.Term), g.Commodity, fmtFloat(g.Target), g.Deadline.String(), strconv.FormatFloat(g.Progress, 'f', -1, 64)}
		for j, p := range goalParts {
			if vals[j] != "" {
				m[fmt.Sprintf("goal.%d.%s", i+1, p)] = vals[j]
			}
		}
	}
	return m
}

// Change is one field's change, as kept in the audit trail.
type Change struct {
	Field string
	Old   string
	New   string
}

func (ch Change) String() string {
	old, new := ch.Old, ch.New
	if old == "" {
		old = "(none)"
	}
	if new == "" {
		new = "(none)"
	}
	return fmt.Sprintf("%s %s -> %s", ch.Field, old, new)
}

// Diff lists the fields that differ between two versions of a profile,
// sorted by field name.
func Diff(before, after *Client) []Change {
	a, b := Fields(before), Fields(after)
	var out []Change
	for k, v := range b {
		if a[k] != v {
			out = append(out, Change{k, a[k], v})
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out = append(out, Change{k, v, ""})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.Field, y.Field) })
	return out
}

func setPhone(c *Client, kind ContactKind, v string) error {
	field := "phone." + string(kind)
	if err := oneOf(field, kind, contactKinds...); err != nil {
		return err
	}
	c.Phones = slices.DeleteFunc(c.Phones, func(p Phone) bool { return p.Kind == kind })
	if v == "" {
		return nil
	}
	n, err := NormalizePhone(v)
	if err != nil {
		return Invalid(field, "%v", err)
	}
	c.Phones = append(c.Phones, Phone{kind, n})
	return nil
}

func setEmail(c *Client, kind ContactKind, v string) error {
	field := "email." + string(kind)
	if err := oneOf(field, kind, contactKinds...); err != nil {
		return err
	}
	c.Emails = slices.DeleteFunc(c.Emails, func(e Email) bool { return e.Kind == kind })
	if v == "" {
		return nil
	}
	a, err := NormalizeEmail(v)
	if err != nil {
		return Invalid(field, "%v", err)
	}
	c.Emails = append(c.Emails, Email{kind, a})
	return nil
}

func setAddress(c *Client, kind ContactKind, part, v string) error {
	field := "address." + string(kind) + "." + part
	if err := oneOf("address."+string(kind), kind, contactKinds...); err != nil {
		return err
	}
	i := slices.IndexFunc(c.Addresses, func(a Address) bool { return a.Kind == kind })
	if i < 0 {
		c.Addresses = append(c.Addresses, Address{Kind: kind})
		i = len(c.Addresses) - 1
	}
	a := &c.Addresses[i]
	switch part {
	case "street":
		a.Street = v
	case "city":
		a.City = v
	case "region":
		a.Region = v
	case "postcode":
		a.PostalCode = v
	case "country":
		a.Country = strings.ToUpper(v)
	default:
		return Invalid(field, "no such field; an address has %s", strings.Join(addressParts, ", "))
	}
	if *a == (Address{Kind: kind}) {
		c.Addresses = slices.Delete(c.Addresses, i, i+1)
	}
	return nil
}

func setGoal(c *Client, index, part, v string) error {
	field := "goal." + index + "." + part
	n, err := strconv.Atoi(index)
	if err != nil || n < 1 || n > len(c.Goals)+1 {
		return Invalid(field, "there is no goal %s (the client has %d; use %d to add one)", index, len(c.Goals), len(c.Goals)+1)
	}
	if n == len(c.Goals)+1 {
		if part != "description" || v == "" {
			return Invalid(field, "add a goal by setting goal.%d.description first", n)
		}
		c.Goals = append(c.Goals, Goal{Term: ShortGoal})
	}
	g := &c.Goals[n-1]
	switch part {
	case "term":
		g.Term = GoalTerm(strings.ToLower(v))
	case "description":
		if v == "" {
			c.Goals = slices.Delete(c.Goals, n-1, n)
			return nil
		}
		g.Description = v
	case "commodity":
		g.Commodity = v
	case "target":
		f, err := parseFloat(field, v)
		if err != nil {
			return err
		}
		g.Target = f
	case "deadline":
		if err := g.Deadline.UnmarshalText([]byte(v)); err != nil {
			return Invalid(field, "%v", err)
		}
	case "progress":
		f, err := parseFloat(field, strings.TrimSuffix(v, "%"))
		if err != nil {
			return err
		}
		g.Progress = 0
		if f != nil {
			g.Progress = *f
		}
	default:
		return Invalid(field, "no such field; a goal has %s", strings.Join(goalParts, ", "))
	}
	return nil
}
