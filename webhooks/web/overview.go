package web

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// The overview is drawn in a fixed coordinate space; the SVG scales to the
// page's width.
const (
	ovWidth     = 1000.0
	ovLeft      = 160.0 // lane labels ("Recommendations (123)")
	ovRight     = 12.0
	ovTop       = 26.0 // axis labels
	ovLane      = 24.0
	ovTrend     = 84.0 // height of the sentiment panel
	trendWindow = 30 * 24 * time.Hour
	trendPoints = 120
)

// overview is the visual summary of a client's timeline over a range: one
// lane per kind, a mark per event and the sentiment's 30-day rolling mean.
type overview struct {
	Start, End   time.Time
	StartLabel   string
	EndLabel     string
	Width        float64
	Height       float64
	Lanes        []lane
	Ticks        []tick
	Marks        []mark
	Count        int
	Dense        bool // a mark stands for the events of a stretch of time
	TrendTop     float64
	TrendMid     float64
	TrendBottom  float64
	TrendPath    string
	TrendLatest  string // "+0.21", the last point of the line
	TrendSamples int
	PlotLeft     float64
	PlotRight    float64
}

type lane struct {
	Kind  store.Kind
	Label string
	Y     float64 // centre line
	Top   float64
	Count int
	Odd   bool
}

type tick struct {
	X     float64
	Label string
}

type mark struct {
	X, Y, R float64
	Class   string
	Title   string
	Href    string
	Time    time.Time
	ID      string // the event's; "" for a mark that stands for several
	Count   int    // events the mark stands for
}

// Beyond denseAt events, a lane's marks stand for the events of one of at
// most denseBins stretches of whole days each (a week over a year), so
// that the page stays light.
const (
	denseAt   = 800
	denseBins = 60
)

// laneLabels name the lanes as people do.
var laneLabels = map[store.Kind]string{
	store.KindEmail: "Emails", store.KindChat: "Chats", store.KindCall: "Calls", store.KindMeeting: "Meetings",
	store.KindOrder: "Orders", store.KindNote: "Notes", store.KindFeedback: "Feedback", store.KindEvent: "Events",
	store.KindRecommendation: "Recommendations", store.KindReminder: "Reminders",
}

// overviewOf lays out the range. A range of at most denseAt events is
// drawn from its events, one mark each; a denser one from the day counts
// the store keeps (TimelineStore.DayCounts) for its whole days, and the
// events of the parts of days at its ends, so that it reads a row per day
// rather than every event, however many there are.
func (p *Pages) overviewOf(ctx context.Context, c *store.Client, kinds []store.Kind, win window, now time.Time, loc *time.Location, text func(string) string) (*overview, error) {
	shown := shownKinds(kinds)
	// The whole days of the range, and of the 30 days before it for the
	// trend's first points.
	from := win.Since
	if !from.IsZero() {
		from = from.Add(-trendWindow)
	}
	all, err := p.Timeline.DayCounts(ctx, c.ID, from, win.Until)
	if err != nil {
		return nil, err
	}
	var lead, counts []store.DayCount
	whole := 0
	for _, d := range all {
		switch {
		case !slices.Contains(shown, d.Kind):
		case !d.Day.Before(win.Since):
			counts = append(counts, d)
			whole += d.Events
		case !d.Day.Add(24 * time.Hour).After(win.Since):
			lead = append(lead, d)
		}
	}
	if whole <= denseAt {
		events, err := p.eventsIn(ctx, c, kinds, win.Since, win.Until)
		if err != nil {
			return nil, err
		}
		start, end := span(win, now, len(events) > 0, func() (time.Time, time.Time) {
			return events[len(events)-1].Time, events[0].Time
		})
		samples := append(daySamples(lead, end), samplesOf(events)...)
		if len(events) > denseAt {
			return layoutDense(store.CountEvents(events), shown, start, end, loc, samples), nil
		}
		return layout(events, shown, start, end, loc, text, samples), nil
	}
	// The parts of days at the ends of the range.
	first, last := store.WholeDays(win.Since, win.Until)
	var edges []*store.Event
	if !win.Since.IsZero() && !store.DayFromNumber(first).Equal(win.Since) {
		e, err := p.eventsIn(ctx, c, kinds, win.Since, store.DayFromNumber(first))
		if err != nil {
			return nil, err
		}
		edges = append(edges, e...)
	}
	if !win.Until.IsZero() && !store.DayFromNumber(last).Equal(win.Until) {
		e, err := p.eventsIn(ctx, c, kinds, store.DayFromNumber(last), win.Until)
		if err != nil {
			return nil, err
		}
		edges = append(edges, e...)
	}
	start, end := span(win, now, true, func() (time.Time, time.Time) {
		return counts[0].Day, counts[len(counts)-1].Day.Add(24*time.Hour - time.Millisecond)
	})
	samples := append(daySamples(slices.Concat(lead, counts), end), samplesOf(edges)...)
	counts = append(counts, store.CountEvents(edges)...)
	store.SortDayCounts(counts)
	return layoutDense(counts, shown, start, end, loc, samples), nil
}

