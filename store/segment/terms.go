package segment

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// value is a term's checked value.
type value struct {
	text string        // tag, stage, horizon, desk, broker, segment name
	keys []string      // catalogue keys (commodity, asset class)
	num  float64       // risk, counts, volume, notional, sentiment
	dur  time.Duration // last.*
	date store.Date    // onboarded
}

type termKind int

const (
	kTag termKind = iota
	kStage
	kHorizon
	kDesk
	kBroker
	kRisk
	kCommodity // commodity:, asset:, prefers:, traded:
	kTrades
	kVolume
	kNotional
	kLast
	kOnboarded
	kSentiment
	kSegment
	kResponsive
	kReplyMedian
)

type termDef struct {
	name    string
	kind    termKind
	ops     string // " : = != " with spaces around each
	example string
	help    string
	window  time.Duration // trades/volume/notional
	which   string        // commodity terms: either, prefers, traded; last.*: contact, inbound, outbound, fill
	parse   func(string) (value, error)
	// parseIn is parse for the commodity terms, whose values are checked
	// against the catalogue.
	parseIn func(*store.Catalogue, string) (value, error)
}

const (
	eqOps  = " : = != "
	cmpOps = " : = != < <= > >= "
	durOps = " < <= > >= "
	day    = 24 * time.Hour
)

var defs []*termDef

func init() {
	add := func(d *termDef) { defs = append(defs, d) }
	add(&termDef{name: "tag", kind: kTag, ops: eqOps, example: "tag:high-value", help: "has the tag", parse: parseTag})
	add(&termDef{name: "stage", kind: kStage, ops: eqOps, example: "stage:dormant", help: "lifecycle stage: prospect, onboarding, active, dormant, closed", parse: parseStage})
	add(&termDef{name: "horizon", kind: kHorizon, ops: eqOps, example: "horizon:long", help: "trading horizon: intraday, short, medium, long", parse: parseHorizon})
	add(&termDef{name: "desk", kind: kDesk, ops: eqOps, example: "desk:energy-desk", help: "the client's desk", parse: parseDesk})
	add(&termDef{name: "broker", kind: kBroker, ops: eqOps, example: "broker:@jane", help: "the assigned broker", parse: parseBroker})
	add(&termDef{name: "risk", kind: kRisk, ops: cmpOps, example: "risk>=7", help: "risk tolerance 1-10; clients not assessed never match", parse: parseRisk})
	for _, c := range []struct{ name, which, help string }{
		{"commodity", "either", "a commodity the client follows or has traded in 365 days"},
		{"asset", "either", "an asset class the client follows or has traded in 365 days"},
		{"prefers", "prefers", "a commodity or asset class among the profile's commodities"},
		{"traded", "traded", "a commodity or asset class filled in the last 365 days"},
	} {
		d := &termDef{name: c.name, kind: kCommodity, ops: eqOps, which: c.which, help: c.help}
		switch c.name {
		case "commodity":
			d.example, d.parseIn = "commodity:corn", parseCommodity
		case "asset":
			d.example, d.parseIn = "asset:energy", parseAsset
		default:
			d.example, d.parseIn = c.name+":corn", parseCommodityOrAsset
		}
		add(d)
	}
	for _, w := range []struct {
		label string
		d     time.Duration
	}{{"30d", 30 * day}, {"90d", 90 * day}, {"365d", 365 * day}} {
		add(&termDef{name: "trades." + w.label, kind: kTrades, ops: cmpOps, window: w.d, example: "trades." + w.label + ">=10", help: "fills in the last " + w.label, parse: parseCount})
		add(&termDef{name: "volume." + w.label, kind: kVolume, ops: cmpOps, window: w.d, example: "volume." + w.label + ">500", help: "contracts filled in the last " + w.label, parse: parseAmount})
		add(&termDef{name: "notional." + w.label, kind: kNotional, ops: cmpOps, window: w.d, example: "notional." + w.label + ">1m", help: "USD notional filled in the last " + w.label + " (k, m, bn suffixes)", parse: parseAmount})
	}
	for _, l := range []struct{ name, which, help string }{
		{"last.contact", "contact", "time since the last real contact either way"},
		{"last.inbound", "inbound", "time since the client last reached the desk"},
		{"last.outbound", "outbound", "time since the desk last reached the client"},
		{"last.fill", "fill", "time since the last fill"},
	} {
		add(&termDef{name: l.name, kind: kLast, ops: durOps, which: l.which, example: l.name + ">30d", help: l.help + ": >30d means none in 30 days (or never), <7d means one within 7 days", parse: parseDuration})
	}
	add(&termDef{name: "onboarded", kind: kOnboarded, ops: cmpOps, example: "onboarded<2025-01-01", help: "onboarding date; clients without one never match", parse: parseDateValue})
	add(&termDef{name: "sentiment", kind: kSentiment, ops: cmpOps, example: "sentiment<0", help: "mean sentiment of the last 30 days, -1 to 1; clients with no scored message never match", parse: parseSentiment})
	add(&termDef{name: "responsive", kind: kResponsive, ops: cmpOps, example: "responsive<0.3", help: "share of recommendations (logged with /log … recommendation naming a commodity) followed by a fill in that commodity within 5 business days, 0 to 1; clients with none decided never match", parse: parseShare})
	add(&termDef{name: "reply.median", kind: kReplyMedian, ops: durOps, example: "reply.median>1d", help: "median time from the desk's email or chat to the client's reply; clients who never replied never match", parse: parseDuration})
	add(&termDef{name: "segment", kind: kSegment, ops: " : = ", example: "segment:at-risk", help: "matches a saved segment", parse: parseSegmentName})
}

