package bot

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// /team add @user <desk> broker|manager
func teamAdd(ctx context.Context, c *call) Response {
	if c.args.Len() != 3 {
		return c.usageError("Name the person (@name), the desk and their role there.")
	}
	id, bad := c.userArg(0)
	if bad != nil {
		return *bad
	}
	m := store.Member{
		SlackID: id, Desk: c.args.At(1).Text, Role: store.Role(strings.ToLower(c.args.At(2).Text)),
		AddedBy: c.actor.ID, AddedAt: c.b.now(),
	}
	if err := m.Validate(); err != nil {
		return c.usageError("%s.", sentence(err))
	}
	if r := c.checkPerson(ctx, id, "only people can be on a desk"); r != nil {
		return *r
	}
	if err := c.b.teams.AddMember(ctx, m); err != nil {
		return c.b.fail(err, "add "+userRef(id)+" to "+m.Desk)
	}
	c.b.log.Info("desk member added", slog.String("by", c.actor.ID), slog.String("user", id), slog.String("desk", m.Desk), slog.String("role", string(m.Role)))
	return textResponse(OK, "%s is now a %s on %s.", userRef(id), m.Role, m.Desk)
}

// checkPerson answers a user id that is not a person Slack knows: a bot, a
// deactivated account, or no one at all. Without Slack (brokersync exec
// with no bot token) nobody can be checked and every id passes.
func (c *call) checkPerson(ctx context.Context, id, why string) *Response {
	if c.b.dir == nil {
		return nil
	}
	var r Response
	u, err := c.b.dir.User(ctx, id)
	switch {
	case store.ErrorCode(err) == store.ENOTFOUND:
		r = textResponse(Invalid, "Slack has no user %s; %s. Nothing was changed.", id, why)
	case err != nil:
		r = c.b.fail(err, "look up "+userRef(id)+" in Slack")
	case u.Bot || u.Deleted:
		r = textResponse(Invalid, "%s is a bot or a deactivated account; %s. Nothing was changed.", userRef(id), why)
	default:
		return nil
	}
	return &r
}

// /team remove @user
func teamRemove(ctx context.Context, c *call) Response {
	if c.args.Len() != 1 {
		return c.usageError("Name one person (@name).")
	}
	id, bad := c.userArg(0)
	if bad != nil {
		return *bad
	}
	err := c.b.teams.RemoveMember(ctx, id, c.actor.ID)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return textResponse(NotFound, "%s is not on any desk.", userRef(id))
	}
	if err != nil {
		return c.b.fail(err, "remove "+userRef(id))
	}
	c.b.log.Info("desk member removed", slog.String("by", c.actor.ID), slog.String("user", id))
	return textResponse(OK, "%s is no longer on any desk.", userRef(id))
}

// /team list [desk]
func teamList(ctx context.Context, c *call) Response {
	desk, bad := c.optionalDesk()
	if bad != nil {
		return *bad
	}
	ms, err := c.b.teams.Members(ctx, desk)
	if err != nil {
		return c.b.fail(err, "list desks")
	}
	if len(ms) == 0 {
		if desk != "" {
			return textResponse(OK, "Nobody is on %s.", desk)
		}
		return textResponse(OK, "No desks yet. Add someone with /team add @name <desk> broker.")
	}
	slices.SortFunc(ms, func(a, b store.Member) int {
		return cmp.Or(strings.Compare(a.Desk, b.Desk), strings.Compare(string(a.Role), string(b.Role)), strings.Compare(a.SlackID, b.SlackID))
	})
	var lists []List
	for _, m := range ms {
		if len(lists) == 0 || lists[len(lists)-1].Title != m.Desk {
			lists = append(lists, List{Title: m.Desk})
		}
		l := &lists[len(lists)-1]
		l.Items = append(l.Items, fmt.Sprintf("%s — %s (added by %s, %s)", userRef(m.SlackID), m.Role, userRef(m.AddedBy), m.AddedAt.In(c.actor.Location).Format("2006-01-02")))
	}
	blocks := make([]Block, len(lists))
	for i, l := range lists {
		blocks[i] = l
	}
	return Response{Text: fmt.Sprintf("%s on %s.", store.Count(len(ms), "membership"), store.Count(len(lists), "desk")), Blocks: blocks}
}

// historyShown is how many desk changes /team history lists.
const historyShown = 25