// daySamples are the scores of whole days for the trend, each from the
// day's middle (or the end of the range, for today's).
func daySamples(counts []store.DayCount, end time.Time) []sample {
	out := make([]sample, 0, len(counts))
	for _, d := range counts {
		out = append(out, sample{t: earlier(d.Day.Add(12*time.Hour), end), n: d.Scored, sum: d.SentimentSum})
	}
	return out
}

// eventsIn reads every event of the kinds in [since, until), newest first.
func (p *Pages) eventsIn(ctx context.Context, c *store.Client, kinds []store.Kind, since, until time.Time) ([]*store.Event, error) {
	q := store.EventQuery{Kinds: kinds, Since: since, Until: until, Limit: 1000}
	var events []*store.Event
	for {
		page, err := p.Timeline.Events(ctx, c.ID, q)
		if err != nil {
			return nil, err
		}
		events = append(events, page.Events...)
		if page.Next == "" {
			return events, nil
		}
		q.Cursor = page.Next
	}
}

// span is the stretch of time drawn for a window: its bounds, or where
// one is open, now or the oldest and newest of what it holds (given by
// bounds when there is some), with at least 30 days shown.
func span(win window, now time.Time, some bool, bounds func() (oldest, newest time.Time)) (start, end time.Time) {
	var oldest, newest time.Time
	if some {
		oldest, newest = bounds()
	}
	start, end = win.Since, win.Until
	if end.IsZero() {
		end = now
		if newest.After(end) {
			end = newest
		}
	}
	if start.IsZero() {
		start = end.Add(-30 * 24 * time.Hour)
		if some && oldest.Before(start) {
			start = oldest
		}
	}
	if !end.After(start) {
		end = start.Add(24 * time.Hour)
	}
	return start, end
}

// shownKinds are the lanes drawn: the kinds asked for, in the usual order,
// or all.
func shownKinds(kinds []store.Kind) []store.Kind {
	if len(kinds) == 0 {
		return store.Kinds
	}
	var shown []store.Kind
	for _, k := range store.Kinds {
		if slices.Contains(kinds, k) {
			shown = append(shown, k)
		}
	}
	return shown
}

