// Package storetest is the contract every store backend passes, in the manner
// of go-cloud's docstore/drivertest: each backend's own test calls the Run
// function with a constructor for fresh stores, and the suite checks what a
// broker would notice — lookups that find the client however it is written,
// profiles that come back exactly as stored, conflicts and bad input that
// are named and leave nothing behind, and changes that are audited and never
// lost.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunClientStoreTests runs the ClientStore contract. newStore must return a
// new, empty store on every call and close it with t.Cleanup. Subtests run in
// parallel, each with its own store.
//
// Beyond the interface's comments, the contract fixes these choices, so that
// every backend makes them the same way:
//   - CreateClient and ImportClients set the client's ID, CreatedAt =
//     UpdatedAt, Version 1, StageChangedAt (when unset), and write one audit
//     entry {Field: "handle", Old: "", New: handle} by the actor.
//   - Conflict errors name the field being written ("email.personal") and
//     the normalised value, and carry the client that has it (Holder: id,
//     handle, desk) without naming it in the message: a broker must not
//     learn another desk's client from it.
//   - Errors from ImportClients name the offending client's handle.
//   - FindClients with a non-nil, empty Teams matches nothing.
//   - ClientByEmail, ClientByPhone and ClientByAccount answer ENOTFOUND for
//     malformed input.
func RunClientStoreTests(t *testing.T, newStore func(t *testing.T) store.ClientStore) {
	tests := []struct {
		name string
		run  func(*testing.T, store.ClientStore)
	}{
		{"CreateAndLookUp", testCreateAndLookUp},
		{"FullProfileRoundTrips", testFullProfileRoundTrips},
		{"MinimalProfileRoundTrips", testMinimalProfileRoundTrips},
		{"CreateConflicts", testCreateConflicts},
		{"CreateInvalid", testCreateInvalid},
		{"NotFound", testNotFound},
		{"Import", testImport},
		{"ImportAllOrNothing", testImportAllOrNothing},
		{"Find", testFind},
		{"FindScope", testFindScope},
		{"FindPaging", testFindPaging},
		{"AllClients", testAllClients},
		{"Update", testUpdate},
		{"UpdateNoOp", testUpdateNoOp},
		{"UpdateFailureChangesNothing", testUpdateFailureChangesNothing},
		{"UpdateConflicts", testUpdateConflicts},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdates},
		{"TagClient", testTagClient},
		{"Ping", func(t *testing.T, s store.ClientStore) {
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

// FullClient returns a valid client with every section of the profile filled
// in. n (0-999) varies its phone numbers and emails so that several full
// clients can live in one store.
func FullClient(handle string, n int) *store.Client {
	num := func(v float64) *float64 { return &v }
	return &store.Client{
		Handle:    handle,
		Name:      "Jane Doe",
		Company:   "Acme Grain LLC",
		Kind:      store.Individual,
		Accounts:  []string{fmt.Sprintf("ACC-%04d", n), fmt.Sprintf("ACC-%04d-H", n)},
		Broker:    "U0JANEBROKER",
		Team:      "grains-desk",
		Onboarded: store.Date{Year: 2023, Month: time.March, Day: 14},
		Stage:     store.Active,
		Phones: []store.Phone{
			{Kind: store.Work, Number: fmt.Sprintf("+1312555%04d", n)},
			{Kind: store.Mobile, Number: fmt.Sprintf("+1646555%04d", n)},
			{Kind: store.Home, Number: fmt.Sprintf("+44207946%04d", n%1000)},
		},
		Emails: []store.Email{
			{Kind: store.Work, Address: fmt.Sprintf("jane.doe%d@acme-grain.example", n)},
			{Kind: store.Personal, Address: fmt.Sprintf("jane%d@mail.example", n)},
		},
		Addresses: []store.Address{
			{Kind: store.Work, Street: "141 W Jackson Blvd, Suite 2000", City: "Chicago", Region: "IL", PostalCode: "60604", Country: "US"},
			{Kind: store.Home, Street: "Königstraße 12", City: "Zürich", PostalCode: "8001", Country: "CH"},
		},
		TimeZone: "America/Chicago",
		Contact: store.ContactPrefs{
			Channels:     []store.Channel{store.ChannelSlack, store.ChannelPhone, store.ChannelEmail},
			Times:        []string{"morning", "14:00-16:30"},
			Frequency:    store.Weekly,
			DoNotContact: true,
			DoNotReason:  "on harvest until October",
		},
		Trading: store.TradingPrefs{
			Commodities: []string{"corn", "soybeans", "wti"},
			Instruments: []store.InstrumentKind{store.Futures, store.Options},
			OrderTypes:  []store.OrderType{store.Limit, store.StopLimit},
		},
		Risk: store.Risk{
			Tolerance:     7,
			Horizon:       store.MediumTerm,
			PositionLimit: num(250),
			LossLimit:     num(125000.55),
			AssessedOn:    store.Date{Year: 2025, Month: time.January, Day: 10},
			ReviewOn:      store.Date{Year: 2026, Month: time.January, Day: 10},
		},
		KYC: store.KYC{
			Occupation:           "Farm owner",
			AnnualIncome:         num(350000),
			NetWorth:             num(4.2e6),
			DateOfBirth:          store.Date{Year: 1970, Month: time.May, Day: 17},
			InvestmentExperience: "equities & bonds <since 1995> \\ \u00a0📈",
			FuturesExperience:    "hedges corn and soybeans, 10 years",
		},
		Goals: []store.Goal{
			{Term: store.ShortGoal, Description: "Hedge 60% of the 2026 corn crop", Commodity: "corn", Target: num(5000), Deadline: store.Date{Year: 2026, Month: time.June, Day: 30}, Progress: 42.5},
			{Term: store.LongGoal, Description: "Diversify into energy"},
		},
		Diversification: "Keep energy below 20% of margin;\n\"no metals\" until 2027.",
		Tags:            []string{"high-value", "frequent-trader"},
	}
}

// SimpleClient returns a valid client with a name, one email and one phone,
// all derived from i (0-9999), for tests that need many clients.
func SimpleClient(i int) *store.Client {
	return &store.Client{
		Handle: fmt.Sprintf("client-%04d", i),
		Name:   fmt.Sprintf("Client %d", i),
		Emails: []store.Email{{Kind: store.Work, Address: fmt.Sprintf("client%d@example.com", i)}},
		Phones: []store.Phone{{Kind: store.Work, Number: fmt.Sprintf("+1212200%04d", i)}},
	}
}

func testCreateAndLookUp(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := FullClient("acme-grain", 1)
	// As a broker would type them: the store normalises.
	c.Handle = " Acme-Grain "
	c.Emails[0].Address = "Jane Doe <Jane.Doe1@ACME-Grain.example>"
	c.Phones[0].Number = "(312) 555-0001"
	c.Trading.Commodities = []string{"CBOT:ZC", "soybeans", "CL"}
	c.Accounts = []string{" acc-0001 ", "ACC-0001-H", "Acc-0001"}
	start := time.Now()
	if err := s.CreateClient(ctx, c, "U0CREATOR"); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	end := time.Now()

	if c.ID == uuid.Nil {
		t.Error("CreateClient left the ID unset")
	}
	if c.Handle != "acme-grain" || c.Emails[0].Address != "jane.doe1@acme-grain.example" || c.Phones[0].Number != "+13125550001" {
		t.Errorf("CreateClient did not normalise: handle %q, email %q, phone %q", c.Handle, c.Emails[0].Address, c.Phones[0].Number)
	}
	if got := strings.Join(c.Accounts, ","); got != "ACC-0001,ACC-0001-H" {
		t.Errorf("accounts = %s, want ACC-0001,ACC-0001-H (upper-cased, once each)", got)
	}
	if got := strings.Join(c.Trading.Commodities, ","); got != "corn,soybeans,wti" {
		t.Errorf("commodities = %s, want catalogue keys corn,soybeans,wti", got)
	}
	if c.Version != 1 {
		t.Errorf("Version = %d, want 1", c.Version)
	}
	assertTimeBetween(t, "CreatedAt", c.CreatedAt, start, end)
	assertTimeBetween(t, "StageChangedAt", c.StageChangedAt, start, end)
	if !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("UpdatedAt %v != CreatedAt %v for a new client", c.UpdatedAt, c.CreatedAt)
	}

	lookups := []struct {
		how  string
		find func() (*store.Client, error)
	}{
		{"id", func() (*store.Client, error) { return s.Client(ctx, c.ID) }},
		{"handle", func() (*store.Client, error) { return s.ClientByHandle(ctx, "acme-grain") }},
		{"handle in capitals", func() (*store.Client, error) { return s.ClientByHandle(ctx, "ACME-GRAIN") }},
		{"work email in capitals", func() (*store.Client, error) { return s.ClientByEmail(ctx, "JANE.DOE1@ACME-GRAIN.EXAMPLE") }},
		{"email with display name", func() (*store.Client, error) { return s.ClientByEmail(ctx, `"Doe, Jane" <jane1@Mail.Example>`) }},
		{"E.164 phone", func() (*store.Client, error) { return s.ClientByPhone(ctx, "+13125550001") }},
		{"phone with spaces", func() (*store.Client, error) { return s.ClientByPhone(ctx, "+1 312 555 0001") }},
		{"national phone", func() (*store.Client, error) { return s.ClientByPhone(ctx, "(646) 555-0001") }},
		{"dotted phone", func() (*store.Client, error) { return s.ClientByPhone(ctx, "646.555.0001") }},
		{"foreign phone", func() (*store.Client, error) { return s.ClientByPhone(ctx, "+44 20 7946 0001") }},
		{"account", func() (*store.Client, error) { return s.ClientByAccount(ctx, "ACC-0001-H") }},
		{"account in lower case", func() (*store.Client, error) { return s.ClientByAccount(ctx, " acc-0001") }},
		{"resolved from what a broker typed", func() (*store.Client, error) { return store.ResolveClient(ctx, s, "312-555-0001") }},
		{"account resolved from what a broker typed", func() (*store.Client, error) { return store.ResolveClient(ctx, s, "acc-0001-h") }},
	}
	for _, l := range lookups {
		got, err := l.find()
		if err != nil {
			t.Errorf("by %s: %v", l.how, err)
			continue
		}
		assertSameClient(t, "by "+l.how, c, got)
	}

	trail, err := s.AuditTrail(ctx, c.ID, 0)
	if err != nil {
		t.Fatalf("AuditTrail: %v", err)
	}
	if len(trail) != 1 {
		t.Fatalf("audit trail of a new client has %d entries, want 1 (its creation): %v", len(trail), trail)
	}
	want := store.AuditEntry{ClientID: c.ID, Actor: "U0CREATOR", Change: store.Change{Field: "handle", Old: "", New: "acme-grain"}}
	if got := trail[0]; got.ClientID != want.ClientID || got.Actor != want.Actor || got.Change != want.Change {
		t.Errorf("creation audit entry = %+v, want %+v", got, want)
	}
	assertTimeBetween(t, "creation audit entry", trail[0].At, start, end)
}

func testFullProfileRoundTrips(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := FullClient("full", 2)
	want := FullClient("full", 2) // what was asked for, untouched by CreateClient
	mustCreate(t, s, c)
	got, err := s.Client(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSameClient(t, "read back", c, got)
	// Compare section by section with the original too, so that a store
	// that loses a section both on write and in what CreateClient hands
	// back is still caught.
	sections := []struct {
		name      string
		got, want any
	}{
		{"identity", []any{got.Name, got.Company, got.Kind, got.Accounts, got.Broker, got.Team, got.Onboarded, got.Stage},
			[]any{want.Name, want.Company, want.Kind, want.Accounts, want.Broker, want.Team, want.Onboarded, want.Stage}},
		{"phones", got.Phones, want.Phones},
		{"emails", got.Emails, want.Emails},
		{"addresses", got.Addresses, want.Addresses},
		{"time zone", got.TimeZone, want.TimeZone},
		{"contact preferences", got.Contact, want.Contact},
		{"trading preferences", got.Trading, want.Trading},
		{"risk", got.Risk, want.Risk},
		{"KYC", got.KYC, want.KYC},
		{"goals", got.Goals, want.Goals},
		{"diversification", got.Diversification, want.Diversification},
		{"tags", got.Tags, want.Tags},
	}
	for _, sec := range sections {
		if !reflect.DeepEqual(sec.got, sec.want) {
			t.Errorf("%s did not round-trip:\n got %s\nwant %s", sec.name, show(sec.got), show(sec.want))
		}
	}
}

func testMinimalProfileRoundTrips(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := &store.Client{Handle: "bare", Name: "Bare Minimum"}
	mustCreate(t, s, c)
	got, err := s.ClientByHandle(ctx, "bare")
	if err != nil {
		t.Fatal(err)
	}
	assertSameClient(t, "read back", c, got)
	if got.Kind != store.Entity || got.Stage != store.Prospect {
		t.Errorf("defaults: kind %q stage %q, want entity and prospect", got.Kind, got.Stage)
	}
	// Unset optional numbers and dates stay unset rather than becoming zero.
	if got.Risk.PositionLimit != nil || got.Risk.LossLimit != nil || got.KYC.AnnualIncome != nil || got.KYC.NetWorth != nil {
		t.Errorf("unset limits or KYC numbers came back set: %+v %+v", got.Risk, got.KYC)
	}
	if !got.Onboarded.IsZero() || !got.Risk.ReviewOn.IsZero() || !got.KYC.DateOfBirth.IsZero() {
		t.Errorf("unset dates came back set: %v %v %v", got.Onboarded, got.Risk.ReviewOn, got.KYC.DateOfBirth)
	}
}

func testCreateConflicts(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	first := FullClient("acme-grain", 3)
	mustCreate(t, s, first)

	tests := []struct {
		name     string
		edit     func(c *store.Client)
		field    string
		mentions []string
	}{
		{"handle in other case", func(c *store.Client) { c.Handle = "ACME-Grain" },
			"handle", []string{"acme-grain"}},
		{"email as another kind", func(c *store.Client) {
			c.Emails = append(c.Emails, store.Email{Kind: store.Personal, Address: "JANE.DOE3@acme-grain.example"})
		}, "email.personal", []string{"jane.doe3@acme-grain.example"}},
		{"phone written differently", func(c *store.Client) {
			c.Phones = append(c.Phones, store.Phone{Kind: store.Mobile, Number: "312-555-0003"})
		}, "phone.mobile", []string{"+13125550003"}},
		{"account in lower case", func(c *store.Client) { c.Accounts = []string{"ACC-9", "acc-0003-h"} },
			"accounts", []string{"ACC-0003-H"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := SimpleClient(1)
			c.Handle = "newcomer"
			tt.edit(c)
			err := s.CreateClient(ctx, c, "U0CREATOR")
			assertError(t, err, store.ECONFLICT, tt.field, tt.mentions...)
			assertHolder(t, err, first, tt.mentions[0])
			assertNoClient(t, s, "newcomer")
			// None of the newcomer's other details were kept.
			if _, err := s.ClientByEmail(ctx, "client1@example.com"); store.ErrorCode(err) != store.ENOTFOUND {
				t.Errorf("the rejected client's own email was stored: %v", err)
			}
			if _, err := s.ClientByPhone(ctx, "+12122000001"); store.ErrorCode(err) != store.ENOTFOUND {
				t.Errorf("the rejected client's own phone was stored: %v", err)
			}
			if _, err := s.ClientByAccount(ctx, "ACC-9"); store.ErrorCode(err) != store.ENOTFOUND {
				t.Errorf("the rejected client's own account was stored: %v", err)
			}
			got, err := s.Client(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			assertSameClient(t, "the existing client", first, got)
		})
	}
}

func testCreateInvalid(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	tests := []struct {
		name  string
		edit  func(c *store.Client)
		field string
		value string
	}{
		{"phone", func(c *store.Client) { c.Phones[1].Number = "555-CALL" }, "phone.mobile", "555-CALL"},
		{"email", func(c *store.Client) { c.Emails[1].Address = "jane at home" }, "email.personal", "jane at home"},
		{"time zone", func(c *store.Client) { c.TimeZone = "Mars/Olympus_Mons" }, "timezone", "Mars/Olympus_Mons"},
		{"risk", func(c *store.Client) { c.Risk.Tolerance = 11 }, "risk", "11"},
		{"stage", func(c *store.Client) { c.Stage = "zombie" }, "stage", "zombie"},
		{"commodity", func(c *store.Client) { c.Trading.Commodities = []string{"corn", "unobtainium"} }, "commodities", "unobtainium"},
		{"handle", func(c *store.Client) { c.Handle = "-bad handle" }, "handle", "-bad handle"},
		{"account", func(c *store.Client) { c.Accounts = []string{"ACC 7"} }, "accounts", "ACC 7"},
		{"name", func(c *store.Client) { c.Name = "  " }, "name", ""},
		{"loss limit", func(c *store.Client) { v := -5.0; c.Risk.LossLimit = &v }, "limit.loss", "-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := FullClient("invalid", 4)
			tt.edit(c)
			err := s.CreateClient(ctx, c, "U0CREATOR")
			var mentions []string
			if tt.value != "" {
				mentions = append(mentions, tt.value)
			}
			assertError(t, err, store.EINVALID, tt.field, mentions...)
			assertNoClient(t, s, "invalid")
			if _, err := s.ClientByEmail(ctx, "jane.doe4@acme-grain.example"); store.ErrorCode(err) != store.ENOTFOUND {
				t.Errorf("the invalid client's work email was stored: %v", err)
			}
		})
	}
}

func testNotFound(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	mustCreate(t, s, SimpleClient(1))
	missing := uuid.New()
	lookups := map[string]func() (*store.Client, error){
		"id":                func() (*store.Client, error) { return s.Client(ctx, missing) },
		"handle":            func() (*store.Client, error) { return s.ClientByHandle(ctx, "nobody") },
		"email":             func() (*store.Client, error) { return s.ClientByEmail(ctx, "nobody@example.com") },
		"malformed email":   func() (*store.Client, error) { return s.ClientByEmail(ctx, "not an email@") },
		"phone":             func() (*store.Client, error) { return s.ClientByPhone(ctx, "+1 212 200 9999") },
		"malformed phone":   func() (*store.Client, error) { return s.ClientByPhone(ctx, "call me") },
		"account":           func() (*store.Client, error) { return s.ClientByAccount(ctx, "ACC-404") },
		"malformed account": func() (*store.Client, error) { return s.ClientByAccount(ctx, "no such; account") },
		"resolved":          func() (*store.Client, error) { return store.ResolveClient(ctx, s, "ACC-404") },
		"update": func() (*store.Client, error) {
			c, _, err := s.UpdateClient(ctx, missing, "U0BROKER", func(*store.Client) error {
				t.Error("UpdateClient called change for a client that does not exist")
				return nil
			})
			return c, err
		},
		"tag": func() (*store.Client, error) {
			c, _, err := store.TagClient(ctx, s, missing, "U0BROKER", []string{"vip"}, nil)
			return c, err
		},
	}
	for how, find := range lookups {
		c, err := find()
		if store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("by %s: got %v, %v; want ENOTFOUND", how, c, err)
		}
	}
}

func mustCreate(t *testing.T, s store.ClientStore, c *store.Client) {
	t.Helper()
	if err := s.CreateClient(t.Context(), c, "U0CREATOR"); err != nil {
		t.Fatalf("CreateClient(%s): %v", c.Handle, err)
	}
}

// assertError checks an error's code and field, and that what it says to a
// broker mentions each of mentions.
func assertError(t *testing.T, err error, code store.Code, field string, mentions ...string) {
	t.Helper()
	if store.ErrorCode(err) != code {
		t.Fatalf("error = %v (%s), want %s", err, store.ErrorCode(err), code)
	}
	var e *store.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *store.Error", err)
	}
	if e.Field != field {
		t.Errorf("error %q names field %q, want %q", err, e.Field, field)
	}
	msg := store.ErrorMessage(err)
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Errorf("error %q does not mention %q", msg, m)
		}
	}
}

