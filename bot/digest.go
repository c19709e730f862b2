package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Digests keeps managers' digest subscriptions and builds digests.
type Digests interface {
	store.DigestStore
	// Preview is desk's digest of the last 24 hours up to now, with times
	// in loc: the same content a subscription posts. ENOTFOUND for a desk
	// with no one and no client on it.
	Preview(ctx context.Context, desk string, now time.Time, loc *time.Location) (Response, error)
}

func digestCommands() *command {
	return group("/digest",
		"A desk's digest for its managers, posted in a channel every day or every Monday at your time: what is overdue and what went wrong first, then trading, new clients, milestones in the next 7 days and how fast each broker answers clients.",
		&command{path: "/digest subscribe", usage: "/digest subscribe #channel daily|weekly [hh:mm] [desk]", run: digestSubscribe,
			help: "At 08:00 your time unless you say; weekly digests come on Mondays. Without a desk, every desk you manage, one message each. Subscribing again changes your own subscription, never anyone else's."},
		&command{path: "/digest unsubscribe", usage: "/digest unsubscribe [#channel] [desk]", run: digestUnsubscribe},
		&command{path: "/digest list", usage: "/digest list", run: digestList},
		&command{path: "/digest now", usage: "/digest now [desk]", run: digestNow,
			help: "The digest of the last 24 hours, now, for you alone."},
		&command{path: "/digest snooze", usage: "/digest snooze <reminder id> 1h|tomorrow|week", run: digestSnooze,
			help: "The Snooze button of a follow-up in a digest."},
		&command{path: "/digest reassign", usage: "/digest reassign <reminder id> @broker", run: digestReassign,
			help: "The Reassign menu of a follow-up in a digest: hands it to another broker of the client's desk."},
	)
}

// digestManager checks that the actor may have digests at all: a manager of
// some desk, or an admin.
func (c *call) digestManager() *Response {
	if c.b.digests == nil {
		r := textResponse(Failed, "Digests are not set up on this BrokerSync: ask an admin to configure Slack for the server.")
		return &r
	}
	if !c.actor.Admin && len(c.actor.Manages) == 0 {
		r := textResponse(Refused, "Digests are for desk managers: you manage no desk. Nothing was changed.")
		return &r
	}
	return nil
}

// digestDesk checks a desk the actor named: one they manage, or for an
// admin any desk with someone on it.
func (c *call) digestDesk(ctx context.Context, name string) (string, *Response) {
	desk, err := store.NormalizeHandle(name)
	if err != nil {
		r := c.usageError("%q is not a desk name.", name)
		return "", &r
	}
	if slices.Contains(c.actor.Manages, desk) {
		return desk, nil
	}
	if !c.actor.Admin {
		r := textResponse(Refused, "You manage %s, not %s: a digest shows only your own desks. Nothing was changed.", strings.Join(c.actor.Manages, ", "), desk)
		return "", &r
	}
	if r := c.deskWithPeople(ctx, desk); r != nil {
		return "", r
	}
	return desk, nil
}

// managedDesks are the desks a command without a desk is about.
func (c *call) managedDesks() ([]string, *Response) {
	if len(c.actor.Manages) == 0 {
		r := c.usageError("Name the desk: you are an admin, not the manager of a desk.")
		return nil, &r
	}
	desks := slices.Clone(c.actor.Manages)
	slices.Sort(desks)
	return desks, nil
}

var clockRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// /digest subscribe #channel daily|weekly [hh:mm] [desk]
func digestSubscribe(ctx context.Context, c *call) Response {
	if r := c.digestManager(); r != nil {
		return *r
	}
	if c.args.Len() < 2 {
		return c.usageError("Name the channel and how often.")
	}
	channel, r := c.digestChannel(c.args.At(0).Text, c.args.At(0).Channel)
	if r != nil {
		return *r
	}
	freq := store.DigestFrequency(strings.ToLower(c.args.At(1).Text))
	if freq != store.DigestDaily && freq != store.DigestWeekly {
		return c.usageError("%q: say daily or weekly.", c.args.At(1).Text)
	}
	at, deskName := 8*60, ""
	for i := 2; i < c.args.Len(); i++ {
		w := c.args.At(i).Text
		if m := clockRE.FindStringSubmatch(w); m != nil {
			h, _ := strconv.Atoi(m[1])
			mi, _ := strconv.Atoi(m[2])
			at = h*60 + mi
			continue
		}
		if deskName != "" {
			return c.usageError("%q: one desk at a time, after the time.", w)
		}
		deskName = w
	}
	var desks []string
	if deskName != "" {
		desk, r := c.digestDesk(ctx, deskName)
		if r != nil {
			return *r
		}
		desks = []string{desk}
	} else if desks, r = c.managedDesks(); r != nil {
		return *r
	}
	if r := c.checkInChannel(ctx, channel, "post digests there"); r != nil {
		return *r
	}
	existing, err := c.b.digests.DigestSubscriptions(ctx, store.DigestFilter{Owner: c.actor.ID, Desks: desks})
	if err != nil {
		return c.b.fail(err, "read your digest subscriptions")
	}
	zone, note := c.actor.TimeZone, ""
	if _, ok := store.Location(zone); !ok {
		zone, note = "", " Slack did not say your time zone, so times are UTC."
	}
	now := c.b.now()
	var lines []string
	for _, desk := range desks {
		s := &store.DigestSubscription{Owner: c.actor.ID, Desk: desk, Channel: channel, Frequency: freq, At: at, TimeZone: zone}
		var was *store.DigestSubscription
		if i := slices.IndexFunc(existing, func(e *store.DigestSubscription) bool { return e.Desk == desk && e.Channel == channel }); i >= 0 {
			was = existing[i]
		}
		if _, err := c.b.digests.SaveDigestSubscription(ctx, s); err != nil {
			return c.b.fail(err, "subscribe to the digest of "+desk)
		}
		line := fmt.Sprintf("%s: %s in %s, first on %s", desk, digestWhen(s), channelRef(channel), formatDue(s.Next(now), now, s.Loc()))
		if was != nil {
			line = fmt.Sprintf("%s: now %s in %s (was %s), next on %s", desk, digestWhen(s), channelRef(channel), digestWhen(was), formatDue(s.Next(now), now, s.Loc()))
		}
		lines = append(lines, line)
	}
	text := "Digest subscribed:\n" + strings.Join(lines, "\n") + note
	return Response{Text: text, Blocks: []Block{List{Title: "Digest subscribed", Items: lines}, Context{"Only you can change or end your subscriptions: `/digest unsubscribe`." + note}}}
}

// digestWhen is a subscription's schedule: "daily at 08:00 America/Chicago".
func digestWhen(s *store.DigestSubscription) string {
	zone := s.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	if s.Frequency == store.DigestWeekly {
		return fmt.Sprintf("weekly, Mondays at %s %s", s.Clock(), zone)
	}
	return fmt.Sprintf("daily at %s %s", s.Clock(), zone)
}

// digestChannel reads a channel word: a #channel, or here.
func (c *call) digestChannel(text string, ref func() (string, bool)) (string, *Response) {
	if id, ok := ref(); ok {
		return id, nil
	}
	if strings.EqualFold(text, "here") && c.req.Channel != "" && !strings.HasPrefix(c.req.Channel, "D") {
		return c.req.Channel, nil
	}
	r := c.usageError("%q is not a channel: pick one from Slack's suggestions as you type #, or say here in the channel.", text)
	return "", &r
}

// /digest unsubscribe [#channel] [desk]
func digestUnsubscribe(ctx context.Context, c *call) Response {
	if r := c.digestManager(); r != nil {
		return *r
	}
	channel, desk := "", ""
	for i := range c.args.Len() {
		w := c.args.At(i)
		if id, ok := w.Channel(); ok {
			channel = id
			continue
		}
		if strings.EqualFold(w.Text, "here") && c.req.Channel != "" {
			channel = c.req.Channel
			continue
		}
		d, err := store.NormalizeHandle(w.Text)
		if err != nil {
			return c.usageError("%q is neither a channel nor a desk.", w.Text)
		}
		desk = d
	}
	gone, err := c.b.digests.DeleteDigestSubscriptions(ctx, c.actor.ID, desk, channel)
	if err != nil {
		return c.b.fail(err, "unsubscribe")
	}
	if len(gone) == 0 {
		return textResponse(NotFound, "You have no digest subscription like that: `/digest list` shows them.")
	}
	var lines []string
	for _, s := range gone {
		lines = append(lines, fmt.Sprintf("%s in %s (%s)", s.Desk, channelRef(s.Channel), digestWhen(s)))
	}
	return Response{Text: "Unsubscribed:\n" + strings.Join(lines, "\n"), Blocks: []Block{List{Title: "Unsubscribed", Items: lines}}}
}

