package store

import (
	"sort"
	"strings"
)

// AssetClass groups commodities the way a desk reports on them.
type AssetClass string

// Asset classes of the default catalogue.
const (
	Agriculture AssetClass = "agriculture"
	Livestock   AssetClass = "livestock"
	Energy      AssetClass = "energy"
	Metals      AssetClass = "metals"
	Softs       AssetClass = "softs"
)

// Commodity is one entry of the catalogue. Key is what brokers type
// ("corn", "wti"); Symbol is the exchange's root code, which is only unique
// together with the exchange (CBOT ZS is soybeans, LME ZS is zinc).
type Commodity struct {
	Key      string
	Name     string
	Exchange string
	Symbol   string
	Class    AssetClass
	Group    string
}

var catalogue = []Commodity{
	{"corn", "Corn", "CBOT", "ZC", Agriculture, "grains"},
	{"soybeans", "Soybeans", "CBOT", "ZS", Agriculture, "oilseeds"},
	{"wheat", "Chicago SRW Wheat", "CBOT", "ZW", Agriculture, "grains"},
	{"kc-wheat", "KC HRW Wheat", "CBOT", "KE", Agriculture, "grains"},
	{"soybean-oil", "Soybean Oil", "CBOT", "ZL", Agriculture, "oilseeds"},
	{"soybean-meal", "Soybean Meal", "CBOT", "ZM", Agriculture, "oilseeds"},
	{"oats", "Oats", "CBOT", "ZO", Agriculture, "grains"},
	{"rough-rice", "Rough Rice", "CBOT", "ZR", Agriculture, "grains"},
	{"live-cattle", "Live Cattle", "CME", "LE", Livestock, "livestock"},
	{"feeder-cattle", "Feeder Cattle", "CME", "GF", Livestock, "livestock"},
	{"lean-hogs", "Lean Hogs", "CME", "HE", Livestock, "livestock"},
	{"milk", "Class III Milk", "CME", "DC", Livestock, "dairy"},
	{"wti", "WTI Crude Oil", "NYMEX", "CL", Energy, "crude"},
	{"natgas", "Henry Hub Natural Gas", "NYMEX", "NG", Energy, "gas"},
	{"rbob", "RBOB Gasoline", "NYMEX", "RB", Energy, "products"},
	{"heating-oil", "NY Harbor ULSD", "NYMEX", "HO", Energy, "products"},
	{"brent", "Brent Crude", "ICE Futures Europe", "B", Energy, "crude"},
	{"gasoil", "Low Sulphur Gasoil", "ICE Futures Europe", "G", Energy, "products"},
	{"gold", "Gold", "COMEX", "GC", Metals, "precious"},
	{"silver", "Silver", "COMEX", "SI", Metals, "precious"},
	{"copper", "Copper", "COMEX", "HG", Metals, "base"},
	{"platinum", "Platinum", "NYMEX", "PL", Metals, "precious"},
	{"palladium", "Palladium", "NYMEX", "PA", Metals, "precious"},
	{"lme-aluminium", "Aluminium", "LME", "AH", Metals, "base"},
	{"lme-copper", "Copper", "LME", "CA", Metals, "base"},
	{"lme-zinc", "Zinc", "LME", "ZS", Metals, "base"},
	{"lme-nickel", "Nickel", "LME", "NI", Metals, "base"},
	{"lme-lead", "Lead", "LME", "PB", Metals, "base"},
	{"lme-tin", "Tin", "LME", "SN", Metals, "base"},
	{"coffee", "Coffee \"C\"", "ICE Futures US", "KC", Softs, "softs"},
	{"sugar", "Sugar No. 11", "ICE Futures US", "SB", Softs, "softs"},
	{"cocoa", "Cocoa", "ICE Futures US", "CC", Softs, "softs"},
	{"cotton", "Cotton No. 2", "ICE Futures US", "CT", Softs, "softs"},
	{"orange-juice", "Orange Juice", "ICE Futures US", "OJ", Softs, "softs"},
}

var commodityByKey = func() map[string]Commodity {
	m := make(map[string]Commodity, len(catalogue))
	for _, c := range catalogue {
		m[c.Key] = c
	}
	return m
}()

// Catalogue returns the commodity catalogue in a stable order.
func Catalogue() []Commodity { return append([]Commodity(nil), catalogue...) }

// AssetClasses returns the classes used by the catalogue, sorted.
func AssetClasses() []AssetClass {
	seen := map[AssetClass]bool{}
	var out []AssetClass
	for _, c := range catalogue {
		if !seen[c.Class] {
			seen[c.Class] = true
			out = append(out, c.Class)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// LookupCommodity resolves what a broker typed: a catalogue key ("corn"), an
// exchange-qualified symbol ("CBOT:ZS", "LME:ZS"), or a bare symbol when it
// is unambiguous ("ZC", "CL"). A bare ambiguous symbol is not resolved.
func LookupCommodity(s string) (Commodity, bool) {
	s = strings.TrimSpace(s)
	if c, ok := commodityByKey[strings.ToLower(s)]; ok {
		return c, true
	}
	exchange, symbol, qualified := strings.Cut(strings.ToUpper(s), ":")
	if !qualified {
		symbol, exchange = exchange, ""
	}
	var found []Commodity
	for _, c := range catalogue {
		if c.Symbol != symbol {
			continue
		}
		if exchange != "" && !c.TradesOn(exchange) {
			continue
		}
		found = append(found, c)
	}
	if len(found) != 1 {
		return Commodity{}, false
	}
	return found[0], true
}

// TradesOn reports whether c trades on the exchange named, by its full name
// or its first word ("ICE" for "ICE Futures US"), in any case.
func (c Commodity) TradesOn(exchange string) bool {
	return strings.EqualFold(c.Exchange, exchange) || strings.HasPrefix(strings.ToUpper(c.Exchange), strings.ToUpper(exchange)+" ")
}
