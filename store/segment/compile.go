package segment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Dialect is the SQL a backend speaks.
type Dialect int

// Dialects.
const (
	Postgres Dialect = iota
	SQLite
)

// Lookup finds what a filter refers to outside itself: the filter text of
// a saved segment (ENOTFOUND when there is none), and the Slack id of a
// broker typed as @name (ok false when nobody has that name).
type Lookup struct {
	Segment func(ctx context.Context, name string) (string, error)
	Broker  func(ctx context.Context, name string) (id string, ok bool)
}

// Resolve replaces segment: terms by the saved filters they name (which may
// name others, but not themselves) and @names of brokers by Slack ids. The
// error is an *Error pointing at the term, or the lookup's error when it
// could not be asked.
func Resolve(ctx context.Context, f *Filter, l Lookup) (*Filter, error) {
	out := &Filter{Text: f.Text, cat: f.cat}
	root, err := resolve(ctx, f, f.Root, l, map[string]bool{}, 0)
	if err != nil {
		return nil, err
	}
	out.Root = root
	return out, nil
}

func resolve(ctx context.Context, f *Filter, n Node, l Lookup, stack map[string]bool, depth int) (Node, error) {
	errAt := func(t *Term, format string, a ...any) *Error {
		return &Error{Filter: f.Text, Start: t.Start, End: t.End, Msg: fmt.Sprintf(format, a...)}
	}
	switch n := n.(type) {
	case nil:
		return nil, nil
	case *And:
		nodes, err := resolveAll(ctx, f, n.Nodes, l, stack, depth)
		if err != nil {
			return nil, err
		}
		return &And{Nodes: nodes, Start: n.Start, End: n.End}, nil
	case *Or:
		nodes, err := resolveAll(ctx, f, n.Nodes, l, stack, depth)
		if err != nil {
			return nil, err
		}
		return &Or{Nodes: nodes, Start: n.Start, End: n.End}, nil
	case *Not:
		x, err := resolve(ctx, f, n.X, l, stack, depth)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Start: n.Start, End: n.End}, nil
	case *Term:
		switch n.def.kind {
		case kBroker:
			v := n.val.text
			if name, ok := strings.CutPrefix(v, "@"); ok {
				if l.Broker == nil {
					return nil, errAt(n, "broker: write the person as a Slack mention or user id")
				}
				id, found := l.Broker(ctx, name)
				if !found {
					return nil, errAt(n, "broker: nobody in Slack is called @%s", name)
				}
				t := *n
				t.val.text = id
				return &t, nil
			}
			return n, nil
		case kSegment:
			name := n.val.text
			if stack[name] {
				return nil, errAt(n, "segment %s refers to itself", name)
			}
			if depth >= 5 {
				return nil, errAt(n, "segments refer to segments too deep (at most 5)")
			}
			if l.Segment == nil {
				return nil, errAt(n, "no saved segments here")
			}
			text, err := l.Segment(ctx, name)
			if store.ErrorCode(err) == store.ENOTFOUND {
				e := errAt(n, "there is no saved segment %s", name)
				e.Suggest = ""
				return nil, e
			}
			if err != nil {
				return nil, err
			}
			sub, err := Parse(text, f.cat)
			if err != nil {
				return nil, errAt(n, "saved segment %s no longer parses: %v", name, err)
			}
			if sub.Root == nil {
				return &And{Start: n.Start, End: n.End}, nil // matches everyone
			}
			stack[name] = true
			defer delete(stack, name)
			r, err := resolve(ctx, sub, sub.Root, l, stack, depth+1)
			if err != nil {
				var pe *Error
				if errors.As(err, &pe) && pe.Filter != f.Text {
					return nil, errAt(n, "in saved segment %s: %v", name, pe)
				}
				return nil, err
			}
			return r, nil
		}
		return n, nil
	}
	return nil, fmt.Errorf("segment: unknown node %T", n)
}

