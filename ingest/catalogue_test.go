package ingest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Orders are validated against the installed catalogue: a contract a
// catalogue file adds is accepted, by its symbol or another code, and one
// it does not list is still refused.
func TestOrdersFollowTheInstalledCatalogue(t *testing.T) {
	defer func() {
		if err := store.SetCatalogue(store.DefaultCatalogue()); err != nil {
			t.Fatal(err)
		}
	}()
	if _, err := ingest.ResolveInstrument("TFMZ6", "", "", now); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("TFMZ6 before the file: %v; want ENOTFOUND", err)
	}
	p := filepath.Join(t.TempDir(), "catalogue.json")
	body := `{"commodities": [{"key": "ttf-gas", "name": "Dutch TTF Natural Gas", "exchange": "ICE Endex", "symbol": "TFM", "codes": ["TTF"], "class": "energy", "size": 744, "unit": "MWh", "currency": "EUR", "months": "FGHJKMNQUVXZ"}]}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := store.LoadCatalogue(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetCatalogue(cs); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"TFMZ6", "TTFZ6", "ICE:TTFZ6"} {
		in, err := ingest.ResolveInstrument(code, "", "", now)
		if err != nil || in.Commodity.Key != "ttf-gas" || in.Commodity.Size != 744 {
			t.Errorf("%s: %+v, %v; want ttf-gas", code, in.Commodity, err)
		}
	}
	if in, err := ingest.ResolveInstrument("ZCZ6", "", "", now); err != nil || in.Commodity.Key != "corn" {
		t.Errorf("ZCZ6 after extending: %+v, %v", in, err)
	}
	if _, err := ingest.ResolveInstrument("XXZ6", "", "", now); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("XXZ6: %v; want ENOTFOUND", err)
	}
}
