package bot

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

var logKinds = map[string]store.Kind{
	"call": store.KindCall, "meeting": store.KindMeeting, "chat": store.KindChat,
	"email": store.KindEmail, "recommendation": store.KindRecommendation, "rec": store.KindRecommendation,
}

var logKindNames = []string{"call", "meeting", "chat", "email", "recommendation"}

// /log <client> call|meeting|chat|email|recommendation <summary>
func logCmd(ctx context.Context, c *call) Response {
	if c.args.Len() < 2 {
		return c.usageError("Name the client, what happened (%s) and a summary.", strings.Join(logKindNames, ", "))
	}
	kind, ok := logKinds[strings.TrimSuffix(strings.ToLower(c.args.At(1).Text), "s")]
	if !ok {
		return c.usageError("%q is not something /log records: use %s.", c.args.At(1).Text, strings.Join(logKindNames, ", "))
	}
	i := 2
	attrs := store.Attrs{}
	if kind == store.KindCall {
		ca := &store.CallAttrs{}
		for ; i < c.args.Len(); i++ {
			t := strings.ToLower(c.args.At(i).Text)
			if d, ok := callDirections[t]; ok && ca.Direction == "" {
				ca.Direction = d
			} else if dur, ok := parseCallDuration(t); ok && ca.Duration == 0 {
				ca.Duration = dur
			} else {
				break
			}
		}
		attrs.Call = ca
	}
	text := c.args.Rest(i)
	if text == "" {
		return c.usageError("What was the %s about? Add a summary.", kind)
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	e := c.event(cl, kind, text)
	e.Attrs = attrs
	return c.log(ctx, cl, e)
}

var callDirections = map[string]string{"in": "inbound", "inbound": "inbound", "incoming": "inbound", "out": "outbound", "outbound": "outbound", "outgoing": "outbound"}

var minutesRE = regexp.MustCompile(`^(\d{1,4})\s*(min|mins|minutes?)$`)

func parseCallDuration(s string) (time.Duration, bool) {
	if m := minutesRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		s = strconv.Itoa(n) + "m"
	}
	if len(s) < 2 || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > 24*time.Hour {
		return 0, false
	}
	return d, true
}

