package bot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot/cmdline"
	"github.com/brokersync/brokersync/store"
)

// openReminders are the states of a follow-up not yet done: waiting to be
// posted, being posted, or posted and not yet marked done.
var openReminders = []store.ReminderState{store.ReminderPending, store.ReminderClaimed, store.ReminderSnoozed, store.ReminderPosted}

// followupsLimit bounds the list; a broker with more is told so.
const followupsLimit = 200

// followupsButtons is how many clients get a button: Slack takes at most 50
// blocks in a message.
const followupsButtons = 15

// /followups [today|overdue|week] [@broker|desk], /followups channel
// #channel|dm, /followups hours HH:MM-HH:MM
func followupsCmd(ctx context.Context, c *call) Response {
	if c.b.reminders == nil {
		return textResponse(Failed, "Reminders are not set up on this BrokerSync: ask an admin to configure Slack for the server.")
	}
	switch v := strings.ToLower(c.args.At(0).Text); {
	case (v == "done" || v == "snooze" || v == "call") && c.args.Len() >= 2:
		if v == "snooze" && c.args.Len() != 3 {
			return c.usageError("Snooze for %s.", strings.Join(snoozeChoices, ", "))
		}
		return reminderButton(ctx, c)
	case v == "channel":
		return followupsChannel(ctx, c)
	case v == "hours":
		return followupsHours(ctx, c)
	}
	if c.args.Len() > 2 {
		return c.usageError("Say which (today, overdue or week) and, for a desk you manage, whose: @broker or the desk.")
	}
	now := c.b.now().In(c.actor.Location)
	y, m, d := now.Date()
	startOfToday := time.Date(y, m, d, 0, 0, 0, 0, c.actor.Location)
	until, title := startOfToday.AddDate(0, 0, 1), "today"
	filter := store.ReminderFilter{Broker: c.actor.ID}
	whose, period := "Your", false
	for i := 0; i < c.args.Len(); i++ {
		w := c.args.At(i)
		switch which := strings.ToLower(w.Text); {
		case which == "today" && !period:
			period = true
		case which == "overdue" && !period:
			until, title, period = now, "overdue", true
		case which == "week" && !period:
			until, title, period = startOfToday.AddDate(0, 0, 7), "in the next 7 days", true
		case whose == "Your" && (isUserWord(w) || !strings.ContainsAny(which, " @#")):
			f, who, r := followupsScope(ctx, c, w)
			if r != nil {
				return *r
			}
			filter, whose = f, who
		default:
			return c.usageError("%q is not today, overdue or week, nor a broker or desk.", w.Text)
		}
	}
	filter.States, filter.DueBefore, filter.Limit = openReminders, until, followupsLimit+1
	rs, err := c.b.reminders.ListReminders(ctx, filter)
	if err != nil {
		return c.b.fail(err, "list the follow-ups")
	}
	more := len(rs) > followupsLimit
	if more {
		rs = rs[:followupsLimit]
	}
	if len(rs) == 0 {
		if whose != "Your" {
			return textResponse(OK, "No follow-ups %s for %s.", title, strings.TrimSuffix(whose, "'s"))
		}
		return textResponse(OK, "No follow-ups %s. `/remind <client> <when> <text>` sets one.", title)
	}
	// Grouped by client, clients in the order of their earliest follow-up.
	var order []uuid.UUID
	byClient := map[uuid.UUID][]*store.Reminder{}
	for _, r := range rs {
		if _, ok := byClient[r.ClientID]; !ok {
			order = append(order, r.ClientID)
		}
		byClient[r.ClientID] = append(byClient[r.ClientID], r)
	}
	resp := Response{Blocks: []Block{Heading{fmt.Sprintf("%s follow-ups %s (%d)", whose, title, len(rs))}}}
	var text strings.Builder
	fmt.Fprintf(&text, "%s follow-ups %s (%d):", whose, title, len(rs))
	for _, id := range order {
		cl, err := c.b.clients.Client(ctx, id)
		if store.ErrorCode(err) == store.ENOTFOUND || err == nil && !c.actor.canSee(cl.Team) {
			continue
		}
		if err != nil {
			return c.b.fail(err, "list the follow-ups")
		}
		list := List{Title: fmt.Sprintf("%s (%s)", cl.Name, cl.Handle)}
		fmt.Fprintf(&text, "\n%s", list.Title)
		for _, r := range byClient[id] {
			line := formatDue(r.Due, now, c.actor.Location) + " — " + r.Text
			if r.Due.Before(now) {
				line += " (overdue)"
			}
			if r.Broker != c.actor.ID {
				line += " — " + userRef(r.Broker)
			}
			list.Items = append(list.Items, line)
			fmt.Fprintf(&text, "\n  • %s", line)
		}
		resp.Blocks = append(resp.Blocks, list)
		if len(order) <= followupsButtons {
			resp.Blocks = append(resp.Blocks, Actions{{Label: "Open timeline", Action: ActionOpenTimeline, Value: cl.Handle}})
		}
	}
	if more {
		note := fmt.Sprintf("Only the first %d are shown.", followupsLimit)
		resp.Blocks = append(resp.Blocks, Context{note})
		text.WriteString("\n" + note)
	}
	resp.Text = text.String()
	return resp
}

