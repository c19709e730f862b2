package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/store"
)

// The built-in catalogue lists the main CME Group, ICE and LME contracts
// with what notional and month checks need.
func TestDefaultCatalogueHasTheMainContracts(t *testing.T) {
	want := map[string]struct {
		exchange, symbol string
		class            store.AssetClass
		size             float64
		currency, months string
	}{
		"corn":          {"CBOT", "ZC", store.Agriculture, 5000, "USD", "HKNUZ"},
		"wti":           {"NYMEX", "CL", store.Energy, 1000, "USD", "FGHJKMNQUVXZ"},
		"brent":         {"ICE Futures Europe", "B", store.Energy, 1000, "USD", "FGHJKMNQUVXZ"},
		"gold":          {"COMEX", "GC", store.Metals, 100, "USD", "GJMQVZ"},
		"lme-copper":    {"LME", "CA", store.Metals, 25, "USD", "FGHJKMNQUVXZ"},
		"live-cattle":   {"CME", "LE", store.Livestock, 40000, "USD", "GJMQVZ"},
		"coffee":        {"ICE Futures US", "KC", store.Softs, 37500, "USD", "HKNUZ"},
		"london-cocoa":  {"ICE Futures Europe", "C", store.Softs, 10, "GBP", "HKNUZ"},
		"natgas":        {"NYMEX", "NG", store.Energy, 10000, "USD", "FGHJKMNQUVXZ"},
		"lme-aluminium": {"LME", "AH", store.Metals, 25, "USD", "FGHJKMNQUVXZ"},
	}
	cat := store.DefaultCatalogue()
	for key, w := range want {
		c, ok := cat.ByKey(key)
		if !ok {
			t.Errorf("%s: not in the catalogue", key)
			continue
		}
		if c.Exchange != w.exchange || c.Symbol != w.symbol || c.Class != w.class || c.Size != w.size || c.Currency != w.currency || c.Months != w.months || c.Unit == "" {
			t.Errorf("%s: %+v, want %+v", key, c, w)
		}
	}
	if n := len(cat.Commodities()); n < 35 {
		t.Errorf("%d commodities, want the main contracts (35 or more)", n)
	}
	if c, ok := cat.Lookup("ICE:BRN"); !ok || c.Key != "brent" {
		t.Errorf("ICE:BRN = %+v, %v; want brent by its other code", c, ok)
	}
	if got := store.Commodity.Notional(mustCommodity(t, "wti"), 2, 70.5); got != 141000 {
		t.Errorf("2 WTI at 70.50 = %v, want 141000", got)
	}
}

func mustCommodity(t *testing.T, key string) store.Commodity {
	t.Helper()
	c, ok := store.DefaultCatalogue().ByKey(key)
	if !ok {
		t.Fatalf("%s not in the catalogue", key)
	}
	return c
}

// A catalogue file replaces entries by key and adds new ones; every lookup
// on the loaded catalogue sees them, the built-in one is left as it was; a
// bad file names the entry and field.
func TestCatalogueFileOverridesAndExtends(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, "c.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file(`{"commodities": [
		{"key": "corn", "name": "Corn", "exchange": "CBOT", "symbol": "ZC", "class": "agriculture", "size": 5000, "unit": "bushel", "currency": "usd", "months": "HKNUZ", "group": "grains", "codes": ["C"]},
		{"key": "ttf-gas", "name": "Dutch TTF Natural Gas", "exchange": "ICE Endex", "symbol": "TFM", "class": "energy", "size": 744, "unit": "MWh", "currency": "EUR", "months": "FGHJKMNQUVXZ"},
		{"key": "freight-c5", "name": "Capesize C5", "exchange": "SGX", "symbol": "FCF", "class": "freight", "size": 1000, "unit": "tonne", "currency": "USD", "months": "FGHJKMNQUVXZ"}
	]}`)
	cat, err := store.LoadCatalogue(good)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cat.Commodities()); n != len(store.DefaultCatalogue().Commodities())+2 {
		t.Errorf("%d entries, want the built-in ones and 2 more", n)
	}
	if _, ok := store.DefaultCatalogue().Lookup("ttf-gas"); ok {
		t.Error("LoadCatalogue changed the built-in catalogue")
	}
	if c, ok := cat.Lookup("ICE:TFM"); !ok || c.Key != "ttf-gas" || c.Currency != "EUR" {
		t.Errorf("ICE:TFM = %+v, %v", c, ok)
	}
	if c, ok := cat.Lookup("CBOT:C"); !ok || c.Key != "corn" {
		t.Errorf("CBOT:C = %+v, %v; want corn by its added code", c, ok)
	}
	if classes := cat.AssetClasses(); !slices.Contains(classes, "freight") {
		t.Errorf("asset classes %v lack the added freight", classes)
	}
	// Profiles validate against it.
	c := &store.Client{Handle: "ttf-co", Name: "TTF Co", Kind: store.Entity, Team: "energy", Broker: "U1", Stage: store.Active}
	c.Trading.Commodities = []string{"ttf-gas"}
	if err := c.Validate(cat); err != nil && strings.Contains(err.Error(), "commodities") {
		t.Errorf("a profile following ttf-gas: %v", err)
	}
	if err := c.Validate(store.DefaultCatalogue()); err == nil || !strings.Contains(err.Error(), "commodities") {
		t.Errorf("a profile following ttf-gas, on the built-in catalogue: %v; want it refused", err)
	}

	bad := []struct{ body, want string }{
		{`{"commodities": [{"key": "x", "name": "X", "exchange": "E", "symbol": "XX", "class": "energy", "size": 0, "unit": "t", "currency": "USD", "months": "Z"}]}`, "size"},
		{`{"commodities": [{"key": "x", "name": "X", "exchange": "E", "symbol": "XX", "class": "energy", "size": 1, "unit": "t", "currency": "USD", "months": "ZA"}]}`, "months"},
		{`{"commodities": [{"key": "x", "name": "X", "exchange": "E", "symbol": "X1", "class": "energy", "size": 1, "unit": "t", "currency": "USD", "months": "Z"}]}`, "symbol"},
		{`{"commodities": [{"key": "X Y", "name": "X", "exchange": "E", "symbol": "XX", "class": "energy", "size": 1, "unit": "t", "currency": "USD", "months": "Z"}]}`, "key"},
		{`{"commodities": [{"key": "x", "name": "X", "exchange": "E", "symbol": "XX", "class": "energy", "size": 1, "unit": "t", "currency": "dollars", "months": "Z"}]}`, "currency"},
		{`{"commodities": [{"key": "zinc2", "name": "Zinc", "exchange": "LME", "symbol": "ZS", "class": "metals", "size": 25, "unit": "t", "currency": "USD", "months": "Z"}]}`, "LME ZS is both"},
		{`{"commodities": [{"key": "x", "sizee": 1}]}`, "unknown field"},
		{`{"commodities": []}`, "no commodities"},
		{`not json`, "not a catalogue"},
	}
	for _, b := range bad {
		_, err := store.LoadCatalogue(file(b.body))
		if store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v; want EINVALID about %s", b.body, err, b.want)
		}
	}
	if _, err := store.LoadCatalogue(filepath.Join(dir, "missing.json")); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("missing file: %v", err)
	}
}
