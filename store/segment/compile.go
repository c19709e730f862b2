package segment

import (
	"context"
	"errors"
	"fmt"
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
	out := &Filter{Text: f.Text}
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
			sub, err := Parse(text)
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
	negs int // how many NOTs the term being compiled is under
}

// Compile turns a resolved filter into a WHERE expression. now fixes every
// relative term (windows, last.*); firstArg is the number of the first
// parameter (1 when the expression's parameters come first). An unresolved
// segment: term or @name is an error.
func Compile(f *Filter, d Dialect, now time.Time, firstArg int) (SQL, error) {
	c := &compiler{d: d, now: now.UTC()}
	base := firstArg - 1
	if f == nil || f.Root == nil {
		return SQL{Where: "TRUE"}, nil
	}
	if err := c.node(f.Root, base); err != nil {
		return SQL{}, err
	}
	return SQL{Where: c.b.String(), Args: c.args}, nil
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

// stat is a condition on a client's activity (see store.Activity): cond
// on the columns of its row where the row holds at now, agg on the tables
// where it does not, and none where the client has no row (it then has no
// fill, contact or score). cond and agg are TRUE or FALSE, never NULL.
//
// Under no NOT, where none is FALSE, it is written without CASE, as
// "holds AND cond OR stale AND agg", which is NULL rather than FALSE for a
// client without a row (the same outside any NOT). Being NULL for every
// such client lets PostgreSQL join only the clients with a row, and test
// cond while it reads the rows, before the join; agg is never evaluated
// for a row that holds.
func (c *compiler) stat(cond string, none bool, agg string, base int) string {
	now := c.time(c.now, base)
	holds := "s.valid_from <= " + now + " AND (s.valid_until IS NULL OR s.valid_until > " + now + ")"
	if c.negs == 0 && !none {
		stale := "s.client_id IS NOT NULL AND (s.valid_from > " + now + " OR coalesce(s.valid_until <= " + now + ", FALSE))"
		return "((" + holds + " AND " + cond + ") OR (" + stale + " AND " + agg + "))"
	}
	return "(CASE WHEN s.client_id IS NULL THEN " + strings.ToUpper(strconv.FormatBool(none)) +
		" WHEN " + holds + " THEN " + cond + " ELSE " + agg + " END)"
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
		c.negs++
		err := c.node(n.X, base)
		c.negs--
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
			c.negs++
		}
		f()
		if neg {
			c.negs--
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
				var col string
				if c.d == Postgres {
					col = "s.commodities && " + c.param(v.keys, base) + "::text[]"
				} else {
					col = "EXISTS (SELECT 1 FROM json_each(s.commodities) j WHERE " + c.inList("j.value", v.keys, base) + ")"
				}
				parts = append(parts, c.stat(col, false, "EXISTS (SELECT 1 FROM client_fills f WHERE f.client_id = c.id AND "+c.inList("f.commodity", v.keys, base)+
					" AND f.at > "+c.time(c.now.Add(-365*day), base)+" AND f.at <= "+now()+")", base))
			}
			c.w("(", strings.Join(parts, " OR "), ")")
		})
	case kTrades, kVolume, kNotional:
		agg, col := "count(*)", "s.trades_"
		switch t.def.kind {
		case kVolume:
			agg, col = "coalesce(sum(f.quantity), 0)", "s.volume_"
		case kNotional:
			agg, col = "coalesce(sum(CASE WHEN f.currency = "+c.param(store.NotionalCurrency, base)+" THEN f.notional ELSE 0 END), 0)", "s.notional_"
		}
		col += strconv.Itoa(int(t.def.window/day)) + "d"
		agg = "(SELECT " + agg + " FROM client_fills f WHERE f.client_id = c.id AND f.at > " + c.time(c.now.Add(-t.def.window), base) +
			" AND f.at <= " + now() + ")"
		x := c.num(v.num, base)
		c.w(c.stat(col+" "+sqlOp(t.Op)+" "+x, compare(0, t.Op, v.num), agg+" "+sqlOp(t.Op)+" "+x, base))
	case kLast:
		// last.X>D: nothing in (now-D, now]; last.X<D: something in it,
		// that is the last one at or before now is after now-D.
		var exists, col string
		bound := c.time(c.now.Add(-v.dur), base)
		if t.def.which == "fill" {
			col = "coalesce(s.last_fill > " + bound + ", FALSE)"
			exists = "EXISTS (SELECT 1 FROM client_fills f WHERE f.client_id = c.id AND f.at > " + bound + " AND f.at <= " + now() + ")"
		} else {
			dir := ""
			switch t.def.which {
			case "inbound":
				dir = " AND k.direction IN ('inbound', 'both')"
				col = "coalesce(s.last_inbound > " + bound + ", FALSE)"
			case "outbound":
				dir = " AND k.direction IN ('outbound', 'both')"
				col = "coalesce(s.last_outbound > " + bound + ", FALSE)"
			default:
				col = "coalesce(s.last_inbound > " + bound + " OR s.last_outbound > " + bound + ", FALSE)"
			}
			exists = "EXISTS (SELECT 1 FROM client_contacts k WHERE k.client_id = c.id AND k.at > " + bound + " AND k.at <= " + now() + dir + ")"
		}
		if t.Op == ">" || t.Op == ">=" {
			c.w("NOT ")
			c.negs++
			defer func() { c.negs-- }()
		}
		c.w(c.stat(col, false, exists, base))
	case kOnboarded:
		col := "coalesce(c.profile->>'onboarded', '')"
		if c.d == SQLite {
			col = "coalesce(json_extract(c.profile, '$.Onboarded'), '')"
		}
		c.w("(", col, " <> '' AND ", col, " ", sqlOp(t.Op), " ", c.param(v.date.String(), base), ")")
	case kSentiment:
		x := c.num(v.num, base)
		c.w(c.stat("(s.sentiment_count > 0 AND s.sentiment_sum / s.sentiment_count "+sqlOp(t.Op)+" "+x+")", false,
			"coalesce((SELECT avg(e.score) FROM client_sentiment e WHERE e.client_id = c.id AND e.at > "+c.time(c.now.Add(-store.SentimentWindow), base)+
				" AND e.at <= "+now()+") "+sqlOp(t.Op)+" "+x+", FALSE)", base))
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
