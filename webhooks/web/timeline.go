package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// Page sizes: the list shows listPage events at a time; a search reads at
// most maxScan events per page.
const (
	listPage = 50
	maxScan  = 5000
)

type day struct {
	Date   string
	Events []row
}

// row is one event as the page shows it: mentions as names, the time in the
// viewer's zone and, when it differs, in the client's.
type row struct {
	*store.Event
	Actor      string
	Summary    string
	Body       string
	When       string // "09:04 CST"
	ClientWhen string // "16:04 CET", or "" when the zones agree
}

type timelineView struct {
	Nonce    string // of the page's one <style> element (Content-Security-Policy)
	Client   *store.Client
	Profile  string
	Overview *overview
	Presets  []preset
	From, To string // the date range form's values
	Search   string
	RangeKey string   // the zoom preset shown, "" for dates
	Hidden   []hidden // the kind filter, kept by the range and search forms
	Days     []day
	Kinds    []kindFilter
	Older    string
	Newest   string
	Zone     string // the viewer's zone, named on the page
	Count    int
	Scanned  bool // a search stopped reading before the end of the range
}

type kindFilter struct {
	Kind   store.Kind
	On     bool
	Toggle string
}

type preset struct {
	Label, Href string
	On          bool
}

type hidden struct{ Name, Value string }

var presets = []struct {
	key, label string
	days       int
}{{"30d", "30 days", 30}, {"90d", "90 days", 90}, {"1y", "1 year", 365}, {"all", "All", 0}}

// window is the time range a page shows: [Since, Until), either bound zero
// for none.
type window struct {
	Since, Until time.Time
	Preset       string // "" when dates were given
}

func parseWindow(q url.Values, now time.Time, loc *time.Location) (window, error) {
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	if from != "" || to != "" {
		var w window
		if from != "" {
			d, err := store.ParseDate(from)
			if err != nil {
				return w, store.Invalid("from", "write the first day as YYYY-MM-DD, not %q", from)
			}
			w.Since = time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
		}
		if to != "" {
			d, err := store.ParseDate(to)
			if err != nil {
				return w, store.Invalid("to", "write the last day as YYYY-MM-DD, not %q", to)
			}
			w.Until = time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc)
		}
		if !w.Since.IsZero() && !w.Until.IsZero() && !w.Since.Before(w.Until) {
			return w, store.Invalid("from", "the first day, %s, comes after the last, %s", from, to)
		}
		return w, nil
	}
	key := q.Get("range")
	if key == "" {
		key = "1y"
	}
	for _, p := range presets {
		if p.key == key {
			w := window{Preset: key}
			if p.days > 0 {
				w.Since = now.Add(-time.Duration(p.days) * 24 * time.Hour)
			}
			return w, nil
		}
	}
	return window{}, store.Invalid("range", "the range is one of 30d, 90d, 1y or all, not %q", key)
}

