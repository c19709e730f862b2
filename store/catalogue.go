package store

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// AssetClass groups commodities the way a desk reports on them.
type AssetClass string

// Asset classes of the default catalogue. A catalogue file may add others.
const (
	Agriculture AssetClass = "agriculture"
	Livestock   AssetClass = "livestock"
	Energy      AssetClass = "energy"
	Metals      AssetClass = "metals"
	Softs       AssetClass = "softs"
)

// Commodity is one entry of the catalogue. Key is what brokers type
// ("corn", "wti"); Symbol is the exchange's root code, which is only unique
// together with the exchange (CBOT ZS is soybeans, LME ZS is zinc). Codes
// are other root codes the same contract is known by (ICE's BRN for B).
//
// Prices are quoted in Currency per Unit and a contract is Size units, so an
// execution's notional is quantity × price × Size in Currency. Months are
// the listed delivery month letters ("HKNUZ").
type Commodity struct {
	Key      string     `json:"key"`
	Name     string     `json:"name"`
	Exchange string     `json:"exchange"`
	Symbol   string     `json:"symbol"`
	Codes    []string   `json:"codes,omitempty"`
	Class    AssetClass `json:"class"`
	Group    string     `json:"group,omitempty"`
	Size     float64    `json:"size"`
	Unit     string     `json:"unit"`
	Currency string     `json:"currency"`
	Months   string     `json:"months"`

	// Calendar names the exchange calendar the date rules count business
	// days on (the catalogue file's "holidays"); FirstNotice and
	// LastTrading are the contract's date rules (see DateRule). Both are
	// optional: a commodity without them has no position dates.
	Calendar    string    `json:"calendar,omitempty"`
	FirstNotice *DateRule `json:"first_notice,omitempty"`
	LastTrading *DateRule `json:"last_trading,omitempty"`
}

// Symbols returns the commodity's root codes, Symbol first.
func (c Commodity) Symbols() []string { return append([]string{c.Symbol}, c.Codes...) }

// Notional is the value of quantity contracts at price, in c.Currency.
func (c Commodity) Notional(quantity, price float64) float64 { return quantity * price * c.Size }

// defaultCatalogue is the catalogue BrokerSync ships with: the main CME
// Group, ICE and LME contracts.
//
//go:embed catalogue.json
var defaultCatalogue []byte

// catalogueFile is the form of catalogue.json and of BROKERSYNC_CATALOGUE.
type catalogueFile struct {
	Comment     string      `json:"_comment,omitempty"`
	Commodities []Commodity `json:"commodities"`
	// Holidays are the exchange calendars' closures (see Calendar).
	Holidays map[string][]string `json:"holidays,omitempty"`
}

// Catalogue is the commodity catalogue and the exchange calendars its
// date rules count on. It is loaded once at start-up (DefaultCatalogue or
// LoadCatalogue) and handed to whatever needs it; it never changes after.
type Catalogue struct {
	list      []Commodity
	byKey     map[string]Commodity
	calendars map[string]*ExchangeCalendar
}

// DefaultCatalogue returns the built-in catalogue. It is read once, on the
// first call, and shared: a Catalogue never changes.
func DefaultCatalogue() *Catalogue { return builtIn() }

var builtIn = sync.OnceValue(func() *Catalogue {
	const name = "the built-in catalogue"
	cals, err := parseCalendars(defaultCatalogue, name)
	if err != nil {
		panic(err) // catalogue.json is checked by the tests
	}
	cs, err := parseCatalogue(defaultCatalogue, name, cals)
	if err != nil {
		panic(err)
	}
	cat, err := newCatalogue(cs, cals)
	if err != nil {
		panic(err)
	}
	return cat
})

// LoadCatalogue reads a catalogue file (the form of the built-in one: an
// object whose "commodities" lists entries) and merges it over the built-in
// catalogue: an entry whose key is already listed replaces it, any other is
// added. Its date rules count on the built-in exchange calendars. EINVALID
// names the bad entry and field.
func LoadCatalogue(path string) (*Catalogue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Invalid("catalogue", "cannot read %s: %v", path, err)
	}
	base := DefaultCatalogue()
	extra, err := parseCatalogue(data, path, base.calendars)
	if err != nil {
		return nil, err
	}
	merged := base.Commodities()
	at := map[string]int{}
	for i, c := range merged {
		at[c.Key] = i
	}
	for _, c := range extra {
		if i, ok := at[c.Key]; ok {
			merged[i] = c
			continue
		}
		at[c.Key] = len(merged)
		merged = append(merged, c)
	}
	return newCatalogue(merged, base.calendars)
}

func parseCatalogue(data []byte, name string, cals map[string]*ExchangeCalendar) ([]Commodity, error) {
	var f catalogueFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, Invalid("catalogue", "%s is not a catalogue: %v", name, err)
	}
	if len(f.Commodities) == 0 {
		return nil, Invalid("catalogue", "%s lists no commodities", name)
	}
	for i := range f.Commodities {
		c := &f.Commodities[i]
		c.Key = strings.ToLower(strings.TrimSpace(c.Key))
		c.Symbol = strings.ToUpper(strings.TrimSpace(c.Symbol))
		for j := range c.Codes {
			c.Codes[j] = strings.ToUpper(strings.TrimSpace(c.Codes[j]))
		}
		c.Class = AssetClass(strings.ToLower(strings.TrimSpace(string(c.Class))))
		c.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
		c.Months = strings.ToUpper(strings.TrimSpace(c.Months))
		if err := c.check(cals); err != nil {
			return nil, Invalid("catalogue", "%s, entry %d (%s): %v", name, i+1, c.Key, err)
		}
	}
	return f.Commodities, nil
}

