package store_test

import (
	"strings"
	"testing"

	"github.com/brokersync/brokersync/store"
)

// Every field FieldHelp lists can be set from text and reads back the same
// through Fields, which is what CSV export and the audit trail rely on.
func TestEveryFieldRoundTrips(t *testing.T) {
	values := map[string]string{
		"handle": "acme-grain", "name": "Acme Grain", "company": "Acme", "kind": "individual",
		"accounts": "A-1,A-2", "broker": "U024BE7LH", "team": "ag-desk", "onboarded": "2024-03-01",
		"stage": "active", "timezone": "America/Chicago", "channels": "phone,email", "times": "morning,14:00-16:30",
		"frequency": "weekly", "dnc": "true", "dnc.reason": "asked for quiet until harvest",
		"commodities": "corn,wti", "instruments": "futures,options", "ordertypes": "limit,stop-limit",
		"risk": "7", "horizon": "long", "limit.position": "250", "limit.loss": "125000.5",
		"risk.assessed": "2026-01-15", "risk.review": "2026-07-15", "kyc.occupation": "farmer",
		"kyc.income": "180000", "kyc.networth": "2500000", "kyc.dob": "1970-05-04",
		"kyc.investing": "20 years equities", "kyc.futures": "hedging since 2005",
		"diversification": "add softs", "tags": "hedger,high-value",
	}
	c := &store.Client{}
	for _, f := range store.FieldHelp() {
		name := f[0]
		switch {
		case strings.HasPrefix(name, "goal.N."):
			continue
		case strings.HasPrefix(name, "phone."):
			values[name] = map[string]string{"phone.work": "+13125550100", "phone.home": "+13125550101", "phone.mobile": "+13125550102", "phone.personal": "+13125550103"}[name]
		case strings.HasPrefix(name, "email."):
			values[name] = strings.TrimPrefix(name, "email.") + "@acme.example"
		case strings.HasPrefix(name, "address."):
			values[name] = map[string]string{"street": "1 Elevator Rd", "city": "Ames", "region": "IA", "postcode": "50010", "country": "US"}[name[strings.LastIndex(name, ".")+1:]]
		}
		v, ok := values[name]
		if !ok {
			t.Errorf("field %s has no test value", name)
			continue
		}
		if err := store.SetField(c, name, v); err != nil {
			t.Errorf("SetField(%s, %q): %v", name, v, err)
		}
	}
	for _, kv := range [][2]string{{"goal.1.description", "hedge half the crop"}, {"goal.1.term", "long"}, {"goal.1.commodity", "corn"},
		{"goal.1.target", "50"}, {"goal.1.deadline", "2027-09-01"}, {"goal.1.progress", "20"}} {
		values[kv[0]] = kv[1]
		if err := store.SetField(c, kv[0], kv[1]); err != nil {
			t.Errorf("SetField(%s): %v", kv[0], err)
		}
	}
	if err := c.Validate(store.DefaultCatalogue()); err != nil {
		t.Fatal(err)
	}
	got := store.Fields(c)
	for name, want := range values {
		if got[name] != want {
			t.Errorf("Fields()[%s] = %q, want %q", name, got[name], want)
		}
	}
}

func TestSetFieldRejects(t *testing.T) {
	tests := []struct{ field, value, want string }{
		{"phone.work", "12", `phone.work: "12" is not a valid phone number`},
		{"phone.office", "+13125550100", `phone.office: "office" is not one of work, home, mobile, personal`},
		{"email.work", "jane@", `email.work: "jane@" is not a valid email address`},
		{"risk", "11", `risk: "11" is not a risk tolerance`},
		{"risk", "high", `risk: "high" is not a risk tolerance`},
		{"onboarded", "03/01/2024", `onboarded: "03/01/2024" is not a date`},
		{"limit.loss", "lots", `limit.loss: "lots" is not a number`},
		{"goal.3.description", "x", `goal.3.description: there is no goal 3`},
		{"colour", "red", `colour: no such field`},
		{"dnc", "maybe", `dnc: "maybe" is not yes or no`},
	}
	for _, tt := range tests {
		err := store.SetField(&store.Client{}, tt.field, tt.value)
		if err == nil || !strings.Contains(store.ErrorMessage(err), tt.want) {
			t.Errorf("SetField(%s, %q) = %v, want %q", tt.field, tt.value, err, tt.want)
		}
		if store.ErrorCode(err) != store.EINVALID {
			t.Errorf("SetField(%s, %q) code = %s, want invalid", tt.field, tt.value, store.ErrorCode(err))
		}
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *store.Client)
		want string
	}{
		{"time zone", func(c *store.Client) { c.TimeZone = "Mars/Olympus" }, `timezone: "Mars/Olympus" is not an IANA time zone`},
		{"stage", func(c *store.Client) { c.Stage = "asleep" }, `stage: "asleep" is not one of`},
		{"commodity", func(c *store.Client) { c.Trading.Commodities = []string{"unobtainium"} }, `commodities: "unobtainium" is not in the catalogue`},
		{"ambiguous symbol", func(c *store.Client) { c.Trading.Commodities = []string{"ZS"} }, `commodities: "ZS" is not in the catalogue`},
		{"time window", func(c *store.Client) { c.Contact.Times = []string{"17:00-09:00"} }, `times: "17:00-09:00"`},
		{"handle", func(c *store.Client) { c.Handle = "-bad" }, `handle: "-bad" is not a handle`},
		{"review before assessment", func(c *store.Client) {
			c.Risk.AssessedOn, _ = store.ParseDate("2026-05-01")
			c.Risk.ReviewOn, _ = store.ParseDate("2026-04-01")
		}, `risk.review: 2026-04-01 is before the assessment`},
		{"same phone twice", func(c *store.Client) {
			c.Phones = []store.Phone{{Kind: store.Work, Number: "+13125550100"}, {Kind: store.Mobile, Number: "(312) 555-0100"}}
		}, `+13125550100 is listed twice`},
		{"two work emails", func(c *store.Client) {
			c.Emails = []store.Email{{Kind: store.Work, Address: "a@acme.example"}, {Kind: store.Work, Address: "b@acme.example"}}
		}, `email.work: a client has one work email`},
	}
	for _, tt := range tests {
		c := &store.Client{Handle: "acme", Name: "Acme"}
		tt.edit(c)
		err := c.Validate(store.DefaultCatalogue())
		if err == nil || !strings.Contains(store.ErrorMessage(err), tt.want) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCatalogueLookup(t *testing.T) {
	for in, want := range map[string]string{"corn": "corn", "ZC": "corn", "CBOT:ZS": "soybeans", "LME:ZS": "lme-zinc", "cl": "wti", "ICE:KC": "coffee"} {
		c, ok := store.DefaultCatalogue().Lookup(in)
		if !ok || c.Key != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, c.Key, ok, want)
		}
	}
	if c, ok := store.DefaultCatalogue().Lookup("ZS"); ok {
		t.Errorf("bare ZS resolved to %s; it is ambiguous (CBOT soybeans, LME zinc)", c.Key)
	}
}

func TestEventIDIsStable(t *testing.T) {
	a, b := store.EventID("imap", "<x@y>"), store.EventID("imap", "<x@y>")
	if a != b || a == store.EventID("slack", "<x@y>") {
		t.Errorf("event ids: %v %v", a, b)
	}
}
