package reminders

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// How much of each list the digest's message shows; the thread below it
// has everything. Slack shows at most 50 blocks a message.
const (
	mainOverdue    = 6 // follow-ups with buttons
	mainClientRows = 4 // sentiment drops and milestones with a timeline button
	mainNames      = 5 // clients named per segment change
)

// DigestResponse renders a digest: the message (exceptions first, each
// with its buttons) and, when the message had to leave things out, the
// details for its thread (nil otherwise). bot/slack renders both as Block
// Kit; bot.PlainText as text.
func DigestResponse(d *Digest) (msg bot.Response, details *bot.Response) {
	title := digestTitle(d)
	if d.Quiet() {
		line := fmt.Sprintf("%s: a quiet %s. Nothing overdue, no client changes, no trading, no client messages, no milestones in the next 7 days.",
			title, periodNoun(d))
		return bot.Response{Text: line, Blocks: []bot.Block{bot.Paragraph{Text: line}}}, nil
	}
	r := &digestRender{d: d}
	r.main = append(r.main, bot.Heading{Text: title}, bot.Context{Text: r.periodLine()})
	r.overdue()
	r.segments()
	r.sentiment()
	r.milestones()
	r.activity()
	r.responses()
	text := title + ". " + r.summary()
	msg = bot.Response{Text: text, Blocks: r.main}
	if !r.cut {
		return msg, nil
	}
	msg.Blocks = append(msg.Blocks, bot.Context{Text: "More in the thread below."})
	return msg, &bot.Response{Text: title + ": details", Blocks: append([]bot.Block{bot.Heading{Text: "Details: " + title}}, r.details...)}
}

// DigestText is the digest as text for a terminal: the message, then its
// thread's details.
func DigestText(d *Digest) string {
	msg, details := DigestResponse(d)
	out := bot.PlainText(msg)
	if details != nil {
		out += "\n" + bot.PlainText(*details)
	}
	return out
}

type digestRender struct {
	d       *Digest
	main    []bot.Block
	details []bot.Block
	cut     bool // main leaves something out that details has
}

func digestTitle(d *Digest) string {
	day := d.To.In(d.Loc).Format("Mon 2 Jan 2006")
	switch {
	case d.Preview:
		return fmt.Sprintf("%s desk: digest so far, %s", d.Desk, d.To.In(d.Loc).Format("Mon 2 Jan 2006 15:04"))
	case d.Frequency == store.DigestWeekly:
		return fmt.Sprintf("%s desk: weekly digest, week to %s", d.Desk, day)
	}
	return fmt.Sprintf("%s desk: daily digest, %s", d.Desk, day)
}

func periodNoun(d *Digest) string {
	if d.Frequency == store.DigestWeekly {
		return "week"
	}
	return "day"
}

func (r *digestRender) periodLine() string {
	d := r.d
	line := fmt.Sprintf("From %s to %s.", d.From.In(d.Loc).Format("Mon 2 Jan 15:04"), d.To.In(d.Loc).Format("Mon 2 Jan 15:04 MST"))
	if d.Late > 0 {
		line += fmt.Sprintf(" Posted %s late: BrokerSync was not running at %s.", duration(d.Late), d.To.In(d.Loc).Format("15:04 MST"))
	}
	return line
}

func (r *digestRender) summary() string {
	d := r.d
	n := 0
	for _, bo := range d.Overdue {
		n += len(bo.Items)
	}
	parts := []string{plural(n, "overdue follow-up", "overdue follow-ups")}
	if len(d.Sentiment) > 0 {
		parts = append(parts, plural(len(d.Sentiment), "sentiment drop", "sentiment drops"))
	}
	parts = append(parts, plural(d.Activity.Fills, "fill", "fills"), plural(len(d.Activity.NewClients), "new client", "new clients"))
	if len(d.Milestones) > 0 {
		parts = append(parts, plural(len(d.Milestones), "milestone coming", "milestones coming"))
	}
	return strings.Join(parts, ", ") + "."
}

func (r *digestRender) both(b ...bot.Block) {
	r.main = append(r.main, b...)
	r.details = append(r.details, b...)
}

