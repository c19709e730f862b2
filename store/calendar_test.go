package store_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

func date(t *testing.T, s string) store.Date {
	t.Helper()
	d, err := store.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContractDatesFromTheCatalogueRules(t *testing.T) {
	tests := []struct {
		key         string
		year        int
		month       time.Month
		fnd, ltd    string
		description string
	}{
		// Corn: FND the last business day of November; LTD the business
		// day before 15 December.
		{"corn", 2026, time.December, "2026-11-30", "2026-12-14", "Dec corn 2026"},
		{"corn", 2027, time.December, "2027-11-30", "2027-12-14", "Dec corn 2027"},
		// 15 March 2026 is a Sunday: the business day before it is Friday 13th.
		{"corn", 2026, time.March, "2026-02-27", "2026-03-13", "Mar corn 2026, 15th on a Sunday"},
		// 15 July 2027 is a Thursday; FND is 30 June.
		{"soybeans", 2027, time.July, "2027-06-30", "2027-07-14", "Jul soybeans"},
		// WTI Jan 2027: the 25th of December 2026 is Christmas, so trading
		// ends 4 business days before it (21 December), not 3.
		{"wti", 2027, time.January, "", "2026-12-21", "CL F27 across Christmas"},
		// WTI Jan 2028: 25 Dec 2027 is a Saturday: 4 business days before
		// it, across the Christmas holiday on Friday 24th: 20 December.
		{"wti", 2028, time.January, "", "2027-12-20", "CL F28, 25th on a Saturday"},
		// WTI Mar 2027: 25 Feb 2027 is a Thursday, a business day: 3 before is 22 Feb.
		{"wti", 2027, time.March, "", "2027-02-22", "CL H27"},
		// Natural gas Dec 2026: 3 business days before 1 December, across
		// Thanksgiving (26 November): 25 November.
		{"natgas", 2026, time.December, "", "2026-11-25", "NG Z26 across Thanksgiving"},
		// Gold Dec 2026: FND 30 November; LTD the third last business day of December.
		{"gold", 2026, time.December, "2026-11-30", "2026-12-29", "GC Z26"},
		// Gold Dec 2028: 30 and 31 December are a weekend, so the last
		// business days are Fri 29, Thu 28, Wed 27: the third last is 27th.
		{"gold", 2028, time.December, "2028-11-30", "2028-12-27", "GC Z28"},
		// Brent Mar 2027: the last business day of January 2027.
		{"brent", 2027, time.March, "", "2027-01-29", "Brent H27"},
		// Heating oil Jan 2027: the last business day of December 2026.
		{"heating-oil", 2027, time.January, "", "2026-12-31", "HO F27"},
	}
	cat := store.DefaultCatalogue()
	for _, tc := range tests {
		c, ok := cat.ByKey(tc.key)
		if !ok {
			t.Fatalf("%s not in the catalogue", tc.key)
		}
		got, ok := cat.ContractDates(c, tc.year, tc.month)
		if !ok {
			t.Fatalf("%s: no date rules", tc.description)
		}
		if got.FirstNotice.String() != tc.fnd || got.LastTrading.String() != tc.ltd {
			t.Errorf("%s: first notice %q, last trading %q; want %q, %q", tc.description, got.FirstNotice, got.LastTrading, tc.fnd, tc.ltd)
		}
	}
	if c, _ := cat.ByKey("lean-hogs"); func() bool { _, ok := cat.ContractDates(c, 2026, time.December); return ok }() {
		t.Error("lean hogs have no rule in the catalogue, yet dates were given")
	}
}

func TestExchangeCalendarBusinessDays(t *testing.T) {
	cat := store.DefaultCatalogue()
	cme, ok := cat.Calendar("cme")
	if !ok {
		t.Fatal("no CME calendar")
	}
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-30", -2, "2026-11-25"}, // back across Thanksgiving
		{"2026-11-25", 1, "2026-11-27"},  // the Friday after is open
		{"2026-12-28", -1, "2026-12-24"}, // back across Christmas and a weekend
		{"2027-01-02", -1, "2026-12-31"}, // from a Saturday
		{"2026-07-02", 1, "2026-07-06"},  // Independence Day observed on Friday 3 July
		{"2026-06-18", 0, "2026-06-18"},
	} {
		if got := cme.AddBusinessDays(date(t, tc.from), tc.n); got.String() != tc.want {
			t.Errorf("%s %+d business days = %s; want %s", tc.from, tc.n, got, tc.want)
		}
	}
	for _, name := range []string{"CME", "ICE-US", "ICE-EU", "LME"} {
		c, ok := cat.Calendar(name)
		if !ok {
			t.Fatalf("no %s calendar", name)
		}
		for y := 2026; y <= 2028; y++ {
			if !c.Covers(store.Date{Year: y, Month: 6, Day: 1}) {
				t.Errorf("%s does not list %d", name, y)
			}
		}
		if c.IsBusinessDay(date(t, "2026-12-25")) {
			t.Errorf("%s open on Christmas Day", name)
		}
	}
	lme, _ := cat.Calendar("LME")
	if lme.IsBusinessDay(date(t, "2026-08-31")) || !cme.IsBusinessDay(date(t, "2026-08-31")) {
		t.Error("the UK summer bank holiday closes the LME, not CME")
	}
}

func TestCatalogueDateRulesAreChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ entry, want string }{
		{`"calendar": "CME", "first_notice": {"month": -1}`, "either last"},
		{`"first_notice": {"month": -1, "last": 1}`, "calendar: required"},
		{`"calendar": "MARS", "last_trading": {"month": 0, "last": 1}`, "not in the catalogue's holidays"},
		{`"calendar": "CME", "last_trading": {"month": 0, "last": 2, "before": 1}`, "before counts"},
	} {
		path := dir + "/cat.json"
		writeFile(t, path, `{"commodities": [{"key": "x-corn", "name": "X", "exchange": "CBOT", "symbol": "XC", "class": "agriculture", "size": 1, "unit": "bushel", "currency": "USD", "months": "Z", `+tc.entry+`}]}`)
		_, err := store.LoadCatalogue(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error saying %q", tc.entry, err, tc.want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
