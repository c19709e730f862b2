package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

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

// /followups [today|overdue|week]
func followupsCmd(ctx context.Context, c *call) Response {
	if c.b.reminders == nil {
		return textResponse(Failed, "Reminders are not set up on this BrokerSync: ask an admin to configure Slack for the server.")
	}
	if v := strings.ToLower(c.args.At(0).Text); (v == "done" || v == "snooze" || v == "call") && c.args.Len() >= 2 {
		if v == "snooze" && c.args.Len() != 3 {
			return c.usageError("Snooze for %s.", strings.Join(snoozeChoices, ", "))
		}
		return reminderButton(ctx, c)
	}
	if c.args.Len() > 1 {
		return c.usageError("Say which: today, overdue or week.")
	}
	now := c.b.now().In(c.actor.Location)
	y, m, d := now.Date()
	startOfToday := time.Date(y, m, d, 0, 0, 0, 0, c.actor.Location)
	var until time.Time
	var title string
	switch which := strings.ToLower(c.args.At(0).Text); which {
	case "", "today":
		until, title = startOfToday.AddDate(0, 0, 1), "today"
	case "overdue":
		until, title = now, "overdue"
	case "week":
		until, title = startOfToday.AddDate(0, 0, 7), "in the next 7 days"
	default:
		return c.usageError("%q is not today, overdue or week.", c.args.At(0).Text)
	}
	rs, err := c.b.reminders.ListReminders(ctx, store.ReminderFilter{
		Broker: c.actor.ID, States: openReminders, DueBefore: until, Limit: followupsLimit + 1,
	})
	if err != nil {
		return c.b.fail(err, "list your follow-ups")
	}
	more := len(rs) > followupsLimit
	if more {
		rs = rs[:followupsLimit]
	}
	if len(rs) == 0 {
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
	resp := Response{Blocks: []Block{Heading{fmt.Sprintf("Your follow-ups %s (%d)", title, len(rs))}}}
	var text strings.Builder
	fmt.Fprintf(&text, "Your follow-ups %s (%d):", title, len(rs))
	for _, id := range order {
		cl, err := c.b.clients.Client(ctx, id)
		if store.ErrorCode(err) == store.ENOTFOUND || err == nil && !c.actor.canSee(cl.Team) {
			continue
		}
		if err != nil {
			return c.b.fail(err, "list your follow-ups")
		}
		list := List{Title: fmt.Sprintf("%s (%s)", cl.Name, cl.Handle)}
		fmt.Fprintf(&text, "\n%s", list.Title)
		for _, r := range byClient[id] {
			line := formatDue(r.Due, now, c.actor.Location) + " — " + r.Text
			if r.Due.Before(now) {
				line += " (overdue)"
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