func (r *digestRender) overdue() {
	d := r.d
	total := 0
	for _, bo := range d.Overdue {
		total += len(bo.Items)
	}
	if total == 0 {
		r.both(bot.List{Title: "Overdue follow-ups: none"})
		return
	}
	head := bot.List{Title: fmt.Sprintf("Overdue follow-ups: %d, for %s", total, plural(len(d.Overdue), "broker", "brokers"))}
	r.both(head)
	shown := 0
	for _, bo := range d.Overdue {
		line := fmt.Sprintf("<@%s>: %d overdue", bo.Broker, len(bo.Items))
		var items []string
		for _, it := range bo.Items {
			items = append(items, r.overdueLine(it))
		}
		r.details = append(r.details, bot.List{Title: line, Items: items})
		if shown >= mainOverdue {
			r.cut = true
			continue
		}
		r.main = append(r.main, bot.Paragraph{Text: line})
		for i, it := range bo.Items {
			if shown >= mainOverdue {
				r.main = append(r.main, bot.Context{Text: fmt.Sprintf("and %d more of <@%s>'s in the thread", len(bo.Items)-i, bo.Broker)})
				r.cut = true
				break
			}
			shown++
			r.main = append(r.main, bot.Paragraph{Text: "• " + r.overdueLine(it)}, bot.Actions{
				{Label: "Open timeline", Action: bot.ActionOpenTimeline, Value: it.Client.Handle},
				{Label: "Snooze to tomorrow", Action: bot.ActionDigestSnooze, Value: it.Reminder.String() + " tomorrow"},
				{Label: "Reassign to…", Action: bot.ActionDigestReassign, Value: it.Reminder.String(), PickUser: true},
			})
		}
	}
}

func (r *digestRender) overdueLine(it OverdueItem) string {
	late := r.d.To.Sub(it.Due)
	return fmt.Sprintf("%s: %s (due %s, %s overdue)", clientName(it.Client), it.Text, it.Due.In(r.d.Loc).Format("Mon 2 Jan 15:04"), duration(late))
}

func clientName(c ClientRef) string { return fmt.Sprintf("%s (%s)", c.Handle, c.Name) }

func (r *digestRender) segments() {
	if len(r.d.Segments) == 0 {
		return
	}
	var short, full []string
	for _, s := range r.d.Segments {
		short = append(short, segmentLine(s, mainNames))
		full = append(full, segmentLine(s, math.MaxInt))
		if len(s.Entered) > mainNames || len(s.Left) > mainNames {
			r.cut = true
		}
	}
	r.main = append(r.main, bot.List{Title: "Segment changes", Items: short})
	r.details = append(r.details, bot.List{Title: "Segment changes", Items: full})
}

func segmentLine(s SegmentMoves, most int) string {
	names := func(rs []ClientRef) string {
		var hs []string
		for i, c := range rs {
			if i == most {
				hs = append(hs, fmt.Sprintf("and %d more", len(rs)-most))
				break
			}
			hs = append(hs, c.Handle)
		}
		return strings.Join(hs, ", ")
	}
	var parts []string
	if len(s.Entered) > 0 {
		parts = append(parts, fmt.Sprintf("%d entered (%s)", len(s.Entered), names(s.Entered)))
	}
	if len(s.Left) > 0 {
		parts = append(parts, fmt.Sprintf("%d left (%s)", len(s.Left), names(s.Left)))
	}
	return s.Segment + ": " + strings.Join(parts, "; ")
}

// clientRows lists events about clients: in the message the first few, each
// with its timeline button; all of them in the details.
func (r *digestRender) clientRows(title string, lines []string, clients []ClientRef) {
	if len(lines) == 0 {
		return
	}
	r.details = append(r.details, bot.List{Title: title, Items: lines})
	r.main = append(r.main, bot.List{Title: title})
	for i, line := range lines {
		if i == mainClientRows {
			r.main = append(r.main, bot.Context{Text: fmt.Sprintf("and %d more in the thread", len(lines)-i)})
			r.cut = true
			break
		}
		r.main = append(r.main, bot.Paragraph{Text: "• " + line},
			bot.Actions{{Label: "Open timeline", Action: bot.ActionOpenTimeline, Value: clients[i].Handle}})
	}
}