// assertHolder checks that a conflict carries the client holding the value
// and that its message, which brokers of any desk may read, does not name
// it (unless the value is its handle).
func assertHolder(t *testing.T, err error, holder *store.Client, value string) {
	t.Helper()
	h, ok := store.ConflictHolder(err)
	if !ok {
		t.Fatalf("conflict %q does not carry the client holding the value", err)
	}
	if h.ID != holder.ID || h.Handle != holder.Handle || h.Team != holder.Team || h.Value != value {
		t.Errorf("conflict holder %+v, want %s %s %s holding %s", h, holder.ID, holder.Handle, holder.Team, value)
	}
	if msg := strings.ReplaceAll(store.ErrorMessage(err), value, "…"); strings.Contains(msg, holder.Handle) {
		t.Errorf("conflict message %q names the holder %s", store.ErrorMessage(err), holder.Handle)
	}
}

func assertNoClient(t *testing.T, s store.ClientStore, handle string) {
	t.Helper()
	if c, err := s.ClientByHandle(t.Context(), handle); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("client %s: got %v, %v; want ENOTFOUND (nothing stored)", handle, c, err)
	}
}

// assertSameClient checks that got is want, field for field. Empty and nil
// lists count as the same, and times are compared to the millisecond, the
// coarsest precision a backend may keep.
func assertSameClient(t *testing.T, what string, want, got *store.Client) {
	t.Helper()
	w, g := comparable(want), comparable(got)
	if reflect.DeepEqual(w, g) {
		return
	}
	var diffs []string
	for _, ch := range store.Diff(want, got) {
		diffs = append(diffs, ch.String())
	}
	t.Errorf("%s: client differs from what was stored\nfield changes: %v\n got %s\nwant %s", what, diffs, show(g), show(w))
}