// aliases are other names people type for a term.
var aliases = map[string]string{
	"tags": "tag", "team": "desk", "owner": "broker", "commodities": "commodity", "class": "asset",
	"assetclass": "asset", "asset.class": "asset", "risk.tolerance": "risk", "last.trade": "last.fill",
	"onboarding": "onboarded", "seg": "segment", "lifecycle": "stage",
}

// notYet are names of the language that BrokerSync does not compute yet.
var notYet = map[string]string{}

func lookupDef(name string) *termDef {
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, d := range defs {
		if d.name == name {
			return d
		}
	}
	return nil
}

// Terms lists the term names with an example and what each matches.
func Terms() [][3]string {
	out := make([][3]string, len(defs))
	for i, d := range defs {
		out[i] = [3]string{d.name, d.example, d.help}
	}
	return out
}

// nearest is the defined term name closest to name, or "" when none is
// close enough to be a likely typo.
func nearest(name string) string {
	if name == "" {
		return ""
	}
	best, bestD := "", math.MaxInt
	for _, d := range defs {
		if dd := distance(name, d.name); dd < bestD {
			best, bestD = d.name, dd
		}
		// "trades" is near every trades.* name: suggest the 30-day one.
		if base, _, ok := strings.Cut(d.name, "."); ok && base == name && bestD > 0 {
			best, bestD = d.name, 0
		}
	}
	for a, n := range aliases {
		if dd := distance(name, a); dd < bestD {
			best, bestD = n, dd
		}
	}
	if bestD > max(2, len([]rune(name))/3) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance, by runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return math.MaxInt / 2
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// valueTerm guesses the term a bare value belongs to (corn -> commodity).
func valueTerm(cat *store.Catalogue, v string) string {
	switch {
	case v == "":
		return ""
	case slices.Contains(cat.AssetClasses(), store.AssetClass(strings.ToLower(v))):
		return "asset"
	case isStage(v):
		return "stage"
	}
	if _, ok := cat.Lookup(v); ok {
		return "commodity"
	}
	return ""
}

func isStage(v string) bool {
	_, err := parseStage(v)
	return err == nil
}

func parseTag(s string) (value, error) {
	t, err := store.NormalizeTag(s)
	if err != nil {
		return value{}, fmt.Errorf("%q is not a tag", s)
	}
	return value{text: t}, nil
}

func parseStage(s string) (value, error) {
	v := store.Stage(strings.ToLower(s))
	for _, st := range []store.Stage{store.Prospect, store.Onboarding, store.Active, store.Dormant, store.Closed} {
		if v == st {
			return value{text: string(v)}, nil
		}
	}
	return value{}, fmt.Errorf("%q is not a stage (prospect, onboarding, active, dormant, closed)", s)
}

func parseHorizon(s string) (value, error) {
	v := store.Horizon(strings.ToLower(s))
	for _, h := range []store.Horizon{store.Intraday, store.ShortTerm, store.MediumTerm, store.LongTerm} {
		if v == h {
			return value{text: string(v)}, nil
		}
	}
	return value{}, fmt.Errorf("%q is not a horizon (intraday, short, medium, long)", s)
}

func parseDesk(s string) (value, error) {
	d, err := store.NormalizeHandle(s)
	if err != nil {
		return value{}, fmt.Errorf("%q is not a desk name", s)
	}
	return value{text: d}, nil
}

// parseBroker takes a Slack mention (<@U123> or <@U123|jane>), a user id
// (U123) or a name (@jane), which the caller resolves (see Resolve).
func parseBroker(s string) (value, error) {
	v := s
	if strings.HasPrefix(v, "<@") && strings.HasSuffix(v, ">") {
		v, _, _ = strings.Cut(strings.TrimSuffix(strings.TrimPrefix(v, "<@"), ">"), "|")
	}
	if v == "" || v == "@" || strings.ContainsAny(v, "<>") {
		return value{}, fmt.Errorf("%q is not a person: write @name or a Slack user id", s)
	}
	return value{text: v}, nil
}

func parseRisk(s string) (value, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10 {
		return value{}, fmt.Errorf("%q is not a risk tolerance from 1 to 10", s)
	}
	return value{num: float64(n)}, nil
}

func parseCommodity(cat *store.Catalogue, s string) (value, error) {
	c, ok := cat.Lookup(s)
	if !ok {
		return value{}, fmt.Errorf("%q is not a commodity in the catalogue (a key such as corn or a code such as CBOT:ZS)", s)
	}
	return value{keys: []string{c.Key}, text: c.Key}, nil
}

func parseAsset(cat *store.Catalogue, s string) (value, error) {
	class := store.AssetClass(strings.ToLower(s))
	var keys []string
	for _, c := range cat.Commodities() {
		if c.Class == class {
			keys = append(keys, c.Key)
		}
	}
	if len(keys) == 0 {
		names := make([]string, 0)
		for _, c := range cat.AssetClasses() {
			names = append(names, string(c))
		}
		return value{}, fmt.Errorf("%q is not an asset class (%s)", s, strings.Join(names, ", "))
	}
	return value{keys: keys, text: string(class)}, nil
}

func parseCommodityOrAsset(cat *store.Catalogue, s string) (value, error) {
	if v, err := parseAsset(cat, s); err == nil {
		return v, nil
	}
	if v, err := parseCommodity(cat, s); err == nil {
		return v, nil
	}
	return value{}, fmt.Errorf("%q is neither an asset class nor a commodity in the catalogue", s)
}

func parseCount(s string) (value, error) {
	v, err := parseAmount(s)
	if err != nil {
		return v, err
	}
	if v.num != math.Trunc(v.num) {
		return value{}, fmt.Errorf("%q is not a whole number of fills", s)
	}
	return v, nil
}

// parseAmount reads a non-negative number with an optional k, m or bn
// suffix (1.5m is 1,500,000); thousands separators (1,000) are allowed.
func parseAmount(s string) (value, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(s, ",", ""), "_", ""))
	t = strings.TrimPrefix(t, "$")
	mult := 1.0
	for _, suf := range []struct {
		s string
		m float64
	}{{"bn", 1e9}, {"b", 1e9}, {"k", 1e3}, {"m", 1e6}} {
		if rest, ok := strings.CutSuffix(t, suf.s); ok {
			t, mult = rest, suf.m
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) || strings.ContainsAny(t, "eEpPxX") {
		return value{}, fmt.Errorf("%q is not an amount: write a number, optionally with k, m or bn (1.5m)", s)
	}
	return value{num: n * mult}, nil
}