// newOverview lays out the lanes, the axis and the sentiment panel.
func newOverview(shown []store.Kind, start, end time.Time, loc *time.Location) (*overview, map[store.Kind]int) {
	o := &overview{Start: start, End: end, Width: ovWidth, PlotLeft: ovLeft, PlotRight: ovWidth - ovRight,
		StartLabel: start.In(loc).Format("2 Jan 2006"), EndLabel: end.In(loc).Format("2 Jan 2006")}
	laneOf := map[store.Kind]int{}
	for i, k := range shown {
		top := ovTop + float64(i)*ovLane
		o.Lanes = append(o.Lanes, lane{Kind: k, Label: laneLabels[k], Top: top, Y: top + ovLane/2, Odd: i%2 == 1})
		laneOf[k] = i
	}
	lanesBottom := ovTop + float64(len(shown))*ovLane
	o.TrendTop = lanesBottom + 14
	o.TrendBottom = o.TrendTop + ovTrend - 14
	o.TrendMid = (o.TrendTop + o.TrendBottom) / 2
	o.Height = o.TrendBottom + 8
	o.Ticks = ticks(start, end, loc, o.x)
	return o, laneOf
}

// layout draws one mark per event.
func layout(events []*store.Event, shown []store.Kind, start, end time.Time, loc *time.Location, text func(string) string, samples []sample) *overview {
	o, laneOf := newOverview(shown, start, end, loc)
	o.Count = len(events)
	var maxNotional float64
	for _, e := range events {
		if a := e.Attrs.Order; a != nil {
			maxNotional = max(maxNotional, notional(a))
		}
	}
	for _, e := range events {
		i, ok := laneOf[e.Kind]
		if !ok {
			continue
		}
		o.Lanes[i].Count++
		m := mark{X: o.x(e.Time), Y: o.Lanes[i].Y, R: 4.5, Time: e.Time, ID: e.ID.String(), Count: 1}
		title := e.Time.In(loc).Format("2 Jan 2006 15:04 MST") + " · " + string(e.Kind) + ": " + oneLine(text(e.Summary), 120)
		switch a := e.Attrs.Order; {
		case e.Kind == store.KindOrder && a != nil:
			n := notional(a)
			if maxNotional > 0 {
				m.R = 3 + 7*math.Sqrt(n/maxNotional)
			}
			status := a.Status
			if status == "" {
				status = "placed"
			}
			m.Class = "mark order " + cssWord(a.Side) + " st-" + cssWord(status)
			title += fmt.Sprintf(" · notional %s", formatNumber(n))
		default:
			label := "none"
			if s := e.Sentiment; s != nil {
				label = cssWord(s.Label)
				title += " · sentiment " + s.String()
			}
			m.Class = "mark s-" + label
		}
		m.Title = title
		o.Marks = append(o.Marks, m)
	}
	// Draw the biggest orders first, so the small ones stay visible on top.
	sort.SliceStable(o.Marks, func(i, j int) bool { return o.Marks[i].R > o.Marks[j].R })
	o.trend(samples)
	return o
}