// /digest list: the subscriptions of the desks the actor manages (every
// desk for an admin).
func digestList(ctx context.Context, c *call) Response {
	if r := c.digestManager(); r != nil {
		return *r
	}
	f := store.DigestFilter{}
	if !c.actor.Admin {
		f.Desks = c.actor.Manages
	}
	subs, err := c.b.digests.DigestSubscriptions(ctx, f)
	if err != nil {
		return c.b.fail(err, "list digest subscriptions")
	}
	if len(subs) == 0 {
		return textResponse(OK, "No digests are subscribed for your desks. `/digest subscribe #channel daily` starts one.")
	}
	now := c.b.now()
	var lines []string
	for _, s := range subs {
		who := userRef(s.Owner)
		if s.Owner == c.actor.ID {
			who = "you"
		}
		lines = append(lines, fmt.Sprintf("%s: %s in %s, by %s; next %s", s.Desk, digestWhen(s), channelRef(s.Channel), who,
			formatDue(s.Next(now), now, c.actor.Location)))
	}
	return Response{Text: "Digest subscriptions:\n" + strings.Join(lines, "\n"), Blocks: []Block{List{Title: "Digest subscriptions", Items: lines}}}
}

// /digest now [desk]
func digestNow(ctx context.Context, c *call) Response {
	if r := c.digestManager(); r != nil {
		return *r
	}
	var desks []string
	if c.args.Len() > 0 {
		desk, r := c.digestDesk(ctx, c.args.At(0).Text)
		if r != nil {
			return *r
		}
		desks = []string{desk}
	} else {
		var r *Response
		if desks, r = c.managedDesks(); r != nil {
			return *r
		}
	}
	var out Response
	for i, desk := range desks {
		d, err := c.b.digests.Preview(ctx, desk, c.b.now(), c.actor.Location)
		if err != nil {
			return c.b.fail(err, "build the digest of "+desk)
		}
		if i > 0 {
			out.Text += "\n\n"
		}
		out.Text += d.Text
		out.Blocks = append(out.Blocks, d.Blocks...)
	}
	return out
}

// digestReminder reads a follow-up a digest showed, for a manager of its
// client's desk, an admin or (for snoozing) the broker it reminds.
func (c *call) digestReminder(ctx context.Context, word string, brokerToo bool) (*store.Reminder, *store.Client, *Response) {
	if c.b.reminders == nil {
		r := textResponse(Failed, "Reminders are not set up on this BrokerSync.")
		return nil, nil, &r
	}
	id, err := uuid.Parse(word)
	if err != nil {
		r := c.usageError("%q is not a reminder id.", word)
		return nil, nil, &r
	}
	rem, err := c.b.reminders.Reminder(ctx, id)
	if store.ErrorCode(err) == store.ENOTFOUND {
		r := textResponse(NotFound, "There is no such follow-up.")
		return nil, nil, &r
	}
	if err != nil {
		r := c.b.fail(err, "find the follow-up")
		return nil, nil, &r
	}
	cl, err := c.b.clients.Client(ctx, rem.ClientID)
	if err != nil {
		r := c.b.fail(err, "find the follow-up's client")
		return nil, nil, &r
	}
	ok := c.actor.Admin || slices.Contains(c.actor.Manages, cl.Team) || brokerToo && rem.Broker == c.actor.ID && c.actor.canChange(cl.Team)
	if !ok {
		r := textResponse(Refused, "Only a manager of %s may do that to this follow-up. Nothing was changed.", cl.Team)
		if !c.actor.canSee(cl.Team) {
			r = textResponse(NotFound, "There is no such follow-up.")
		}
		return nil, nil, &r
	}
	return rem, cl, nil
}