// parseDuration reads 30d, 12h, 2w, 6m (months of 30 days) or 1y (365 days).
func parseDuration(s string) (value, error) {
	t := strings.ToLower(s)
	if len(t) < 2 {
		return value{}, fmt.Errorf("%q is not a duration: write a number and h, d, w, m or y (30d)", s)
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': day, 'w': 7 * day, 'm': 30 * day, 'y': 365 * day}[t[len(t)-1]]
	n, err := strconv.Atoi(t[:len(t)-1])
	if unit == 0 || err != nil || n < 0 || n > 100*365 || time.Duration(n) > math.MaxInt64/unit/2 {
		return value{}, fmt.Errorf("%q is not a duration: write a number and h, d, w, m or y (30d)", s)
	}
	return value{dur: time.Duration(n) * unit}, nil
}

func parseDateValue(s string) (value, error) {
	d, err := store.ParseDate(s)
	if err != nil {
		return value{}, fmt.Errorf("%q is not a date: write YYYY-MM-DD", s)
	}
	return value{date: d}, nil
}

func parseSentiment(s string) (value, error) {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < -1 || n > 1 || strings.ContainsAny(s, "eEpPxXnN") {
		return value{}, fmt.Errorf("%q is not a sentiment from -1 to 1", s)
	}
	return value{num: n}, nil
}

func parseShare(s string) (value, error) {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n > 1 || strings.ContainsAny(s, "eEpPxXnN") {
		return value{}, fmt.Errorf("%q is not a share from 0 to 1 (0.3 is 30%%)", s)
	}
	return value{num: n}, nil
}

func parseSegmentName(s string) (value, error) {
	n, err := NormalizeName(s)
	if err != nil {
		return value{}, err
	}
	return value{text: n}, nil
}

// NormalizeName checks a segment name: lower-case letters, digits and
// dashes, like handles ("at-risk").
func NormalizeName(s string) (string, error) {
	n, err := store.NormalizeHandle(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a segment name: use lower-case letters, digits and dashes, e.g. at-risk", s)
	}
	return n, nil
}