// layoutDense draws a dense range from its counts by day: per lane, one
// mark per stretch of whole days (UTC) that holds events, sized by how many
// (orders: by their notional), coloured by the mean sentiment of those
// scored (orders: by the side with more notional). A stretch has as many
// days as keep a lane to denseBins marks.
func layoutDense(counts []store.DayCount, shown []store.Kind, start, end time.Time, loc *time.Location, samples []sample) *overview {
	o, laneOf := newOverview(shown, start, end, loc)
	o.Dense = true
	day0 := store.DayNumber(start)
	days := store.DayNumber(end.Add(-time.Millisecond)) - day0 + 1
	per := (days + denseBins - 1) / denseBins
	type acc struct {
		n, scored int
		sum       float64
		buy, sell float64
		kind      store.Kind
		lane      int
		bin       int64
	}
	bins := map[[2]int64]*acc{}
	for _, d := range counts {
		i, ok := laneOf[d.Kind]
		if !ok {
			continue
		}
		o.Count += d.Events
		o.Lanes[i].Count += d.Events
		b := (store.DayNumber(d.Day) - day0) / per
		a := bins[[2]int64{int64(i), b}]
		if a == nil {
			a = &acc{kind: d.Kind, lane: i, bin: b}
			bins[[2]int64{int64(i), b}] = a
		}
		a.n += d.Events
		a.scored += d.Scored
		a.sum += d.SentimentSum
		a.buy += d.Bought
		a.sell += d.Sold
	}
	var maxN, maxNotional float64
	for _, a := range bins {
		maxN = max(maxN, float64(a.n))
		maxNotional = max(maxNotional, a.buy+a.sell)
	}
	for _, a := range bins {
		from := store.DayFromNumber(day0 + a.bin*per)
		to := from.AddDate(0, 0, int(per))
		from, to = later(from, start), earlier(to, end)
		m := mark{X: o.x(from.Add(to.Sub(from) / 2)), Y: o.Lanes[a.lane].Y, R: round1(2.5 + 6*math.Sqrt(float64(a.n)/maxN)),
			Time: to.Add(-time.Millisecond), Count: a.n}
		title := fmt.Sprintf("%d %s, %s – %s", a.n, strings.ToLower(laneLabels[a.kind]), from.In(loc).Format("2 Jan 15:04"), to.In(loc).Format("2 Jan 2006 15:04 MST"))
		switch {
		case a.kind == store.KindOrder && a.buy+a.sell > 0:
			side := "buy"
			if a.sell > a.buy {
				side = "sell"
			}
			m.R = round1(3 + 7*math.Sqrt((a.buy+a.sell)/maxNotional))
			m.Class = "mark order " + side + " st-filled"
			title += " · notional bought " + formatNumber(a.buy) + ", sold " + formatNumber(a.sell)
		case a.scored > 0:
			mean := a.sum / float64(a.scored)
			label := "neutral"
			if mean > 0.2 {
				label = "positive"
			} else if mean < -0.2 {
				label = "negative"
			}
			m.Class = "mark s-" + label
			title += fmt.Sprintf(" · mean sentiment %+.2f of %d scored", mean, a.scored)
		default:
			m.Class = "mark s-none"
		}
		m.Title = title
		o.Marks = append(o.Marks, m)
	}
	sort.Slice(o.Marks, func(i, j int) bool {
		if o.Marks[i].R != o.Marks[j].R {
			return o.Marks[i].R > o.Marks[j].R
		}
		return o.Marks[i].Time.Before(o.Marks[j].Time)
	})
	o.trend(samples)
	return o
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// link points each mark at its entry in the list: the list from that
// event's time on, scrolled to it (for a mark of several events, the list
// from the newest of them on).
func (o *overview) link(base string) {
	sep := "&"
	if base == "?" {
		sep = ""
	}
	for i := range o.Marks {
		m := &o.Marks[i]
		m.Href = base + sep + "before=" + strconv.FormatInt(m.Time.UnixMilli()+1, 10)
		if m.ID != "" {
			m.Href += "#e-" + m.ID
		} else {
			m.Href += "#list"
		}
	}
}

// CountText is the count of events drawn, as people write it (18,251).
func (o *overview) CountText() string { return formatNumber(float64(o.Count)) }

// MarksSVG is the marks as SVG, each a link around a circle with its
// title: written here rather than by the template, whose escaping of
// hundreds of marks would cost most of the page's time.
func (o *overview) MarksSVG() template.HTML {
	var b strings.Builder
	b.Grow(len(o.Marks) * 256)
	for _, m := range o.Marks {
		b.WriteString(`<a href="`)
		b.WriteString(html.EscapeString(m.Href))
		b.WriteString(`"><circle class="`)
		b.WriteString(html.EscapeString(m.Class))
		b.WriteString(`"`)
		if m.ID == "" {
			fmt.Fprintf(&b, ` data-count="%d"`, m.Count)
		}
		fmt.Fprintf(&b, ` cx="%s" cy="%s" r="%s"><title>`, ff(m.X), ff(m.Y), ff(m.R))
		b.WriteString(html.EscapeString(m.Title))
		b.WriteString(`</title></circle></a>`)
	}
	return template.HTML(b.String())
}

func (o *overview) x(t time.Time) float64 {
	span := o.End.Sub(o.Start).Seconds()
	f := t.Sub(o.Start).Seconds() / span
	return round1(ovLeft + clamp(f, 0, 1)*(ovWidth-ovLeft-ovRight))
}

func (o *overview) y(score float64) float64 {
	return round1(o.TrendMid - clamp(score, -1, 1)*(o.TrendBottom-o.TrendTop)/2)
}

// sample is n scored events with scores summing to sum, at t (an event's
// time, or the middle of a day counted).
type sample struct {
	t   time.Time
	n   int
	sum float64
}

// samplesOf are the scored events as samples.
func samplesOf(events []*store.Event) []sample {
	var out []sample
	for _, e := range events {
		if e.Sentiment != nil {
			out = append(out, sample{e.Time, 1, e.Sentiment.Score})
		}
	}
	return out
}

// trend draws the mean sentiment of the 30 days up to each of trendPoints
// moments across the range; where those 30 days hold no scored event the
// line breaks.
func (o *overview) trend(pts []sample) {
	pts = slices.DeleteFunc(pts, func(s sample) bool { return s.n == 0 })
	sort.Slice(pts, func(i, j int) bool { return pts[i].t.Before(pts[j].t) })
	for _, p := range pts {
		o.TrendSamples += p.n
	}
	if len(pts) == 0 {
		return
	}
	var b strings.Builder
	lo, hi := 0, 0 // pts[lo:hi] lie in (t-30d, t]
	sum, n := 0.0, 0
	pen := false
	last := 0.0
	span := o.End.Sub(o.Start)
	for i := 0; i <= trendPoints; i++ {
		t := o.Start.Add(time.Duration(float64(span) * float64(i) / trendPoints))
		for hi < len(pts) && !pts[hi].t.After(t) {
			sum += pts[hi].sum
			n += pts[hi].n
			hi++
		}
		for lo < hi && !pts[lo].t.After(t.Add(-trendWindow)) {
			sum -= pts[lo].sum
			n -= pts[lo].n
			lo++
		}
		if hi == lo {
			pen = false
			continue
		}
		mean := sum / float64(n)
		last = mean
		cmd := "L"
		if !pen {
			cmd = "M"
			pen = true
		}
		fmt.Fprintf(&b, "%s%s %s ", cmd, ff(o.x(t)), ff(o.y(mean)))
	}
	o.TrendPath = strings.TrimSpace(b.String())
	o.TrendLatest = store.DescribeMeanSentiment(last)
}

// ticks labels the axis: weeks for a short range, months for up to two
// years, quarters beyond.
func ticks(start, end time.Time, loc *time.Location, x func(time.Time) float64) []tick {
	var out []tick
	s, e := start.In(loc), end.In(loc)
	span := end.Sub(start)
	switch {
	case span <= 60*24*time.Hour:
		t := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
		for t.Weekday() != time.Monday || t.Before(s) {
			t = t.AddDate(0, 0, 1)
		}
		for ; !t.After(e); t = t.AddDate(0, 0, 7) {
			out = append(out, tick{x(t), t.Format("2 Jan")})
		}
	default:
		step := 1
		if span > 2*366*24*time.Hour {
			step = 3
		}
		t := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, loc)
		if t.Before(s) {
			t = t.AddDate(0, 1, 0)
		}
		for ; !t.After(e); t = t.AddDate(0, step, 0) {
			label := t.Format("Jan")
			if t.Month() == time.January || len(out) == 0 {
				label = t.Format("Jan 2006")
			}
			out = append(out, tick{x(t), label})
		}
	}
	return out
}

func notional(a *store.OrderAttrs) float64 { return math.Abs(a.Quantity * a.Price) }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func ff(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// cssWord keeps the letters, digits and dashes of s, lower case.
func cssWord(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '_' || r == ' ':
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}