// /team history [desk]
func teamHistory(ctx context.Context, c *call) Response {
	desk, bad := c.optionalDesk()
	if bad != nil {
		return *bad
	}
	changes, err := c.b.teams.DeskHistory(ctx, desk, historyShown)
	if err != nil {
		return c.b.fail(err, "read desk history")
	}
	where := "any desk"
	if desk != "" {
		where = desk
	}
	if len(changes) == 0 {
		return textResponse(OK, "No changes to %s yet.", where)
	}
	l := List{Title: "Changes to " + where + ", newest first"}
	for _, ch := range changes {
		l.Items = append(l.Items, formatTime(ch.At, c.actor.Location)+" "+describeDeskChange(ch))
	}
	return Response{Text: fmt.Sprintf("The last %s to %s.", store.Count(len(changes), "change"), where), Blocks: []Block{l}}
}

func describeDeskChange(ch store.DeskChange) string {
	who, by := userRef(ch.SlackID), userRef(ch.Actor)
	switch {
	case ch.OldRole == "":
		return fmt.Sprintf("%s added %s to %s as %s", by, who, ch.Desk, ch.NewRole)
	case ch.NewRole == "":
		return fmt.Sprintf("%s removed %s (%s) from %s", by, who, ch.OldRole, ch.Desk)
	default:
		return fmt.Sprintf("%s made %s a %s on %s (was %s)", by, who, ch.NewRole, ch.Desk, ch.OldRole)
	}
}

// optionalDesk reads the one desk name a command may take: "" for none (every
// desk), or a usage error.
func (c *call) optionalDesk() (string, *Response) {
	if c.args.Len() > 1 {
		r := c.usageError("Name one desk, or none for every desk.")
		return "", &r
	}
	if c.args.Len() == 0 {
		return "", nil
	}
	d, err := store.NormalizeHandle(c.args.At(0).Text)
	if err != nil {
		r := c.usageError("%q is not a desk name.", c.args.At(0).Text)
		return "", &r
	}
	return d, nil
}

// userArg reads argument i as a person, or a usage error.
func (c *call) userArg(i int) (string, *Response) {
	id, ok := c.args.At(i).User()
	if !ok {
		r := c.usageError("%q is not a person: type @ and pick them from Slack's suggestions.", c.args.At(i).Text)
		return "", &r
	}
	return id, nil
}

