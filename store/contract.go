package store

import (
	"fmt"
	"strings"
	"time"
)

// Contract is a futures contract code taken apart: ZCZ6 is symbol ZC,
// December, 2026.
type Contract struct {
	Code   string // normalised: upper case, no exchange prefix
	Symbol string
	Month  time.Month
	Year   int
}

// Instrument is what an order or market move is about: a contract, a
// catalogue commodity, or both. Either may be zero, never both.
type Instrument struct {
	Contract  Contract
	Commodity Commodity // zero Key when the symbol is not in the catalogue
}

// ParseContract takes a contract code apart. A one-digit year is the first
// year ending in that digit from the year before ref on (a contract is not
// traded long after it expires); a two-digit year is the one nearest ref.
func ParseContract(code string, ref time.Time) (Contract, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	bad := func(why string) (Contract, error) {
		return Contract{}, Invalid("contract", "%q is not a contract code (%s): write symbol, month letter and year, e.g. ZCZ6 or ZCZ26", code, why)
	}
	digits := len(c) - len(strings.TrimRight(c, "0123456789"))
	if digits == 0 || digits > 2 {
		return bad("it must end in a one- or two-digit year")
	}
	yy := 0
	for _, d := range c[len(c)-digits:] {
		yy = yy*10 + int(d-'0')
	}
	rest := c[:len(c)-digits]
	if len(rest) < 2 {
		return bad("no symbol")
	}
	m := strings.IndexByte(MonthCodes, rest[len(rest)-1])
	if m < 0 {
		return bad(fmt.Sprintf("%q is not a month code; they are F G H J K M N Q U V X Z", rest[len(rest)-1:]))
	}
	symbol := rest[:len(rest)-1]
	if len(symbol) > 4 || strings.Trim(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return bad("the symbol must be one to four letters")
	}
	base := ref.UTC().Year()
	year := 0
	if digits == 1 {
		year = base - 1
		for year%10 != yy {
			year++
		}
	} else {
		year = base - base%100 + yy
		switch {
		case year < base-50:
			year += 100
		case year > base+49:
			year -= 100
		}
	}
	return Contract{Code: c, Symbol: symbol, Month: time.Month(m + 1), Year: year}, nil
}

// ResolveInstrument turns what a feed says about an instrument into a
// contract and a commodity of cat. The contract's symbol is looked up with
// the exchange when given ("ZS" needs one); the commodity, when given too,
// must agree with it. An exchange may also prefix the contract ("LME:ZSZ6").
// A contract or commodity that is not in the catalogue is refused with
// ENOTFOUND (the sender wrote something well formed that we do not list:
// most likely a typo, and recording it as a fill would put a trade on a
// client's statistics that no report can name). A contract that had expired
// by ref, or lies further ahead than exchanges list, is EINVALID. Errors
// name the field.
func (cat *Catalogue) ResolveInstrument(contract, exchange, commodity string, ref time.Time) (Instrument, error) {
	var in Instrument
	raw := strings.TrimSpace(contract)
	contract, exchange, commodity = raw, strings.TrimSpace(exchange), strings.TrimSpace(commodity)
	if ex, code, ok := strings.Cut(contract, ":"); ok {
		if exchange != "" && !strings.EqualFold(ex, exchange) {
			return in, Invalid("exchange", "%q disagrees with the contract's prefix %q", exchange, ex)
		}
		exchange, contract = strings.TrimSpace(ex), code
	}
	var named Commodity
	if commodity != "" {
		c, ok := cat.Lookup(commodity)
		if !ok {
			return in, notInCatalogue("commodity", "%q is not a commodity in the catalogue: use a key such as corn or wti, or leave it out", commodity)
		}
		named = c
	}
	if contract == "" {
		if commodity == "" {
			return in, Invalid("contract", "required: a contract code such as ZCZ6 (or a commodity)")
		}
		in.Commodity = named
		return in, nil
	}
	k, err := ParseContract(contract, ref)
	if err != nil {
		return in, err
	}
	in.Contract = k
	// One symbol may mean different commodities on different exchanges
	// (CBOT ZS soybeans, LME ZS zinc).
	listed := cat.BySymbol(k.Symbol)
	if len(listed) == 0 {
		return in, notInCatalogue("contract", "%q is not a contract in the catalogue: no commodity we list has the symbol %s", raw, k.Symbol)
	}
	if err := k.listedAt(raw, ref); err != nil {
		return in, err
	}
	var candidates []Commodity
	for _, c := range listed {
		if exchange == "" || c.TradesOn(exchange) {
			candidates = append(candidates, c)
		}
	}
	switch {
	case named.Key != "":
		for _, c := range listed {
			if c.Key != named.Key {
				continue
			}
			if exchange != "" && !c.TradesOn(exchange) {
				return in, Invalid("exchange", "%q disagrees with commodity %q, which trades on %s", exchange, commodity, c.Exchange)
			}
			in.Commodity = c
			return in, nil
		}
		return in, Invalid("commodity", "%q does not match contract %s (%s)", commodity, k.Code, describe(listed))
	case len(candidates) == 1:
		in.Commodity = candidates[0]
	case len(candidates) > 1:
		return in, Invalid("exchange", "required: symbol %s is %s", k.Symbol, describe(candidates))
	default:
		return in, Invalid("exchange", "%q does not list %s; it is %s", exchange, k.Symbol, describe(listed))
	}
	return in, nil
}

// maxListedYears is how far ahead exchanges list contracts (crude oil and
// natural gas, the longest, about nine years).
const maxListedYears = 10

// listedAt checks that the contract could be traded at ref: its delivery
// month has not passed, and it is not further ahead than any exchange lists.
func (k Contract) listedAt(raw string, ref time.Time) error {
	if ref.IsZero() {
		return nil
	}
	ref = ref.UTC()
	month := func(y int, m time.Month) int { return y*12 + int(m) - 1 }
	at := k.Month.String()[:3] + " " + fmt.Sprint(k.Year)
	switch {
	case month(k.Year, k.Month) < month(ref.Year(), ref.Month()):
		return Invalid("contract", "%q is the %s contract, which had expired by %s", raw, at, ref.Format("2006-01-02"))
	case k.Year > ref.Year()+maxListedYears:
		return Invalid("contract", "%q is the %s contract, further ahead than any exchange lists", raw, at)
	}
	return nil
}

// notInCatalogue is the error about a well-formed value we do not list.
func notInCatalogue(field, format string, a ...any) error {
	return &Error{Code: ENOTFOUND, Field: field, Message: fmt.Sprintf(format, a...)}
}

func describe(cs []Commodity) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Exchange + " " + c.Name
	}
	return strings.Join(parts, " or ")
}

// Label names the delivery month and commodity the way brokers say it:
// "Dec 2026 corn".
func (in Instrument) Label() string {
	name := in.Commodity.Name
	if name != "" && !strings.Contains(name, " ") {
		name = strings.ToLower(name) // "corn", but "WTI Crude Oil" keeps its capitals
	}
	if in.Contract.Code == "" {
		return name
	}
	label := in.Contract.Month.String()[:3] + " " + fmt.Sprint(in.Contract.Year)
	if name != "" {
		label += " " + name
	}
	return label
}

// String is the instrument in a summary: "ZCZ6 (Dec 2026 corn)", or the
// commodity alone when no contract was given.
func (in Instrument) String() string {
	if in.Contract.Code == "" {
		return in.Label()
	}
	return in.Contract.Code + " (" + in.Label() + ")"
}
