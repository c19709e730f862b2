package bot

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/reminders/duetime"
	"github.com/brokersync/brokersync/store"
)

// reminderIDs derives a reminder's id from the request that set it, so a
// command Slack delivers twice sets one reminder.
var reminderIDs = uuid.MustParse("6f1d4a8e-2b7c-4f0e-9d3a-5c8b1e7f2a90")

// /remind <client> <when> <text>
func remindCmd(ctx context.Context, c *call) Response {
	if c.b.reminders == nil {
		return textResponse(Failed, "Reminders are not set up on this BrokerSync: ask an admin to configure Slack for the server.")
	}
	if c.args.Len() == 2 && strings.EqualFold(c.args.At(0).Text, "undo") {
		if id, err := uuid.Parse(c.args.At(1).Text); err == nil {
			return undoReminder(ctx, c, id)
		}
	}
	if c.args.Len() < 2 {
		return c.usageError("Name the client, when, and what to remind you of.\n%s", whenExamples())
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	var words []string
	for i := 1; i < c.args.Len() && i <= duetime.MaxWords; i++ {
		words = append(words, c.args.At(i).Text)
	}
	now := c.b.now()
	due, n, err := duetime.Split(words, now, c.actor.Location)
	if errors.Is(err, duetime.ErrPast) {
		return c.usageError("That time has already passed (it is %s your time). Nothing was set.", formatDue(now, now, c.actor.Location))
	}
	if err != nil {
		return c.usageError("I could not read when: %q.\n%s", c.args.Rest(1), whenExamples())
	}
	text := strings.TrimSpace(c.args.Rest(1 + n))
	if text == "" {
		return c.usageError("What should the reminder say? Write it after the time.")
	}
	rem := &store.Reminder{
		ClientID: cl.ID, Broker: c.actor.ID, Due: due, Text: text,
		Source: "command", CreatedBy: c.actor.ID,
	}
	if c.req.ID != "" {
		rem.ID = uuid.NewSHA1(reminderIDs, []byte(c.req.ID))
	}
	if err := c.b.reminders.CreateReminder(ctx, rem); err != nil {
		if store.ErrorCode(err) != store.ECONFLICT || c.req.ID == "" {
			return c.b.fail(err, "set a reminder for "+cl.Handle)
		}
		// The same request again: it was set the first time.
	}
	when := formatDue(due, now, c.actor.Location)
	if c.actor.TimeZone != "" {
		when += " your time"
	} else {
		when += " UTC"
	}
	if other := clientTime(due, now, c.actor.Location, cl.TimeZone); other != "" {
		when += " (" + other + ")"
	}
	e := c.event(cl, store.KindReminder, "Reminder set for "+when+": "+text)
	e.SourceID = "reminder:" + rem.ID.String()
	e.Attrs.Extra = map[string]string{"reminder_id": rem.ID.String(), "due": due.UTC().Format(time.RFC3339), "broker": c.actor.ID}
	note := c.b.record(ctx, e)
	resp := Response{
		Text: fmt.Sprintf("I will remind you about %s (%s) on %s: %s%s", cl.Name, cl.Handle, when, text, note),
		Blocks: []Block{
			Paragraph{fmt.Sprintf("I will remind you about %s (%s) on %s:", cl.Name, cl.Handle, when)},
			List{Items: []string{text}},
			Actions{{Label: "Undo", Action: ActionUndoReminder, Value: rem.ID.String()}},
		},
	}
	if note != "" {
		resp.Blocks = append(resp.Blocks, Paragraph{strings.TrimSpace(note)})
	}
	return resp
}

// undoReminder cancels a reminder set by mistake (the Undo button of
// /remind's answer): the broker reminded, or whoever set it, may.
func undoReminder(ctx context.Context, c *call, id uuid.UUID) Response {
	_, cl, resp := c.ownReminder(ctx, id, "undo")
	if resp != nil {
		return *resp
	}
	r, err := c.b.reminders.CancelReminder(ctx, id, c.b.now())
	if store.ErrorCode(err) == store.ECONFLICT {
		return textResponse(Invalid, "%s. Nothing was changed.", capitalize(store.ErrorMessage(err)))
	}
	if err != nil {
		return c.b.fail(err, "undo the reminder")
	}
	e := c.event(cl, store.KindReminder, "Reminder cancelled: "+r.Text)
	e.SourceID = "reminder-cancelled:" + r.ID.String()
	e.Attrs.Extra = map[string]string{"reminder_id": r.ID.String()}
	note := c.b.record(ctx, e)
	return textResponse(OK, "Cancelled the reminder about %s (%s): %s%s", cl.Name, cl.Handle, r.Text, note)
}

// ownReminder reads a reminder the actor may change (the broker it
// reminds, whoever set it, or an admin, on a desk they may change) and its
// client; otherwise the answer says why, naming what they tried (verb).
func (c *call) ownReminder(ctx context.Context, id uuid.UUID, verb string) (*store.Reminder, *store.Client, *Response) {
	r, err := c.b.reminders.Reminder(ctx, id)
	if store.ErrorCode(err) == store.ENOTFOUND {
		resp := textResponse(NotFound, "There is no such reminder.")
		return nil, nil, &resp
	}
	if err != nil {
		resp := c.b.fail(err, "find the reminder")
		return nil, nil, &resp
	}
	cl, err := c.b.clients.Client(ctx, r.ClientID)
	if err != nil {
		resp := c.b.fail(err, "find the reminder's client")
		return nil, nil, &resp
	}
	if !c.actor.Admin && c.actor.ID != r.Broker && c.actor.ID != r.CreatedBy || !c.actor.canChange(cl.Team) {
		resp := textResponse(Refused, "Only the broker it reminds, or who set it, may %s this reminder. Nothing was changed.", verb)
		return nil, nil, &resp
	}
	return r, cl, nil
}

// formatDue shows t in loc, with the year when it is not now's.
func formatDue(t, now time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Year() != now.In(loc).Year() {
		return t.Format("Mon 2 Jan 2006 15:04")
	}
	return t.Format("Mon 2 Jan 15:04")
}

// clientTime is t in the client's zone when that differs from the
// broker's at t: "08:00 Chicago", or with the day when the day differs.
func clientTime(t, now time.Time, broker *time.Location, zone string) string {
	loc, ok := store.Location(zone)
	if !ok {
		return ""
	}
	bt, ct := t.In(broker), t.In(loc)
	_, bo := bt.Zone()
	_, co := ct.Zone()
	if bo == co {
		return ""
	}
	city := strings.ReplaceAll(path.Base(loc.String()), "_", " ")
	if bt.YearDay() != ct.YearDay() {
		return formatDue(t, now, loc) + " " + city
	}
	return ct.Format("15:04") + " " + city
}

func whenExamples() string {
	return "When can be: " + strings.Join(duetime.Examples, ", ") + " (in your own time zone).\nExample: /remind acme-grain tomorrow 9am call back about Dec corn"
}
