package web

import (
	"context"
	"fmt"
	"math"
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
	ovLeft      = 118.0 // lane labels
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
	Capped       bool // more events than maxMarks: the newest are drawn
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

// Beyond denseAt events, a lane's marks stand for the events of one of
// denseBins stretches of the range each, so that the page stays light.
const (
	denseAt   = 800
	denseBins = 100
)

// laneLabels name the lanes as people do.
var laneLabels = map[store.Kind]string{
	store.KindEmail: "Emails", store.KindChat: "Chats", store.KindCall: "Calls", store.KindMeeting: "Meetings",
	store.KindOrder: "Orders", store.KindNote: "Notes", store.KindFeedback: "Feedback", store.KindEvent: "Events",
	store.KindRecommendation: "Recommendations", store.KindReminder: "Reminders",
}

// overviewOf reads the events of the range (at most maxMarks, newest first)
// and lays them out.
func (p *Pages) overviewOf(ctx context.Context, c *store.Client, kinds []store.Kind, win window, now time.Time, loc *time.Location, text func(string) string) (*overview, error) {
	q := store.EventQuery{Kinds: kinds, Since: win.Since, Until: win.Until, Limit: 1000}
	var events []*store.Event
	capped := false
	for {
		page, err := p.Timeline.Events(ctx, c.ID, q)
		if err != nil {
			return nil, err
		}
		events = append(events, page.Events...)
		if page.Next == "" {
			break
		}
		if len(events) >= maxMarks {
			events, capped = events[:maxMarks], true
			break
		}
		q.Cursor = page.Next
	}
	start, end := win.Since, win.Until
	if end.IsZero() {
		end = now
		if len(events) > 0 && events[0].Time.After(end) {
			end = events[0].Time
		}
	}
	if start.IsZero() || capped {
		start = end.Add(-30 * 24 * time.Hour)
		if n := len(events); n > 0 && events[n-1].Time.Before(start) {
			start = events[n-1].Time
		}
	}
	if !end.After(start) {
		end = start.Add(24 * time.Hour)
	}
	return layout(events, kinds, start, end, loc, capped, text), nil
}

func layout(events []*store.Event, kinds []store.Kind, start, end time.Time, loc *time.Location, capped bool, text func(string) string) *overview {
	o := &overview{Start: start, End: end, Width: ovWidth, Count: len(events), Capped: capped,
		PlotLeft: ovLeft, PlotRight: ovWidth - ovRight,
		StartLabel: start.In(loc).Format("2 Jan 2006"), EndLabel: end.In(loc).Format("2 Jan 2006")}
	shown := store.Kinds
	if len(kinds) > 0 {
		shown = nil
		for _, k := range store.Kinds {
			for _, want := range kinds {
				if k == want {
					shown = append(shown, k)
				}
			}
		}
	}
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

	var maxNotional float64
	for _, e := range events {
		if a := e.Attrs.Order; a != nil {
			maxNotional = max(maxNotional, notional(a))
		}
	}
	if len(events) > denseAt {
		o.Dense = true
		o.bin(events, laneOf, loc)
		o.trend(events)
		return o
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
	o.trend(events)
	return o
}

// bin lays out a dense range: per lane, one mark per stretch that holds
// events, sized by how many (orders: by their notional), coloured by the
// mean sentiment of those scored (orders: by the side with more notional).
func (o *overview) bin(events []*store.Event, laneOf map[store.Kind]int, loc *time.Location) {
	type acc struct {
		n, scored    int
		sum          float64
		buy, sell    float64
		first, last  time.Time
		kind         store.Kind
		lane, bucket int
	}
	span := o.End.Sub(o.Start)
	bins := map[[2]int]*acc{}
	for _, e := range events {
		i, ok := laneOf[e.Kind]
		if !ok {
			continue
		}
		o.Lanes[i].Count++
		b := int(float64(denseBins) * float64(e.Time.Sub(o.Start)) / float64(span))
		b = max(0, min(denseBins-1, b))
		a := bins[[2]int{i, b}]
		if a == nil {
			a = &acc{first: e.Time, last: e.Time, kind: e.Kind, lane: i, bucket: b}
			bins[[2]int{i, b}] = a
		}
		a.n++
		if e.Time.Before(a.first) {
			a.first = e.Time
		}
		if e.Time.After(a.last) {
			a.last = e.Time
		}
		if s := e.Sentiment; s != nil {
			a.scored++
			a.sum += s.Score
		}
		if ord := e.Attrs.Order; ord != nil {
			if ord.Side == "sell" {
				a.sell += notional(ord)
			} else {
				a.buy += notional(ord)
			}
		}
	}
	var maxN, maxNotional float64
	for _, a := range bins {
		maxN = max(maxN, float64(a.n))
		maxNotional = max(maxNotional, a.buy+a.sell)
	}
	for _, a := range bins {
		mid := o.Start.Add(time.Duration(float64(span) * (float64(a.bucket) + 0.5) / denseBins))
		m := mark{X: o.x(mid), Y: o.Lanes[a.lane].Y, R: round1(2.5 + 6*math.Sqrt(float64(a.n)/maxN)), Time: a.last, Count: a.n}
		title := fmt.Sprintf("%d %s, %s – %s", a.n, strings.ToLower(laneLabels[a.kind]), a.first.In(loc).Format("2 Jan 15:04"), a.last.In(loc).Format("2 Jan 2006 15:04 MST"))
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

func (o *overview) x(t time.Time) float64 {
	span := o.End.Sub(o.Start).Seconds()
	f := t.Sub(o.Start).Seconds() / span
	return round1(ovLeft + clamp(f, 0, 1)*(ovWidth-ovLeft-ovRight))
}

func (o *overview) y(score float64) float64 {
	return round1(o.TrendMid - clamp(score, -1, 1)*(o.TrendBottom-o.TrendTop)/2)
}

// trend draws the mean sentiment of the 30 days up to each of trendPoints
// moments across the range; where those 30 days hold no scored event the
// line breaks.
func (o *overview) trend(events []*store.Event) {
	type scored struct {
		t time.Time
		s float64
	}
	var pts []scored
	for _, e := range events {
		if e.Sentiment != nil {
			pts = append(pts, scored{e.Time, e.Sentiment.Score})
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].t.Before(pts[j].t) })
	o.TrendSamples = len(pts)
	if len(pts) == 0 {
		return
	}
	var b strings.Builder
	lo, hi := 0, 0 // pts[lo:hi] lie in (t-30d, t]
	sum := 0.0
	pen := false
	last := 0.0
	span := o.End.Sub(o.Start)
	for i := 0; i <= trendPoints; i++ {
		t := o.Start.Add(time.Duration(float64(span) * float64(i) / trendPoints))
		for hi < len(pts) && !pts[hi].t.After(t) {
			sum += pts[hi].s
			hi++
		}
		for lo < hi && !pts[lo].t.After(t.Add(-trendWindow)) {
			sum -= pts[lo].s
			lo++
		}
		if hi == lo {
			pen = false
			continue
		}
		mean := sum / float64(hi-lo)
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