func (p *Pages) timeline(w http.ResponseWriter, r *http.Request) {
	viewer, client := p.open(w, r)
	if client == nil {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	var kinds []store.Kind
	for _, k := range q["kind"] {
		kind, err := store.ParseKind(k)
		if err != nil {
			http.Error(w, store.ErrorMessage(err), http.StatusBadRequest)
			return
		}
		kinds = append(kinds, kind)
	}
	names := p.Names.Memo()
	loc, clientLoc, clientZoned := p.zones(ctx, names, viewer, client)
	now := p.Now()
	win, err := parseWindow(q, now, loc)
	if err != nil {
		p.fail(w, err)
		return
	}
	search := strings.TrimSpace(q.Get("q"))
	if len(search) > 200 {
		search = search[:200]
	}

	// The overview: every event of the chosen kinds in the range.
	ov, err := p.overviewOf(ctx, client, kinds, win, now, loc, func(s string) string { return names.Text(ctx, s) })
	if err != nil {
		p.fail(w, err)
		return
	}

	// The list: newest first from the cursor (or from an entry picked on
	// the overview), narrowed by the search.
	listQ := store.EventQuery{Kinds: kinds, Since: win.Since, Until: win.Until, Limit: listPage, Cursor: q.Get("cursor")}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		if t := time.UnixMilli(b); listQ.Until.IsZero() || t.Before(listQ.Until) {
			listQ.Until = t
		}
	}
	events, next, scanned, err := p.list(ctx, client, listQ, search, names)
	if err != nil {
		p.fail(w, err)
		return
	}
	nonce, err := newNonce()
	if err != nil {
		p.fail(w, err)
		return
	}
	v := timelineView{Nonce: nonce, Client: client, Count: len(events), Zone: loc.String(), Overview: ov,
		Search: search, Scanned: scanned, Profile: "/clients/" + url.PathEscape(client.Handle) + "/profile"}
	for _, e := range events {
		d := e.Time.In(loc).Format("Monday 2 January 2006")
		if len(v.Days) == 0 || v.Days[len(v.Days)-1].Date != d {
			v.Days = append(v.Days, day{Date: d})
		}
		r := row{Event: e, Actor: names.User(ctx, e.Actor), Summary: names.Text(ctx, e.Summary), Body: names.Text(ctx, e.Body),
			When: e.Time.In(loc).Format("15:04 MST")}
		if clientZoned && clientLoc.String() != loc.String() {
			if cw := e.Time.In(clientLoc).Format("15:04 MST"); cw != r.When {
				r.ClientWhen = cw
			}
		}
		v.Days[len(v.Days)-1].Events = append(v.Days[len(v.Days)-1].Events, r)
	}

	// Links keep what the others do not change.
	kindQ := url.Values{"kind": q["kind"]}
	rangeQ := url.Values{}
	for _, k := range []string{"range", "from", "to"} {
		if q.Get(k) != "" {
			rangeQ.Set(k, q.Get(k))
		}
	}
	searchQ := url.Values{}
	if search != "" {
		searchQ.Set("q", search)
	}
	v.RangeKey = win.Preset
	if win.Preset == "" {
		v.From = q.Get("from")
		v.To = q.Get("to")
	} else if !win.Since.IsZero() {
		v.From = win.Since.In(loc).Format("2006-01-02")
	}
	for _, pr := range presets {
		v.Presets = append(v.Presets, preset{Label: pr.label, On: win.Preset == pr.key,
			Href: withParams(kindQ, searchQ, url.Values{"range": {pr.key}})})
	}
	for _, k := range q["kind"] {
		v.Hidden = append(v.Hidden, hidden{"kind", k})
	}
	on := map[store.Kind]bool{}
	for _, k := range kinds {
		on[k] = true
	}
	for _, k := range store.Kinds {
		next := url.Values{}
		for _, other := range kinds {
			if other != k {
				next.Add("kind", string(other))
			}
		}
		if !on[k] {
			next.Add("kind", string(k))
		}
		v.Kinds = append(v.Kinds, kindFilter{Kind: k, On: on[k], Toggle: withParams(rangeQ, searchQ, next)})
	}
	if next != "" {
		v.Older = withParams(kindQ, rangeQ, searchQ, url.Values{"cursor": {next}}) + "#list"
	}
	if q.Get("cursor") != "" || q.Get("before") != "" {
		v.Newest = withParams(kindQ, rangeQ, searchQ) + "#list"
	}
	ov.link(withParams(kindQ, rangeQ))
	p.render(w, "timeline.html", nonce, v)
}

// list reads one page of the list. Without a search it is one page of the
// store; with one, it reads pages until it has a page of matches, the range
// ends or it has read maxScan events (scanned), and the cursor goes on from
// there.
func (p *Pages) list(ctx context.Context, c *store.Client, q store.EventQuery, search string, names *bot.Names) (events []*store.Event, next string, scanned bool, err error) {
	if search == "" {
		page, err := p.Timeline.Events(ctx, c.ID, q)
		return page.Events, page.Next, false, err
	}
	needle := strings.ToLower(search)
	q.Limit = 200
	read := 0
	for {
		page, err := p.Timeline.Events(ctx, c.ID, q)
		if err != nil {
			return nil, "", false, err
		}
		for _, e := range page.Events {
			if matches(ctx, e, needle, names) {
				events = append(events, e)
			}
		}
		read += len(page.Events)
		if page.Next == "" {
			return events, "", false, nil
		}
		if len(events) >= listPage {
			return events, page.Next, false, nil
		}
		if read >= maxScan {
			return events, page.Next, true, nil
		}
		q.Cursor = page.Next
	}
}

// matches reports whether an event's text, as people read it, holds needle
// (lower case).
func matches(ctx context.Context, e *store.Event, needle string, names *bot.Names) bool {
	parts := []string{e.Summary, e.Body, e.Actor, string(e.Kind)}
	if a := e.Attrs.Email; a != nil {
		parts = append(parts, a.Subject, a.From, strings.Join(a.To, " "))
	}
	if a := e.Attrs.Order; a != nil {
		parts = append(parts, a.Contract, a.Commodity, a.Notes, a.Status, a.Side, a.OrderID)
	}
	for _, s := range parts {
		if strings.Contains(strings.ToLower(s), needle) {
			return true
		}
	}
	if strings.Contains(e.Summary, "<") || strings.HasPrefix(e.Actor, "U") {
		return strings.Contains(strings.ToLower(names.Text(ctx, e.Summary)+" "+names.User(ctx, e.Actor)), needle)
	}
	return false
}
