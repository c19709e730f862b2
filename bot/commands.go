package bot

import (
	"fmt"
	"strings"

	"github.com/brokersync/brokersync/reminders/duetime"
	"github.com/brokersync/brokersync/store"
)

// commandTable is every command the bot answers, with its usage (SPEC §7).
func (b *Bot) commandTable() map[string]*command {
	client := group("/client",
		"Client profiles. A <client> is a handle (acme-grain), an email or a phone number.",
		&command{path: "/client add", usage: "/client add <handle> \"<name>\" [field=value …]", run: clientAdd,
			help: "The handle is 2-40 lower-case letters, digits and dashes. Quote a name or value with spaces.\nteam= defaults to your desk if you are a broker on one; broker= defaults to you.\nExample: /client add acme-grain \"Acme Grain Co-op\" team=grain-desk risk=4 email.work=ops@acmegrain.com"},
		&command{path: "/client show", usage: "/client show <client>", run: clientShow},
		&command{path: "/client find", usage: "/client find <text> [tag:<tag>] [@broker]", run: clientFind,
			help: "Searches handles, names and companies on your desks."},
		&command{path: "/client set", usage: "/client set <client> field=value …", run: clientSet,
			help: "An empty value clears a field: dnc.reason=\"\". Quote values with spaces: name=\"Acme Grain Co-op\".", helpFor: fieldHelp},
		&command{path: "/client tag", usage: "/client tag <client> +tag -tag …", run: clientTag},
		&command{path: "/client link", usage: "/client link <client> #channel", run: clientLink,
			help: "Messages in a linked channel are logged to the client's timeline. Invite the BrokerSync app to the channel too."},
	)
	team := group("/team",
		"Desks and who is on them. Admins only.",
		&command{path: "/team add", usage: "/team add @user <desk> broker|manager", admin: true, run: teamAdd},
		&command{path: "/team remove", usage: "/team remove @user", admin: true, run: teamRemove},
		&command{path: "/team list", usage: "/team list [desk]", admin: true, run: teamList},
		&command{path: "/team history", usage: "/team history [desk]", admin: true, run: teamHistory,
			help: "Who added, changed or removed whom on a desk, and when: the last 25 changes."},
		&command{path: "/team set", usage: "/team set <desk> [followup-after-fill=24h|off] [followup-market=on|off] [followup-sentiment=on|off] [followup-cadence=on|off] [dormant-after=90d|default] [milestones=on|off] [milestone-lead=3d] [position-lead=2] [large-trade=1m|off] [kyc-refresh=12mo|off] [goal-threshold=100%] [desk-zone=America/Chicago]", admin: true, run: teamSet,
			help: "The desk's triggered follow-ups: how long after a fill, and whether market moves, sentiment and cadence raise them. Alone, shows them."},
	)
	seg := group("/segment",
		"Live client segments: saved filters, evaluated whenever they are used, always within your desks.",
		&command{path: "/segment list", usage: "/segment list", run: segmentList},
		&command{path: "/segment show", usage: "/segment show <name>", run: segmentShow},
		&command{path: "/segment preview", usage: "/segment preview <filter>", run: segmentPreview, helpFor: segmentHelp},
		&command{path: "/segment save", usage: "/segment save <name> <filter>", run: segmentSave, helpFor: segmentHelp,
			help: "Anyone on a desk may save a segment; only who saved it, a manager or an admin may change or delete it."},
		&command{path: "/segment export", usage: "/segment export <name or filter>", run: segmentExport,
			help: "A CSV of the matching clients, in the columns of brokersync export clients."},
		&command{path: "/segment delete", usage: "/segment delete <name>", run: segmentDelete},
		&command{path: "/segment watch", usage: "/segment watch <name> [#channel]", run: segmentWatch,
			help: "Posts who entered and who left the segment to the channel (this one by default): one message per check, every few minutes."},
		&command{path: "/segment unwatch", usage: "/segment unwatch <name>", run: segmentUnwatch},
	)
	seg.helpFor = segmentHelp
	wf := group("/workflow",
		"Desk workflows: when something happens to a client of the desk who matches a condition, BrokerSync acts. Brokers and managers write their desk's; admins any desk's.",
		&command{path: "/workflow add", usage: "/workflow add <name> [desk=<desk>] [cooldown=1h] when <trigger> [if <segment filter>] then <action> [after <delay>]", run: workflowAdd, helpFor: workflowHelp,
			help: "Adding a name that exists replaces its definition. Every firing is on the client's timeline with the workflow's name; a workflow fires at most once per client and event."},
		&command{path: "/workflow list", usage: "/workflow list", run: workflowList},
		&command{path: "/workflow show", usage: "/workflow show <name>", run: workflowShow},
		&command{path: "/workflow enable", usage: "/workflow enable <name>", run: workflowEnable(true)},
		&command{path: "/workflow disable", usage: "/workflow disable <name>", run: workflowEnable(false)},
		&command{path: "/workflow delete", usage: "/workflow delete <name>", run: workflowDelete},
		&command{path: "/workflow test", usage: "/workflow test <name>", run: workflowTest,
			help: "A dry run: replays the last 30 days of the desk's timeline through the trigger and the condition (as of now) and lists the clients it would have fired on. Nothing is done."},
	)
	wf.helpFor = workflowHelp
	return map[string]*command{
		"/client":   client,
		"/team":     team,
		"/segment":  seg,
		"/workflow": wf,
		"/digest":   digestCommands(),
		"/log": {path: "/log", usage: "/log <client> " + strings.Join(logKindNames, "|") + " <summary>", run: logCmd,
			help: "A call may say its direction and length before the summary: /log acme-grain call out 15m Talked through the Dec corn hedge"},
		"/note": {path: "/note", usage: "/note <client> <text>", run: noteCmd,
			help: "An internal note for the desk; mention colleagues with @."},
		"/feedback": {path: "/feedback", usage: "/feedback <client> [1-5] <text>", run: feedbackCmd,
			help: "What the client said about our service or strategy, with an optional rating from 1 (poor) to 5 (excellent)."},
		"/remind": {path: "/remind", usage: "/remind <client> <when> <text>", run: remindCmd,
			help: "Posts the text to you in Slack at that time, once. When is in your own time zone: " + strings.Join(duetime.Examples, ", ") + ".\nExample: /remind acme-grain in 2 hours call back about Dec corn"},
		"/followups": {path: "/followups", usage: "/followups [today|overdue|week] [@broker|desk] · /followups channel #channel|dm · /followups hours 07:00-17:00", run: followupsCmd,
			help: "Your open follow-ups, grouped by client: due today (the default), overdue, or in the next 7 days, in your time zone."},
		"/desk": {path: "/desk", usage: "/desk [desk]", run: deskCmd,
			help: "A link to your desk's web pages (clients, segments, follow-ups; for managers, the digest), for you alone and valid for 24 hours. Without a desk, every desk you are on."},
		"/timeline": {path: "/timeline", usage: "/timeline <client> [kind …] [since <date>]", run: timelineCmd,
			help: "Kinds: " + joinList(store.Kinds) + ". A date is YYYY-MM-DD, or 7d / 4w / 3m for days, weeks or months ago."},
	}
}

func group(path, help string, subs ...*command) *command {
	g := &command{path: path, help: help, subs: map[string]*command{}}
	for _, s := range subs {
		name := strings.TrimPrefix(s.path, path+" ")
		g.subs[name] = s
		g.order = append(g.order, name)
	}
	return g
}

func fieldHelp() string {
	var b strings.Builder
	b.WriteString("Fields:")
	for _, f := range store.FieldHelp() {
		fmt.Fprintf(&b, "\n  %s — %s", f[0], f[1])
	}
	return b.String()
}