// followupsScope is whose follow-ups a manager asks for: a broker's on the
// desks the actor manages (an admin: every desk), or a desk's the actor
// manages. whose names them for the heading.
func followupsScope(ctx context.Context, c *call, w cmdline.Word) (f store.ReminderFilter, whose string, r *Response) {
	refuse := func(format string, a ...any) (store.ReminderFilter, string, *Response) {
		resp := textResponse(Refused, format, a...)
		return store.ReminderFilter{}, "", &resp
	}
	if id, ok := w.User(); ok {
		if id == c.actor.ID {
			return store.ReminderFilter{Broker: id}, "Your", nil
		}
		if c.actor.Admin {
			return store.ReminderFilter{Broker: id}, userRef(id) + "'s", nil
		}
		ms, err := c.b.teams.Memberships(ctx, id)
		if err != nil {
			resp := c.b.fail(err, "find the broker's desks")
			return store.ReminderFilter{}, "", &resp
		}
		var desks []string
		for _, m := range ms {
			if slices.Contains(c.actor.Manages, m.Desk) {
				desks = append(desks, m.Desk)
			}
		}
		if len(desks) == 0 {
			return refuse("%s is on no desk you manage: only a desk's managers see its brokers' follow-ups.", userRef(id))
		}
		return store.ReminderFilter{Broker: id, Teams: desks}, userRef(id) + "'s", nil
	}
	invalid := func() (store.ReminderFilter, string, *Response) {
		resp := c.usageError("%q is not today, overdue or week, nor a broker (@jane) or a desk.", w.Text)
		return store.ReminderFilter{}, "", &resp
	}
	desk, err := store.NormalizeHandle(w.Text)
	if err != nil {
		return invalid()
	}
	if !c.actor.Admin && !slices.Contains(c.actor.Manages, desk) {
		ms, err := c.b.teams.Members(ctx, desk)
		if err != nil {
			resp := c.b.fail(err, "find the desk")
			return store.ReminderFilter{}, "", &resp
		}
		if len(ms) == 0 {
			return invalid()
		}
		return refuse("You do not manage %s: only a desk's managers see its follow-ups.", desk)
	}
	return store.ReminderFilter{Teams: []string{desk}}, desk, nil
}

func isUserWord(w cmdline.Word) bool { _, ok := w.User(); return ok }

// /followups channel #channel|dm: where the actor's reminders go.
func followupsChannel(ctx context.Context, c *call) Response {
	if c.args.Len() != 2 {
		return c.usageError("Name the channel (pick it as you type #), or dm for your direct messages.")
	}
	w := c.args.At(1)
	channel := ""
	if id, ok := w.Channel(); ok {
		channel = id
	} else if lw := strings.ToLower(w.Text); lw == "here" && c.req.Channel != "" {
		channel = c.req.Channel
	} else if lw != "dm" {
		if strings.HasPrefix(w.Text, "#") {
			return c.usageError("Slack sent %s as plain text: pick the channel from Slack's suggestions as you type #, or run `/followups channel here` in it.", w.Text)
		}
		return c.usageError("%q is not a channel: name one with #, or dm.", w.Text)
	}
	if channel != "" && !strings.HasPrefix(channel, "D") {
		if r := c.checkInChannel(ctx, channel, "send your reminders there"); r != nil {
			return *r
		}
	}
	s, err := c.b.reminders.FollowupSettings(ctx, c.actor.ID)
	if err != nil {
		return c.b.fail(err, "read your follow-up settings")
	}
	if strings.HasPrefix(channel, "D") {
		channel = "" // a direct message: the DM with BrokerSync
	}
	s.Channel = channel
	if err := c.b.reminders.SetFollowupSettings(ctx, s); err != nil {
		return c.b.fail(err, "store your follow-up settings")
	}
	if channel == "" {
		return textResponse(OK, "Your reminders now come to your direct messages with BrokerSync.")
	}
	return textResponse(OK, "Your reminders now go to %s, including those already set.", channelRef(channel))
}

// /followups hours HH:MM-HH:MM: the actor's working hours.
func followupsHours(ctx context.Context, c *call) Response {
	s, err := c.b.reminders.FollowupSettings(ctx, c.actor.ID)
	if err != nil {
		return c.b.fail(err, "read your follow-up settings")
	}
	zone := c.actor.Location.String()
	if c.args.Len() == 1 {
		return textResponse(OK, "Your working hours: Monday to Friday %s (%s). Triggered follow-ups wait for them; `/followups hours 07:00-17:00` changes them.", s.Hours(), zone)
	}
	start, end, ok := parseHours(c.args.Rest(1))
	if !ok {
		return c.usageError("Write the hours as 07:00-17:00 (24-hour clock, in your own time zone).")
	}
	s.DayStart, s.DayEnd = start, end
	if err := c.b.reminders.SetFollowupSettings(ctx, s); store.ErrorCode(err) == store.EINVALID {
		return c.usageError("Working hours must start before they end, within one day.")
	} else if err != nil {
		return c.b.fail(err, "store your follow-up settings")
	}
	return textResponse(OK, "Your working hours are now Monday to Friday %s (%s). Triggered follow-ups wait for them; reminders you set for a time still come at that time.", s.Hours(), zone)
}

// parseHours reads "07:00-17:00" (also "7-17", "7:30 - 17") as minutes after
// midnight.
func parseHours(s string) (start, end int, ok bool) {
	a, b, found := strings.Cut(strings.ReplaceAll(s, " ", ""), "-")
	if !found {
		return 0, 0, false
	}
	start, ok1 := parseClock(a)
	end, ok2 := parseClock(b)
	return start, end, ok1 && ok2 && start < end
}

func parseClock(s string) (int, bool) {
	h, m, _ := strings.Cut(s, ":")
	hh, err := strconv.Atoi(h)
	if err != nil || hh < 0 || hh > 24 || len(h) > 2 {
		return 0, false
	}
	mm := 0
	if m != "" {
		if mm, err = strconv.Atoi(m); err != nil || mm < 0 || mm > 59 || len(m) != 2 {
			return 0, false
		}
	}
	if hh == 24 && mm != 0 {
		return 0, false
	}
	return hh*60 + mm, true
}
