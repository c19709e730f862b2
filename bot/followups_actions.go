package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Snooze choices of a reminder's buttons.
var snoozeChoices = []string{"1h", "tomorrow", "week"}

// SnoozeUntil is when a reminder snoozed at now with choice comes back, in
// the broker's zone: 1h an hour later; tomorrow at 09:00 the next calendar
// day; week at 09:00 on the next Monday. Day arithmetic is calendar
// arithmetic in loc, so a daylight-saving change keeps 09:00 at 09:00.
func SnoozeUntil(choice string, now time.Time, loc *time.Location) (time.Time, bool) {
	local := now.In(loc)
	y, m, d := local.Date()
	switch choice {
	case "1h":
		return now.Add(time.Hour), true
	case "tomorrow":
		return time.Date(y, m, d+1, 9, 0, 0, 0, loc), true
	case "week":
		days := (8 - int(local.Weekday())) % 7
		if days == 0 {
			days = 7
		}
		return time.Date(y, m, d+days, 9, 0, 0, 0, loc), true
	}
	return time.Time{}, false
}

// /followups done <id>, /followups snooze <id> 1h|tomorrow|week and
// /followups call <id> <summary>: the buttons of a posted reminder (call is
// the Log call modal: the call is logged and the reminder closed). The
// answer replaces the reminder's message.
func reminderButton(ctx context.Context, c *call) Response {
	verb := strings.ToLower(c.args.At(0).Text)
	id, err := uuid.Parse(c.args.At(1).Text)
	if err != nil {
		return c.usageError("%q is not a reminder id.", c.args.At(1).Text)
	}
	_, cl, resp := c.ownReminder(ctx, id, "close or snooze")
	if resp != nil {
		return *resp
	}
	var r *store.Reminder // the reminder as closing or snoozing left it
	now := c.b.now()
	at := now.In(c.actor.Location).Format("15:04")
	switch verb {
	case "done", "call":
		how, summary := "marked done", ""
		if verb == "call" {
			how, summary = "call logged", strings.TrimSpace(c.args.Rest(2))
			if summary == "" {
				return c.usageError("What was said on the call? Add a summary.")
			}
		}
		r, err = c.b.reminders.CloseReminder(ctx, id, now)
		if store.ErrorCode(err) == store.ECONFLICT {
			return textResponse(Invalid, "%s. Nothing was changed.", capitalize(store.ErrorMessage(err)))
		}
		if err != nil {
			return c.b.fail(err, "close the reminder")
		}
		state := fmt.Sprintf("Done: %s by <@%s> at %s", how, c.actor.ID, at)
		var note string
		if summary != "" {
			ce := c.event(cl, store.KindCall, summary)
			ce.Attrs.Call = &store.CallAttrs{}
			ce.Attrs.Extra = map[string]string{"reminder_id": r.ID.String()}
			note = c.b.record(ctx, ce)
		}
		e := c.event(cl, store.KindReminder, "Follow-up done ("+how+"): "+r.Text)
		e.SourceID = "reminder-done:" + r.ID.String()
		e.Attrs.Extra = map[string]string{"reminder_id": r.ID.String(), "resolution": how}
		if n := c.b.record(ctx, e); note == "" {
			note = n
		}
		return reminderState(cl, r, ":white_check_mark:", state, note)
	case "snooze":
		choice := strings.ToLower(c.args.At(2).Text)
		until, ok := SnoozeUntil(choice, now, c.actor.Location)
		if !ok {
			return c.usageError("Snooze for %s.", strings.Join(snoozeChoices, ", "))
		}
		r, err = c.b.reminders.SnoozeReminder(ctx, id, until, now)
		if store.ErrorCode(err) == store.ECONFLICT {
			return textResponse(Invalid, "%s. Nothing was changed.", capitalize(store.ErrorMessage(err)))
		}
		if err != nil {
			return c.b.fail(err, "snooze the reminder")
		}
		when := formatDue(until, now, c.actor.Location)
		state := fmt.Sprintf("Snoozed by <@%s> at %s until %s; it comes back then", c.actor.ID, at, when)
		e := c.event(cl, store.KindReminder, "Follow-up snoozed until "+until.In(c.actor.Location).Format("Mon 2 Jan 15:04 MST")+": "+r.Text)
		e.SourceID = "reminder-snoozed:" + r.ID.String() + ":" + c.sourceID()
		e.Attrs.Extra = map[string]string{"reminder_id": r.ID.String(), "due": until.UTC().Format(time.RFC3339)}
		return reminderState(cl, r, ":zzz:", state, c.b.record(ctx, e))
	}
	return c.usageError("Say done or snooze.")
}

// reminderState is a reminder's message after a button: what it was about,
// and what became of it; no more buttons.
func reminderState(cl *store.Client, r *store.Reminder, icon, state, note string) Response {
	head := fmt.Sprintf("%s Reminder about %s (%s): %s", icon, cl.Name, cl.Handle, r.Text)
	resp := Response{
		Text:    head + "\n" + state + "." + note,
		Blocks:  []Block{Paragraph{head}, Context{state + "."}},
		Replace: true,
	}
	if note != "" {
		resp.Blocks = append(resp.Blocks, Context{strings.TrimSpace(note)})
	}
	return resp
}