func (r *digestRender) sentiment() {
	var lines []string
	var clients []ClientRef
	for _, s := range r.d.Sentiment {
		lines = append(lines, fmt.Sprintf("%s, %s: %s", clientName(s.Client), s.At.In(r.d.Loc).Format("Mon 2 Jan 15:04"), s.Text))
		clients = append(clients, s.Client)
	}
	r.clientRows("Sentiment drops", lines, clients)
}

func (r *digestRender) milestones() {
	var lines []string
	var clients []ClientRef
	for _, m := range r.d.Milestones {
		lines = append(lines, fmt.Sprintf("%s, %s: %s", m.Due.In(r.d.Loc).Format("Mon 2 Jan"), clientName(m.Client), m.Text))
		clients = append(clients, m.Client)
	}
	if len(lines) == 0 {
		r.both(bot.List{Title: "Milestones in the next 7 days: none"})
		return
	}
	r.clientRows("Milestones in the next 7 days", lines, clients)
}

func (r *digestRender) activity() {
	a := r.d.Activity
	r.both(bot.List{Title: "Activity"}, bot.Fields{
		{Label: "Fills", Value: strconv.Itoa(a.Fills)},
		{Label: "Contracts", Value: number(a.Contracts)},
		{Label: "Notional", Value: money(a.Notional)},
		{Label: "New clients", Value: strconv.Itoa(len(a.NewClients))},
	})
	if len(a.NewClients) > 0 {
		var names []string
		for _, c := range a.NewClients {
			names = append(names, clientName(c)+fmt.Sprintf(", broker <@%s>", c.Broker))
		}
		r.both(bot.List{Title: "New clients", Items: names})
	}
	if len(a.LargeFills) > 0 {
		var lines []string
		for _, f := range a.LargeFills {
			verb := "bought"
			if f.Side == "sell" {
				verb = "sold"
			}
			lines = append(lines, fmt.Sprintf("%s %s %s %s at %s, %s (%s)", f.Client.Handle, verb, number(f.Quantity), f.Contract,
				strconv.FormatFloat(f.Price, 'f', -1, 64), money(f.Notional), f.At.In(r.d.Loc).Format("Mon 15:04")))
		}
		r.both(bot.List{Title: "Largest fills", Items: lines})
	}
	if len(a.TopClients) > 0 {
		var lines []string
		for _, t := range a.TopClients {
			lines = append(lines, fmt.Sprintf("%s: %s, %s", clientName(t.Client), plural(t.Fills, "fill", "fills"), money(t.Notional)))
		}
		r.both(bot.List{Title: "Most active clients", Items: lines})
	}
}

func (r *digestRender) responses() {
	if len(r.d.Responses) == 0 {
		r.both(bot.List{Title: "Replies to client emails and chats: no client messages"})
		return
	}
	var lines []string
	for _, br := range r.d.Responses {
		line := fmt.Sprintf("<@%s>: ", br.Broker)
		if br.Answered > 0 {
			line += fmt.Sprintf("median %s over %s", duration(br.Median), plural(br.Answered, "reply", "replies"))
		} else {
			line += "no replies"
		}
		if br.Unanswered > 0 {
			line += fmt.Sprintf(", %s", plural(br.Unanswered, "message still unanswered", "messages still unanswered"))
		}
		lines = append(lines, line)
	}
	r.both(bot.List{Title: "Replies to client emails and chats, slowest first", Items: lines})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// duration is a span as people say it: 45m, 3h 20m, 2d 4h.
func duration(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%dh %dm", int(d.Hours()), m)
		}
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	days, hours := int(d.Hours())/24, int(d.Hours())%24
	if hours != 0 {
		return fmt.Sprintf("%dd %dh", days, hours)
	}
	return fmt.Sprintf("%dd", days)
}

// money is a USD amount in whole dollars with thousands separators.
func money(v float64) string { return "$" + number(math.Round(v)) }

// number is a count or quantity with thousands separators.
func number(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