// /note <client> <text>
func noteCmd(ctx context.Context, c *call) Response {
	text := c.args.Rest(1)
	if c.args.Len() == 0 || text == "" {
		return c.usageError("Name the client, then write the note.")
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	e := c.event(cl, store.KindNote, text)
	if ms := mentions(text); len(ms) > 0 {
		e.Attrs.Extra = map[string]string{"mentions": strings.Join(ms, ",")}
	}
	return c.log(ctx, cl, e)
}

var ratingRE = regexp.MustCompile(`^(\d+)(/5)?$`)

// numberRE is a word that looks like a rating but is not a whole number
// (3.5, 4,5, -2, 3.5/5): refused rather than kept as the client's words.
var numberRE = regexp.MustCompile(`^[-+]?\d*[.,]?\d+(/\d+)?$`)

// /feedback <client> [1-5] <text>
func feedbackCmd(ctx context.Context, c *call) Response {
	if c.args.Len() < 2 {
		return c.usageError("Name the client, then what they said (optionally a rating from 1 to 5 first).")
	}
	i, rating := 1, 0
	w := c.args.At(1).Text
	if m := ratingRE.FindStringSubmatch(w); m != nil {
		rating, _ = strconv.Atoi(m[1])
		if rating < 1 || rating > 5 {
			return c.usageError("A rating is a whole number from 1 (poor) to 5 (excellent), not %s.", w)
		}
		i = 2
	} else if numberRE.MatchString(w) {
		return c.usageError("A rating is a whole number from 1 (poor) to 5 (excellent), not %s.", w)
	} else if n := strings.Count(w, "★") + strings.Count(w, "⭐"); n > 0 && n == utf8.RuneCountInString(strings.ReplaceAll(w, "\uFE0F", "")) && n <= 5 {
		rating, i = n, 2
	}
	text := c.args.Rest(i)
	if text == "" {
		return c.usageError("What did the client say? Add their words after the rating.")
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	e := c.event(cl, store.KindFeedback, text)
	e.Attrs.Feedback = &store.FeedbackAttrs{Rating: rating}
	return c.log(ctx, cl, e)
}

// event is a timeline entry the actor writes now.
func (c *call) event(cl *store.Client, kind store.Kind, text string) *store.Event {
	return ingest.Written{Client: cl.ID, Kind: kind, Source: store.SourceCommand, SourceID: c.sourceID(),
		Actor: c.actor.ID, At: c.b.now(), Text: text}.Event()
}

// log stores an event the command exists for: failing to store it fails the command.
func (c *call) log(ctx context.Context, cl *store.Client, e *store.Event) Response {
	if err := c.b.rec.Record(ctx, e); err != nil {
		return c.b.fail(err, "log to "+cl.Handle)
	}
	return c.logged(cl, e)
}

// logged answers an event logged to a client's timeline.
func (c *call) logged(cl *store.Client, e *store.Event) Response {
	line := eventLine(e, c.actor)
	return Response{Text: fmt.Sprintf("Logged to %s: %s", cl.Handle, line), Blocks: []Block{
		Paragraph{fmt.Sprintf("Logged to %s's timeline:", cl.Handle)},
		List{Items: []string{line}},
		Actions{{Label: "Open timeline", Action: ActionOpenTimeline, Value: cl.Handle}},
	}}
}

// /timeline <client> [kind …] [since <date>]
func timelineCmd(ctx context.Context, c *call) Response {
	if c.args.Len() == 0 {
		return c.usageError("Which client?")
	}
	// One read of the latest events: the list shows the first few, the
	// summary (kinds, sentiment, orders) covers them all. A separate query
	// for orders would scan a busy client's whole timeline for none.
	q := store.EventQuery{Limit: timelineSummarized}
	for i := 1; i < c.args.Len(); i++ {
		t := strings.ToLower(c.args.At(i).Text)
		if t == "since" {
			if i+1 >= c.args.Len() {
				return c.usageError("Since when? Write since 2026-01-31, or since 7d.")
			}
			since, err := parseSince(c.args.At(i+1).Text, c.b.now(), c.actor.Location)
			if err != nil {
				return c.usageError("%s.", err.Error()) // "since: …", as typed
			}
			q.Since = since
			i++
			continue
		}
		k, err := store.ParseKind(strings.TrimSuffix(t, "s"))
		if err != nil {
			return c.usageError("%q is not a kind of event (%s) nor since <date>.", c.args.At(i).Text, joinList(store.Kinds))
		}
		q.Kinds = append(q.Kinds, k)
	}
	cl, r := c.client(ctx, c.args.At(0).Text, false)
	if r != nil {
		return *r
	}
	page, err := c.b.timeline.Events(ctx, cl.ID, q)
	if err != nil {
		return c.b.fail(err, "read "+cl.Handle+"'s timeline")
	}
	return c.b.timelineResponse(cl, c.actor, q, page)
}

// How many events /timeline lists, and how many its summary covers.
const (
	timelineListed     = 10
	timelineSummarized = 25
)

func (b *Bot) timelineResponse(cl *store.Client, a *Actor, q store.EventQuery, page store.EventPage) Response {
	scope := ""
	if len(q.Kinds) > 0 {
		scope += " (" + joinList(q.Kinds) + ")"
	}
	if !q.Since.IsZero() {
		scope += " since " + q.Since.In(a.Location).Format("2006-01-02")
	}
	title := cl.Name + " (" + cl.Handle + ") — timeline"
	if len(page.Events) == 0 {
		return textResponse(OK, "Nothing on %s's timeline%s yet.", cl.Handle, scope)
	}
	counts := map[store.Kind]int{}
	var sum float64
	scored := 0
	var items, orders []string
	for i, e := range page.Events {
		counts[e.Kind]++
		if e.Sentiment != nil && !(e.Attrs.Chat != nil && e.Attrs.Chat.Deleted) {
			sum += e.Sentiment.Score
			scored++
		}
		if i < timelineListed {
			items = append(items, eventLine(e, a))
		}
		if e.Kind == store.KindOrder && len(orders) < 3 && len(q.Kinds) != 1 {
			orders = append(orders, eventLine(e, a))
		}
	}
	var byKind []string
	for _, k := range store.Kinds {
		if n := counts[k]; n > 0 {
			byKind = append(byKind, store.Count(n, string(k)))
		}
	}
	summary := fmt.Sprintf("Latest %s%s: %s", store.Count(len(page.Events), "event"), scope, strings.Join(byKind, ", "))
	if scored > 0 {
		avg := sum / float64(scored)
		summary += fmt.Sprintf(" · sentiment %s over %d", store.DescribeMeanSentiment(avg), scored)
	}
	blocks := []Block{Heading{title}, Context{summary}, List{Items: items}}
	if len(orders) > 0 {
		blocks = append(blocks, List{Title: "Latest orders", Items: orders})
	}
	buttons := Actions{{Label: "Add note", Action: ActionAddNote, Value: cl.Handle}}
	if u := b.timelineURL(cl.Handle, a.ID); u != "" {
		v := url.Values{}
		for _, k := range q.Kinds {
			v.Add("kind", string(k))
		}
		if len(v) > 0 {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + v.Encode()
		}
		label := "Web timeline"
		if page.Next != "" {
			label = "Older events on the web"
		}
		buttons = append(buttons, Button{Label: label, URL: u})
	}
	blocks = append(blocks, buttons)
	text := summary
	return Response{Text: cl.Handle + ": " + text, Blocks: blocks}
}

// eventLine is one event on one line, in the reader's time zone.
func eventLine(e *store.Event, a *Actor) string {
	parts := []string{formatTime(e.Time, a.Location), string(e.Kind)}
	summary := strings.ReplaceAll(e.Summary, "\n", " ")
	if o := e.Attrs.Order; o != nil {
		summary = orderText(o) + nonEmpty(" — ", summary)
	}
	if f := e.Attrs.Feedback; f != nil && f.Rating > 0 {
		summary = fmt.Sprintf("%d/5 — %s", f.Rating, summary)
	}
	if ca := e.Attrs.Call; ca != nil {
		summary = joinNonEmpty(" ", ca.Direction, durationText(ca.Duration)) + nonEmpty(" — ", summary)
	}
	if ch := e.Attrs.Chat; ch != nil && e.Kind == store.KindChat {
		if ch.Deleted {
			summary = "(deleted) " + summary
		} else if ch.Edited {
			summary += " (edited)"
		}
	}
	parts = append(parts, strings.TrimPrefix(summary, " — "))
	if s := e.Sentiment; s != nil {
		parts = append(parts, s.String())
	}
	if e.Actor != "" {
		parts = append(parts, userRef(e.Actor))
	}
	return strings.Join(parts, " · ")
}

func orderText(o *store.OrderAttrs) string {
	s := strings.ReplaceAll(o.Status, "_", " ") + " " + o.Side + " " + num(o.Quantity) + " " + joinNonEmpty(" ", o.Contract, o.Commodity)
	if o.Price != 0 {
		s += " @ " + num(o.Price)
	}
	if o.OrderType != "" {
		s += " " + o.OrderType
	}
	if o.Filled != 0 && o.Filled != o.Quantity {
		s += fmt.Sprintf(" (%s filled)", num(o.Filled))
	}
	return s
}

func durationText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return store.FormatDuration(d)
}

func nonEmpty(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

var relativeRE = regexp.MustCompile(`^(\d{1,4})\s*(d|days?|w|weeks?|m|months?|y|years?)$`)

// parseSince reads a date (YYYY-MM-DD, midnight in the user's zone) or a
// span back from now (7d, 4w, 3m, 1y).
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "today":
		y, m, d := now.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	case "yesterday":
		y, m, d := now.In(loc).AddDate(0, 0, -1).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	}
	if m := relativeRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		switch m[2][0] {
		case 'd':
			return now.AddDate(0, 0, -n), nil
		case 'w':
			return now.AddDate(0, 0, -7*n), nil
		case 'm':
			return now.AddDate(0, -n, 0), nil
		default:
			return now.AddDate(-n, 0, 0), nil
		}
	}
	d, err := store.ParseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since: %q is not a date; write 2026-01-31, or 7d, 4w, 3m for days, weeks or months ago", s)
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc), nil
}
