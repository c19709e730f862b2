package segment

import (
	"slices"

	"github.com/brokersync/brokersync/store"
)

// Decide evaluates a resolved filter on a client's profile alone, where
// it can: terms of the profile (tag, stage, desk, broker, horizon, risk)
// are decided here, exactly as the stores' SQL decides them; statistics,
// commodities, dates and saved segments are not. It reports whether the
// client matches and whether that is known; when it is not, ask a Matcher.
// A rule asking about one client at a time (a workflow's condition) saves
// a query whenever the profile settles it.
func Decide(f *Filter, c *store.Client) (match, known bool) {
	if f == nil || f.Root == nil {
		return true, true
	}
	return decide(f.Root, c)
}

func decide(n Node, c *store.Client) (bool, bool) {
	switch n := n.(type) {
	case *And:
		all := true
		for _, x := range n.Nodes {
			m, k := decide(x, c)
			if k && !m {
				return false, true
			}
			all = all && k
		}
		return true, all
	case *Or:
		all := true
		for _, x := range n.Nodes {
			m, k := decide(x, c)
			if k && m {
				return true, true
			}
			all = all && k
		}
		return false, all
	case *Not:
		m, k := decide(n.X, c)
		return !m, k
	case *Term:
		return decideTerm(n, c)
	}
	return false, false
}

func decideTerm(t *Term, c *store.Client) (bool, bool) {
	if t.def == nil {
		return false, false
	}
	v := t.val
	eq := func(ok bool) (bool, bool) {
		if t.Op == "!=" {
			return !ok, true
		}
		return ok, true
	}
	switch t.def.kind {
	case kTag:
		return eq(slices.Contains(c.Tags, v.text))
	case kStage:
		return eq(string(c.Stage) == v.text)
	case kDesk:
		return eq(c.Team == v.text)
	case kBroker:
		if len(v.text) > 0 && v.text[0] == '@' {
			return false, false // not resolved
		}
		return eq(c.Broker == v.text)
	case kHorizon:
		return eq(string(c.Risk.Horizon) == v.text)
	case kRisk:
		r, n := c.Risk.Tolerance, int(v.num)
		if r <= 0 {
			return false, true // not assessed: never matches
		}
		switch t.Op {
		case ":", "=":
			return r == n, true
		case "!=":
			return r != n, true
		case "<":
			return r < n, true
		case "<=":
			return r <= n, true
		case ">":
			return r > n, true
		case ">=":
			return r >= n, true
		}
	}
	return false, false
}