// /team set <desk> followup-after-fill=24h followup-market=on …
func teamSet(ctx context.Context, c *call) Response {
	if c.args.Len() == 0 {
		return c.usageError("Name the desk, then settings: %s.", deskSettingsHelp)
	}
	if c.b.reminders == nil {
		return textResponse(Failed, "Reminders are not set up on this BrokerSync.")
	}
	desk, err := store.NormalizeHandle(c.args.At(0).Text)
	if err != nil {
		return c.usageError("%q is not a desk name: use lower-case letters, digits and dashes.", c.args.At(0).Text)
	}
	ms, err := c.b.teams.Members(ctx, desk)
	if err != nil {
		return c.b.fail(err, "find the desk")
	}
	if len(ms) == 0 {
		return textResponse(NotFound, "Nobody is on %s: add people with /team add first.", desk)
	}
	d, err := c.b.reminders.DeskFollowups(ctx, desk)
	if err != nil {
		return c.b.fail(err, "read the desk's follow-up settings")
	}
	var msd *store.DeskMilestones
	msStore, hasMilestones := c.b.milestoneStore()
	if hasMilestones {
		if msd, err = msStore.DeskMilestones(ctx, desk); err != nil {
			return c.b.fail(err, "read the desk's milestone settings")
		}
	}
	lc, err := deskLifecycle(ctx, c.b.teams, desk)
	if err != nil {
		return c.b.fail(err, "read the desk's lifecycle settings")
	}
	describe := func() string {
		s := describeDesk(d) + " " + describeLifecycle(lc)
		if msd == nil {
			return s
		}
		return s + " " + describeMilestones(msd)
	}
	if c.args.Len() == 1 {
		return textResponse(OK, "%s: %s.", desk, describe())
	}
	milestonesChanged, lifecycleChanged := false, false
	for i := 1; i < c.args.Len(); i++ {
		w := c.args.At(i)
		if w.Eq < 0 {
			return c.usageError("%q is not setting=value: %s.", w.Text, deskSettingsHelp)
		}
		key, value := strings.ToLower(w.Key()), strings.ToLower(w.Value())
		var on *bool
		switch key {
		case "followup-after-fill":
			dur, ok := parseDelay(value)
			if !ok {
				return c.usageError("followup-after-fill is a delay such as 24h, 90m or 2d, or off.")
			}
			d.AfterFill = dur
			continue
		case "dormant-after":
			days, ok := parseDays(value)
			if !ok {
				return c.usageError("dormant-after is days without a fill or real contact before an active client is dormant, such as 60d (1 to %d), or default.", store.MaxDormantAfterDays)
			}
			lc.DormantAfterDays, lifecycleChanged = days, true
			continue
		case "followup-market":
			on = &d.MarketMoves
		case "followup-sentiment":
			on = &d.Sentiment
		case "followup-cadence":
			on = &d.Cadence
		default:
			if msd != nil {
				if handled, problem := setMilestone(msd, key, value, strings.TrimSpace(w.Value())); handled {
					if problem != "" {
						return c.usageError("%s", problem)
					}
					milestonesChanged = true
					continue
				}
			}
			return c.usageError("%q is not a desk setting: %s.", w.Key(), deskSettingsHelp)
		}
		switch value {
		case "on", "yes", "true":
			*on = true
		case "off", "no", "false":
			*on = false
		default:
			return c.usageError("%s is on or off.", key)
		}
	}
	d.UpdatedBy = c.actor.ID
	if err := c.b.reminders.SetDeskFollowups(ctx, d); store.ErrorCode(err) == store.EINVALID {
		return c.usageError("%s.", capitalize(store.ErrorMessage(err)))
	} else if err != nil {
		return c.b.fail(err, "store the desk's follow-up settings")
	}
	if lifecycleChanged {
		lc.UpdatedBy = c.actor.ID
		if err := c.b.teams.SetDeskLifecycle(ctx, lc); store.ErrorCode(err) == store.EINVALID {
			return c.usageError("%s.", capitalize(store.ErrorMessage(err)))
		} else if err != nil {
			return c.b.fail(err, "store the desk's lifecycle settings")
		}
	}
	if milestonesChanged {
		msd.UpdatedBy = c.actor.ID
		if err := msStore.SetDeskMilestones(ctx, msd); store.ErrorCode(err) == store.EINVALID {
			return c.usageError("%s.", capitalize(store.ErrorMessage(err)))
		} else if err != nil {
			return c.b.fail(err, "store the desk's milestone settings")
		}
	}
	return textResponse(OK, "%s now: %s.", desk, describe())
}

const deskSettingsHelp = "followup-after-fill=24h (or off), followup-market=on|off, followup-sentiment=on|off, followup-cadence=on|off, dormant-after=90d (or default), " + milestoneSettingsHelp

// deskLifecycle returns the desk's lifecycle settings, DormantAfterDays 0
// when it uses the server's default.
func deskLifecycle(ctx context.Context, teams store.TeamStore, desk string) (store.DeskLifecycle, error) {
	all, err := teams.DeskLifecycles(ctx)
	if err != nil {
		return store.DeskLifecycle{}, err
	}
	for _, l := range all {
		if l.Desk == desk {
			return l, nil
		}
	}
	return store.DeskLifecycle{Desk: desk}, nil
}

func describeLifecycle(l store.DeskLifecycle) string {
	if l.DormantAfterDays == 0 {
		return "dormant-after=default"
	}
	return fmt.Sprintf("dormant-after=%dd", l.DormantAfterDays)
}

// parseDays reads 60d, 60, or default (0).
func parseDays(s string) (int, bool) {
	if s == "default" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n <= 0 || n > store.MaxDormantAfterDays {
		return 0, false
	}
	return n, true
}

func describeDesk(d *store.DeskFollowups) string {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	fill := "off"
	if d.AfterFill > 0 {
		fill = formatDelay(d.AfterFill)
	}
	return fmt.Sprintf("followup-after-fill=%s followup-market=%s followup-sentiment=%s followup-cadence=%s",
		fill, onOff(d.MarketMoves), onOff(d.Sentiment), onOff(d.Cadence))
}

// parseDelay reads 24h, 90m, 2d, 1h30m, or off/0 (none).
func parseDelay(s string) (time.Duration, bool) {
	if s == "off" || s == "0" || s == "none" {
		return 0, true
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 90 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%time.Minute != 0 {
		return 0, false
	}
	return d, true
}

func formatDelay(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}