func resolveAll(ctx context.Context, f *Filter, nodes []Node, l Lookup, stack map[string]bool, depth int) ([]Node, error) {
	var out []Node
	for _, x := range nodes {
		r, err := resolve(ctx, f, x, l, stack, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SQL is a compiled filter: a boolean expression over the clients and
// their activity rows as From joins them (aliases c and s), and its
// parameters, numbered from the first free one.
type SQL struct {
	Where string
	Args  []any
}

// From is the FROM clause a compiled filter's Where is written for: every
// client, with its activity row (store.Activity) when it has one. Both
// stores name the tables alike.
const From = `clients c LEFT JOIN client_stats s ON s.client_id = c.id`

type compiler struct {
	d    Dialect
	now  time.Time
	args []any
	b    strings.Builder
	pass pass
}

// pass is what the activity terms of a filter are compiled to (see stat).
type pass int

const (
	passColumns pass = iota // the columns of the client's activity row
	passTables              // aggregates over the fill, contact and score tables
	passNone                // the values of a client with no activity
)

// Compile turns a resolved filter into a WHERE expression. now fixes every
// relative term (windows, last.*); firstArg is the number of the first
// parameter (1 when the expression's parameters come first). An unresolved
// segment: term or @name is an error.
//
// The top level's terms about activity (trades, volume, notional, traded
// commodities, last.*, sentiment, and what holds them) are compiled three
// times, after the other terms of the top level, and each client is asked
// one of them: the one on its activity row's columns where the
// row holds at now, the one on the tables where it does not, the one with
// the values of no activity where it has no row (see store.Activity):
//
//	(s.client_id IS NULL AND <none>) OR (<holds> AND <columns>) OR (<stale> AND <tables>)
//
// Whether the row holds is so asked once per client, and the columns' pass
// reads like the query one would write by hand. Where the none pass is
// FALSE (the filter needs some activity), the whole is NULL for a client
// without a row, which lets PostgreSQL join only the clients with one and
// test the columns as it reads the rows, before the join.
func Compile(f *Filter, d Dialect, now time.Time, firstArg int) (SQL, error) {
	c := &compiler{d: d, now: now.UTC()}
	base := firstArg - 1
	if f == nil || f.Root == nil {
		return SQL{Where: "TRUE"}, nil
	}
	// The terms of the top level that ask nothing about activity are
	// asked once, before the rest: a store can then pass over most clients
	// before it looks at their activity.
	var plain, active []Node
	top := []Node{f.Root}
	if and, ok := f.Root.(*And); ok {
		top = and.Nodes
	}
	for _, n := range top {
		if asksActivity(n) {
			active = append(active, n)
		} else {
			plain = append(plain, n)
		}
	}
	var parts []string
	for _, n := range plain {
		c.b.Reset()
		if err := c.node(n, base); err != nil {
			return SQL{}, err
		}
		parts = append(parts, c.b.String())
	}
	if len(active) > 0 {
		var where [3]string
		for _, p := range []pass{passColumns, passTables, passNone} {
			c.pass = p
			c.b.Reset()
			if err := c.node(&And{Nodes: active}, base); err != nil {
				return SQL{}, err
			}
			where[p] = c.b.String()
		}
		n := func() string { return c.time(c.now, base) } // a parameter for each use, like every other value
		holds := "s.valid_from <= " + n() + " AND (s.valid_until IS NULL OR s.valid_until > " + n() + ")"
		stale := "s.client_id IS NOT NULL AND (s.valid_from > " + n() + " OR coalesce(s.valid_until <= " + n() + ", FALSE))"
		parts = append(parts, "((s.client_id IS NULL AND "+where[passNone]+") OR ("+holds+" AND "+where[passColumns]+") OR ("+
			stale+" AND "+where[passTables]+"))")
	}
	if len(parts) == 0 {
		return SQL{Where: "TRUE"}, nil // an empty group: everyone
	}
	return SQL{Where: "(" + strings.Join(parts, " AND ") + ")", Args: c.args}, nil
}

// asksActivity reports whether a filter has a term about activity.
func asksActivity(n Node) bool {
	switch n := n.(type) {
	case *And:
		return slices.ContainsFunc(n.Nodes, asksActivity)
	case *Or:
		return slices.ContainsFunc(n.Nodes, asksActivity)
	case *Not:
		return asksActivity(n.X)
	case *Term:
		switch n.def.kind {
		case kTrades, kVolume, kNotional, kLast, kSentiment:
			return true
		case kCommodity:
			return n.def.which != "prefers"
		}
	}
	return false
}

// param adds a parameter and returns its placeholder.
func (c *compiler) param(v any, base int) string {
	c.args = append(c.args, v)
	n := base + len(c.args)
	if c.d == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?" + strconv.Itoa(n)
}

// num is a numeric parameter, compared as double precision.
func (c *compiler) num(v float64, base int) string {
	if c.d == Postgres {
		return c.param(v, base) + "::float8"
	}
	return c.param(v, base)
}

func (c *compiler) time(t time.Time, base int) string {
	if c.d == SQLite {
		return c.param(t.UnixMicro(), base)
	}
	return c.param(t, base)
}

// inList is "col = ANY($n)" on PostgreSQL, "col IN (?a, ?b)" on SQLite.
func (c *compiler) inList(col string, vals []string, base int) string {
	if c.d == Postgres {
		return col + " = ANY(" + c.param(vals, base) + "::text[])"
	}
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = c.param(v, base)
	}
	return col + " IN (" + strings.Join(ps, ", ") + ")"
}

// stat is a condition on a client's activity, in the form of the pass:
// cols on the columns of its row (s), tables on the fill, contact and
// score tables, none its value for a client without activity. cols and
// tables make their parameters only when called, and are TRUE or FALSE,
// never NULL, for a client with a row.
func (c *compiler) stat(none bool, cols, tables func() string) string {
	switch c.pass {
	case passColumns:
		return cols()
	case passTables:
		return tables()
	}
	return strings.ToUpper(strconv.FormatBool(none))
}

// compare applies a term's comparison to two numbers.
func compare(a float64, op string, b float64) bool {
	switch op {
	case ":", "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

func (c *compiler) w(s ...string) {
	for _, x := range s {
		c.b.WriteString(x)
	}
}

func (c *compiler) node(n Node, base int) error {
	switch n := n.(type) {
	case *And:
		if len(n.Nodes) == 0 {
			c.w("TRUE")
			return nil
		}
		return c.join(n.Nodes, " AND ", base)
	case *Or:
		return c.join(n.Nodes, " OR ", base)
	case *Not:
		c.w("NOT (")
		err := c.node(n.X, base)
		c.w(")")
		return err
	case *Term:
		return c.term(n, base)
	}
	return fmt.Errorf("segment: unknown node %T", n)
}

func (c *compiler) join(nodes []Node, sep string, base int) error {
	c.w("(")
	for i, x := range nodes {
		if i > 0 {
			c.w(sep)
		}
		if err := c.node(x, base); err != nil {
			return err
		}
	}
	c.w(")")
	return nil
}

// sqlOp is the SQL comparison of a term's operator.
func sqlOp(op string) string {
	switch op {
	case ":", "=":
		return "="
	case "!=":
		return "<>"
	}
	return op
}

// Every term compiles to an expression that is TRUE or FALSE, never NULL,
// so that negating it gives exactly the other clients.
func (c *compiler) term(t *Term, base int) error {
	v := t.val
	neg := t.Op == "!="
	wrapNeg := func(f func()) {
		if neg {
			c.w("NOT (")
		}
		f()
		if neg {
			c.w(")")
		}
	}
	now := func() string { return c.time(c.now, base) }
	switch t.def.kind {
	case kTag:
		wrapNeg(func() {
			c.w("EXISTS (SELECT 1 FROM client_tags t WHERE t.client_id = c.id AND t.tag = ", c.param(v.text, base), ")")
		})
	case kStage:
		wrapNeg(func() { c.w("c.stage = ", c.param(v.text, base)) })
	case kDesk:
		wrapNeg(func() { c.w("c.team = ", c.param(v.text, base)) })
	case kBroker:
		if strings.HasPrefix(v.text, "@") {
			return &Error{Start: t.Start, End: t.End, Msg: "broker @" + v.text + " is not resolved"}
		}
		wrapNeg(func() { c.w("c.broker = ", c.param(v.text, base)) })
	case kHorizon:
		wrapNeg(func() { c.w("c.horizon = ", c.param(v.text, base)) })
	case kRisk:
		c.w("(c.risk_tolerance > 0 AND c.risk_tolerance ", sqlOp(t.Op), " ", c.param(int(v.num), base), ")")
	case kCommodity:
		wrapNeg(func() {
			var parts []string
			if t.def.which != "traded" {
				var b strings.Builder
				if c.d == Postgres {
					b.WriteString("c.commodities && " + c.param(v.keys, base) + "::text[]")
				} else {
					b.WriteString("EXISTS (SELECT 1 FROM json_each(c.commodities) j WHERE " + c.inList("j.value", v.keys, base) + ")")
				}
				parts = append(parts, b.String())
			}
			if t.def.which != "prefers" {
				parts = append(parts, c.stat(false, func() string {
					if c.d == Postgres {
						return "s.commodities && " + c.param(v.keys, base) + "::text[]"
					}
					return "EXISTS (SELECT 1 FROM json_each(s.commodities) j WHERE " + c.inList("j.value", v.keys, base) + ")"
				}, func() string {
					return "EXISTS (SELECT 1 FROM client_fills f WHERE f.client_id = c.id AND " + c.inList("f.commodity", v.keys, base) +
						" AND f.at > " + c.time(c.now.Add(-365*day), base) + " AND f.at <= " + now() + ")"
				}))
			}
			c.w("(", strings.Join(parts, " OR "), ")")
		})
	case kTrades, kVolume, kNotional:
		op := " " + sqlOp(t.Op) + " "
		c.w(c.stat(compare(0, t.Op, v.num), func() string {
			col := map[termKind]string{kTrades: "s.trades_", kVolume: "s.volume_", kNotional: "s.notional_"}[t.def.kind]
			return col + strconv.Itoa(int(t.def.window/day)) + "d" + op + c.num(v.num, base)
		}, func() string {
			agg := "count(*)"
			switch t.def.kind {
			case kVolume:
				agg = "coalesce(sum(f.quantity), 0)"
			case kNotional:
				agg = "coalesce(sum(CASE WHEN f.currency = " + c.param(store.NotionalCurrency, base) + " THEN f.notional ELSE 0 END), 0)"
			}
			return "(SELECT " + agg + " FROM client_fills f WHERE f.client_id = c.id AND f.at > " + c.time(c.now.Add(-t.def.window), base) +
				" AND f.at <= " + now() + ")" + op + c.num(v.num, base)
		}))
	case kLast:
		// last.X>D: nothing in (now-D, now]; last.X<D: something in it,
		// that is the last one at or before now is after now-D.
		bound := func() string { return c.time(c.now.Add(-v.dur), base) }
		cols := func() string {
			b := bound()
			switch t.def.which {
			case "fill":
				return "coalesce(s.last_fill > " + b + ", FALSE)"
			case "inbound":
				return "coalesce(s.last_inbound > " + b + ", FALSE)"
			case "outbound":
				return "coalesce(s.last_outbound > " + b + ", FALSE)"
			}
			return "coalesce(s.last_inbound > " + b + " OR s.last_outbound > " + bound() + ", FALSE)"
		}
		tables := func() string {
			b := bound()
			if t.def.which == "fill" {
				return "EXISTS (SELECT 1 FROM client_fills f WHERE f.client_id = c.id AND f.at > " + b + " AND f.at <= " + now() + ")"
			}
			dir := ""
			switch t.def.which {
			case "inbound":
				dir = " AND k.direction IN ('inbound', 'both')"
			case "outbound":
				dir = " AND k.direction IN ('outbound', 'both')"
			}
			return "EXISTS (SELECT 1 FROM client_contacts k WHERE k.client_id = c.id AND k.at > " + b + " AND k.at <= " + now() + dir + ")"
		}
		if t.Op == ">" || t.Op == ">=" {
			c.w("NOT ")
		}
		c.w(c.stat(false, cols, tables))
	case kOnboarded:
		col := "coalesce(c.profile->>'onboarded', '')"
		if c.d == SQLite {
			col = "coalesce(json_extract(c.profile, '$.Onboarded'), '')"
		}
		c.w("(", col, " <> '' AND ", col, " ", sqlOp(t.Op), " ", c.param(v.date.String(), base), ")")
	case kSentiment:
		op := " " + sqlOp(t.Op) + " "
		c.w(c.stat(false, func() string {
			return "coalesce(s.sentiment_sum / nullif(s.sentiment_count, 0)" + op + c.num(v.num, base) + ", FALSE)"
		}, func() string {
			return "coalesce((SELECT avg(e.score) FROM client_sentiment e WHERE e.client_id = c.id AND e.at > " + c.time(c.now.Add(-store.SentimentWindow), base) +
				" AND e.at <= " + now() + ")" + op + c.num(v.num, base) + ", FALSE)"
		}))
	case kResponsive:
		c.w("coalesce((SELECT r.responsive FROM client_responsiveness r WHERE r.client_id = c.id) ", sqlOp(t.Op), " ", c.num(v.num, base), ", FALSE)")
	case kReplyMedian:
		c.w("coalesce((SELECT r.reply_median_seconds FROM client_responsiveness r WHERE r.client_id = c.id) ", sqlOp(t.Op), " ", c.num(v.dur.Seconds(), base), ", FALSE)")
	case kSegment:
		return &Error{Start: t.Start, End: t.End, Msg: "segment " + v.text + " is not resolved"}
	default:
		return fmt.Errorf("segment: term %s has no SQL", t.Name)
	}
	return nil
}