func comparable(c *store.Client) store.Client {
	d := *c
	d.Accounts = nilIfEmpty(d.Accounts)
	d.Phones = nilIfEmpty(d.Phones)
	d.Emails = nilIfEmpty(d.Emails)
	d.Addresses = nilIfEmpty(d.Addresses)
	d.Goals = nilIfEmpty(d.Goals)
	d.Tags = nilIfEmpty(d.Tags)
	d.Contact.Channels = nilIfEmpty(d.Contact.Channels)
	d.Contact.Times = nilIfEmpty(d.Contact.Times)
	d.Trading.Commodities = nilIfEmpty(d.Trading.Commodities)
	d.Trading.Instruments = nilIfEmpty(d.Trading.Instruments)
	d.Trading.OrderTypes = nilIfEmpty(d.Trading.OrderTypes)
	d.StageChangedAt = millis(d.StageChangedAt)
	d.CreatedAt = millis(d.CreatedAt)
	d.UpdatedAt = millis(d.UpdatedAt)
	return d
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// show prints a value with pointers followed, for failure messages.
func show(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// assertTimeBetween allows a second either side of the window, for backends
// whose clock is the database server's.
func assertTimeBetween(t *testing.T, what string, got, start, end time.Time) {
	t.Helper()
	if got.Before(start.Add(-time.Second)) || got.After(end.Add(time.Second)) {
		t.Errorf("%s = %v, want between %v and %v", what, got, start, end)
	}
}