var (
	keyPattern    = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	symbolPattern = regexp.MustCompile(`^[A-Z]{1,4}$`)
	classPattern  = regexp.MustCompile(`^[a-z][a-z-]*$`)
)

// MonthCodes are the futures delivery month letters, January to December.
const MonthCodes = "FGHJKMNQUVXZ"

func (c Commodity) check(cals map[string]*ExchangeCalendar) error {
	switch {
	case !keyPattern.MatchString(c.Key) || len(c.Key) > 40:
		return fmt.Errorf("key %q: lower-case letters, digits and dashes, e.g. corn or lme-zinc", c.Key)
	case strings.TrimSpace(c.Name) == "":
		return fmt.Errorf("name: required")
	case strings.TrimSpace(c.Exchange) == "":
		return fmt.Errorf("exchange: required")
	case !symbolPattern.MatchString(c.Symbol):
		return fmt.Errorf("symbol %q: one to four letters", c.Symbol)
	case !classPattern.MatchString(string(c.Class)):
		return fmt.Errorf("class %q: a lower-case word such as energy", c.Class)
	case !(c.Size > 0) || math.IsInf(c.Size, 0):
		return fmt.Errorf("size %v: a positive number of units per contract", c.Size)
	case strings.TrimSpace(c.Unit) == "":
		return fmt.Errorf("unit: required, e.g. barrel")
	case len(c.Currency) != 3 || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		return fmt.Errorf("currency %q: a three-letter ISO 4217 code such as USD", c.Currency)
	case c.Months == "":
		return fmt.Errorf("months: required, the listed month letters such as HKNUZ")
	}
	if err := c.checkDateRules(cals); err != nil {
		return err
	}
	for _, code := range c.Codes {
		if !symbolPattern.MatchString(code) {
			return fmt.Errorf("code %q: one to four letters", code)
		}
	}
	last := -1
	for _, m := range c.Months {
		i := strings.IndexRune(MonthCodes, m)
		if i < 0 {
			return fmt.Errorf("months %q: %q is not a month letter (F G H J K M N Q U V X Z)", c.Months, m)
		}
		if i <= last {
			return fmt.Errorf("months %q: list each month once, January first", c.Months)
		}
		last = i
	}
	return nil
}

// newCatalogue checks that keys are unique and that no exchange lists one
// code twice.
func newCatalogue(cs []Commodity, cals map[string]*ExchangeCalendar) (*Catalogue, error) {
	cat := &Catalogue{list: slices.Clone(cs), byKey: make(map[string]Commodity, len(cs)), calendars: cals}
	codes := map[string]string{}
	for _, c := range cs {
		if err := c.check(cals); err != nil {
			return nil, Invalid("catalogue", "%s: %v", c.Key, err)
		}
		if _, dup := cat.byKey[c.Key]; dup {
			return nil, Invalid("catalogue", "key %q is listed twice", c.Key)
		}
		cat.byKey[c.Key] = c
		for _, s := range c.Symbols() {
			k := strings.ToUpper(c.Exchange) + ":" + s
			if other, dup := codes[k]; dup {
				return nil, Invalid("catalogue", "%s %s is both %s and %s", c.Exchange, s, other, c.Key)
			}
			codes[k] = c.Key
		}
	}
	return cat, nil
}

// Commodities returns the catalogue's entries in a stable order.
func (cat *Catalogue) Commodities() []Commodity { return slices.Clone(cat.list) }

// AssetClasses returns the classes used by the catalogue, sorted.
func (cat *Catalogue) AssetClasses() []AssetClass {
	seen := map[AssetClass]bool{}
	var out []AssetClass
	for _, c := range cat.list {
		if !seen[c.Class] {
			seen[c.Class] = true
			out = append(out, c.Class)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// BySymbol returns the entries with the root code symbol (as their Symbol
// or one of their Codes), on any exchange.
func (cat *Catalogue) BySymbol(symbol string) []Commodity {
	var out []Commodity
	for _, c := range cat.list {
		if slices.Contains(c.Symbols(), symbol) {
			out = append(out, c)
		}
	}
	return out
}

// ByKey returns the entry with the catalogue key k.
func (cat *Catalogue) ByKey(k string) (Commodity, bool) {
	c, ok := cat.byKey[k]
	return c, ok
}

// Lookup resolves what a broker typed: a catalogue key ("corn"), an
// exchange-qualified symbol ("CBOT:ZS", "LME:ZS"), or a bare symbol when it
// is unambiguous ("ZC", "CL"). A bare ambiguous symbol is not resolved.
func (cat *Catalogue) Lookup(s string) (Commodity, bool) {
	s = strings.TrimSpace(s)
	if c, ok := cat.byKey[strings.ToLower(s)]; ok {
		return c, true
	}
	exchange, symbol, qualified := strings.Cut(strings.ToUpper(s), ":")
	if !qualified {
		symbol, exchange = exchange, ""
	}
	var found []Commodity
	for _, c := range cat.BySymbol(symbol) {
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
