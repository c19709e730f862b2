package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

var now = time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)

func TestParseContract(t *testing.T) {
	tests := []struct {
		code  string
		ref   time.Time
		sym   string
		month time.Month
		year  int
	}{
		{"ZCZ6", now, "ZC", time.December, 2026},
		{"zcz26", now, "ZC", time.December, 2026},
		{" CLF7 ", now, "CL", time.January, 2027},
		{"BZ6", now, "B", time.December, 2026},
		{"GCG5", now, "GC", time.February, 2025},                             // one year back: a late report of an expired contract
		{"GCG4", now, "GC", time.February, 2034},                             // further back is the next decade
		{"ZCH0", time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), "ZC", 3, 2020}, // history import: relative to the event, not today
		{"ZCH99", time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC), "ZC", 3, 1999},
		{"NGK30", now, "NG", time.May, 2030},
	}
	for _, tc := range tests {
		c, err := store.ParseContract(tc.code, tc.ref)
		if err != nil {
			t.Errorf("ParseContract(%q): %v", tc.code, err)
			continue
		}
		if c.Symbol != tc.sym || c.Month != tc.month || c.Year != tc.year {
			t.Errorf("ParseContract(%q) = %s %s %d, want %s %s %d", tc.code, c.Symbol, c.Month, c.Year, tc.sym, tc.month, tc.year)
		}
	}
	for _, bad := range []string{"", "ZC", "ZCZ", "Z6", "ZCA6", "ZCZ266", "Z1Z6", "ABCDEZ6", "ZC-Z6"} {
		if _, err := store.ParseContract(bad, now); store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "contract") {
			t.Errorf("ParseContract(%q) = %v, want EINVALID naming contract", bad, err)
		}
	}
}

func TestResolveInstrument(t *testing.T) {
	cat := store.DefaultCatalogue()
	tests := []struct {
		contract, exchange, commodity string
		want                          string // commodity key, or "error:field"
		label                         string
	}{
		{"ZCZ6", "", "", "corn", "ZCZ6 (Dec 2026 corn)"},
		{"CLF7", "", "", "wti", "CLF7 (Jan 2027 WTI Crude Oil)"},
		{"ZSX6", "", "", "error:exchange", ""}, // CBOT soybeans or LME zinc
		{"ZSX6", "CBOT", "", "soybeans", "ZSX6 (Nov 2026 soybeans)"},
		{"LME:ZSX6", "", "", "lme-zinc", "ZSX6 (Nov 2026 zinc)"},
		{"ZSX6", "", "soybeans", "soybeans", ""},
		{"ZSX6", "LME", "soybeans", "error:exchange", ""},
		{"ZCZ6", "", "wti", "error:commodity", ""},
		{"ZCZ6", "NYMEX", "", "error:exchange", ""},
		{"LME:ZSX6", "CBOT", "", "error:exchange", ""},
		{"", "", "gold", "gold", "gold"},
		{"", "", "", "error:contract", ""},
		// Not in the catalogue: refused, never kept as a trade in nothing.
		{"XXZ6", "", "", "unknown:contract", ""},
		{"ZZZ9", "", "", "unknown:contract", ""},
		{"CBOT:XXZ6", "", "", "unknown:contract", ""},
		{"XXZ6", "", "corn", "unknown:contract", ""},
		{"", "", "unobtainium", "unknown:commodity", ""},
		{"ZCZ6", "", "unobtainium", "unknown:commodity", ""},
		// Valid years only: expired by the event, or not listed yet.
		{"ZCH6", "", "", "error:contract", ""},           // March 2026, before November 2026
		{"ZCZ25", "", "", "error:contract", ""},          // December 2025
		{"ZCZ40", "", "", "error:contract", ""},          // fourteen years ahead
		{"ZCX6", "", "", "corn", "ZCX6 (Nov 2026 corn)"}, // the month of the event
		{"CLZ35", "", "", "wti", ""},
	}
	for _, tc := range tests {
		in, err := cat.ResolveInstrument(tc.contract, tc.exchange, tc.commodity, now)
		name := tc.contract + "/" + tc.exchange + "/" + tc.commodity
		if field, ok := strings.CutPrefix(tc.want, "error:"); ok {
			var se *store.Error
			if err == nil || !errors.As(err, &se) || se.Code != store.EINVALID || se.Field != field {
				t.Errorf("%s: got %+v, %v; want EINVALID on %s", name, in, err, field)
			}
			continue
		}
		if field, ok := strings.CutPrefix(tc.want, "unknown:"); ok {
			var se *store.Error
			if err == nil || !errors.As(err, &se) || se.Code != store.ENOTFOUND || se.Field != field || !strings.Contains(se.Message, "not a "+field+" in the catalogue") {
				t.Errorf("%s: got %+v, %v; want ENOTFOUND on %s saying it is not in the catalogue", name, in, err, field)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if in.Commodity.Key != tc.want {
			t.Errorf("%s: commodity %q, want %q", name, in.Commodity.Key, tc.want)
		}
		if tc.label != "" && in.String() != tc.label {
			t.Errorf("%s: reads %q, want %q", name, in.String(), tc.label)
		}
	}
}

// Contracts resolve in the catalogue they are asked of: one a catalogue
// file adds is found in the loaded catalogue, by its symbol or another
// code, and not in the built-in one; one neither lists is refused.
func TestResolveInstrumentInALoadedCatalogue(t *testing.T) {
	p := filepath.Join(t.TempDir(), "catalogue.json")
	body := `{"commodities": [{"key": "ttf-gas", "name": "Dutch TTF Natural Gas", "exchange": "ICE Endex", "symbol": "TFM", "codes": ["TTF"], "class": "energy", "size": 744, "unit": "MWh", "currency": "EUR", "months": "FGHJKMNQUVXZ"}]}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := store.LoadCatalogue(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"TFMZ6", "TTFZ6", "ICE:TTFZ6"} {
		in, err := cat.ResolveInstrument(code, "", "", now)
		if err != nil || in.Commodity.Key != "ttf-gas" || in.Commodity.Size != 744 {
			t.Errorf("%s: %+v, %v; want ttf-gas", code, in.Commodity, err)
		}
		if _, err := store.DefaultCatalogue().ResolveInstrument(code, "", "", now); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("%s in the built-in catalogue: %v; want ENOTFOUND", code, err)
		}
	}
	if in, err := cat.ResolveInstrument("ZCZ6", "", "", now); err != nil || in.Commodity.Key != "corn" {
		t.Errorf("ZCZ6 after extending: %+v, %v", in, err)
	}
	if _, err := cat.ResolveInstrument("XXZ6", "", "", now); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("XXZ6: %v; want ENOTFOUND", err)
	}
}