// /digest snooze <reminder> 1h|tomorrow|week: a digest's Snooze button.
func digestSnooze(ctx context.Context, c *call) Response {
	rem, cl, r := c.digestReminder(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	now := c.b.now()
	choice := strings.ToLower(c.args.At(1).Text)
	if choice == "" {
		choice = "tomorrow"
	}
	// The follow-up comes back in its broker's morning, not the manager's.
	loc := c.actor.Location
	if c.b.dir != nil {
		if u, err := c.b.dir.User(ctx, rem.Broker); err == nil {
			if l, ok := store.Location(u.TimeZone); ok {
				loc = l
			}
		}
	}
	until, ok := SnoozeUntil(choice, now, loc)
	if !ok {
		return c.usageError("Snooze for %s.", strings.Join(snoozeChoices, ", "))
	}
	got, err := c.b.reminders.SnoozeReminder(ctx, rem.ID, until, now)
	if store.ErrorCode(err) == store.ECONFLICT {
		return textResponse(Invalid, "%s. Nothing was changed.", capitalize(store.ErrorMessage(err)))
	}
	if err != nil {
		return c.b.fail(err, "snooze the follow-up")
	}
	e := c.event(cl, store.KindReminder, fmt.Sprintf("Follow-up of %s snoozed from a digest until %s: %s", userRef(got.Broker), until.UTC().Format("Mon 2 Jan 15:04 UTC"), got.Text))
	e.SourceID = "reminder-snoozed:" + got.ID.String() + ":" + c.sourceID()
	e.Attrs.Extra = map[string]string{"reminder_id": got.ID.String(), "due": until.UTC().Format(time.RFC3339), "by": "digest"}
	note := c.b.record(ctx, e)
	return textResponse(OK, "Snoozed %s's follow-up about %s (%s) until %s your time: %s%s", userRef(got.Broker), cl.Name, cl.Handle,
		formatDue(until, now, c.actor.Location), got.Text, note)
}

// /digest reassign <reminder> @broker: a digest's Reassign menu.
func digestReassign(ctx context.Context, c *call) Response {
	rem, cl, r := c.digestReminder(ctx, c.args.At(0).Text, false)
	if r != nil {
		return *r
	}
	to, ok := c.args.At(1).User()
	if !ok {
		return c.usageError("To whom? Name a broker of %s with @.", cl.Team)
	}
	if to == rem.Broker {
		return textResponse(Invalid, "That follow-up is %s's already. Nothing was changed.", userRef(to))
	}
	ms, err := c.b.teams.Memberships(ctx, to)
	if err != nil {
		return c.b.fail(err, "look up "+userRef(to))
	}
	if !slices.ContainsFunc(ms, func(m store.Member) bool { return m.Desk == cl.Team && m.Role == store.RoleBroker }) {
		return textResponse(Invalid, "%s is not a broker of %s: a follow-up goes only to a broker of its client's desk. Nothing was changed.", userRef(to), cl.Team)
	}
	now := c.b.now()
	got, err := c.b.reminders.ReassignReminder(ctx, rem.ID, to, now)
	if store.ErrorCode(err) == store.ECONFLICT {
		return textResponse(Invalid, "%s. Nothing was changed.", capitalize(store.ErrorMessage(err)))
	}
	if err != nil {
		return c.b.fail(err, "reassign the follow-up")
	}
	e := c.event(cl, store.KindReminder, fmt.Sprintf("Follow-up handed from %s to %s: %s", userRef(rem.Broker), userRef(to), got.Text))
	e.SourceID = "reminder-reassigned:" + got.ID.String() + ":" + c.sourceID()
	e.Attrs.Extra = map[string]string{"reminder_id": got.ID.String(), "from": rem.Broker, "to": to, "by": "digest"}
	note := c.b.record(ctx, e)
	when := "it keeps its time"
	if rem.State == store.ReminderPosted {
		when = "it is posted to them now"
	}
	return textResponse(OK, "Handed the follow-up about %s (%s) from %s to %s (%s): %s%s", cl.Name, cl.Handle, userRef(rem.Broker), userRef(to), when, got.Text, note)
}
