package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/brokersync/brokersync/bot/cmdline"
	"github.com/brokersync/brokersync/reminders/workflow"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// WorkflowRunner runs desk workflows (reminders.Workflows): /workflow test
// asks it for a dry run, and changes tell it to read the workflows again.
type WorkflowRunner interface {
	DryRun(ctx context.Context, w *store.Workflow) ([]workflow.DryFiring, error)
	Forget()
}

func workflowHelp() string {
	return "A workflow reads: " + workflow.Syntax +
		"\nTriggers: " + strings.Join(workflow.Triggers, ", ") +
		"\nConditions: the segment filter language (/segment help), evaluated for the one client, within the workflow's desk." +
		"\nActions: " + strings.Join(workflow.Actions, ", ") +
		"\nTexts may name the client's fields: {{." + strings.Join(workflow.FieldNames, "}}, {{.") + "}}." +
		"\nA delay (after 2h) makes a reminder or post wait, and a tag or stage change. Options before when: desk=<desk> (admins; a broker's is their desk), cooldown=<duration> (default 1h): the events a workflow's own actions cause do not fire it again on the same client within its cool-down." +
		"\nExample: /workflow add big-fill when fill if notional.30d>1m then remind \"Call {{.Name}} about the fill\" after 2h"
}

func (c *call) workflowsReady() *Response {
	if c.b.workflows == nil {
		r := textResponse(Failed, "Workflows are not set up on this BrokerSync.")
		return &r
	}
	return nil
}

// mayWrite reports whether the actor may create and change the workflows
// of desk: its brokers and managers, and admins.
func (a *Actor) mayWriteWorkflows(desk string) bool {
	return a.Admin || slices.Contains(a.Brokers, desk) || slices.Contains(a.Manages, desk)
}

// visibleWorkflow reads a workflow the actor may see; another desk's is
// answered as one that does not exist.
func (c *call) visibleWorkflow(ctx context.Context, name string) (*store.Workflow, *Response) {
	w, err := c.b.workflows.Workflow(ctx, name)
	if store.ErrorCode(err) == store.ENOTFOUND || err == nil && !c.actor.canSee(w.Desk) {
		r := textResponse(NotFound, "No workflow %q on your desks; /workflow list names them.", name)
		return nil, &r
	}
	if err != nil {
		r := c.b.fail(err, "read the workflow")
		return nil, &r
	}
	return w, nil
}

// definitionText puts a command's words back together as a definition:
// Slack's channel and user references as ids, quoted words quoted.
func definitionText(ws []cmdline.Word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		switch {
		case w.Ref.Kind == '#' && w.Eq < 0:
			parts[i] = "<#" + w.Ref.ID + ">"
		case w.Ref.Kind == '@' && w.Eq < 0:
			parts[i] = "<@" + w.Ref.ID + ">"
		case w.Quoted && w.Eq >= 0:
			parts[i] = w.Key() + "=" + quoteWord(w.Value())
		case w.Quoted:
			parts[i] = quoteWord(w.Text)
		default:
			parts[i] = w.Text
		}
	}
	return strings.Join(parts, " ")
}

func quoteWord(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// /workflow add <name> [desk=<desk>] [cooldown=<d>] when … then …
func workflowAdd(ctx context.Context, c *call) Response {
	if r := c.workflowsReady(); r != nil {
		return *r
	}
	if c.args.Len() < 2 {
		return c.usageError("Give a name and a definition, e.g. /workflow add big-fill when fill then remind \"Call {{.Name}}\"")
	}
	name, err := store.NormalizeWorkflowName(c.args.At(0).Text)
	if err != nil {
		return c.usageError("%s.", store.ErrorMessage(err))
	}
	w := &store.Workflow{Name: name, Enabled: true, UpdatedBy: c.actor.ID, UpdatedAt: c.b.now()}
	i := 1
	for ; i < c.args.Len() && c.args.At(i).Eq > 0; i++ {
		word := c.args.At(i)
		switch strings.ToLower(word.Key()) {
		case "desk":
			d, err := store.NormalizeHandle(word.Value())
			if err != nil {
				return c.usageError("%q is not a desk name.", word.Value())
			}
			w.Desk = d
		case "cooldown":
			d, ok := workflow.ParseDelay(word.Value())
			if !ok {
				if d, err = time.ParseDuration(word.Value()); err != nil || d < time.Second {
					return c.usageError("%q is not a cool-down: 30m, 1h, 1d.", word.Value())
				}
			}
			w.Cooldown = d.Truncate(time.Second)
		default:
			return c.usageError("%q is not an option: desk=<desk> or cooldown=<duration>, before when.", word.Text)
		}
	}
	if w.Desk == "" {
		switch desks := slices.Concat(c.actor.Brokers, c.actor.Manages); {
		case len(slices.Compact(slices.Sorted(slices.Values(desks)))) == 1:
			w.Desk = desks[0]
		case c.actor.Admin || len(desks) > 1:
			return c.usageError("Which desk? Say desk=<desk> before when.")
		}
	}
	if w.Desk == "" || !c.actor.mayWriteWorkflows(w.Desk) {
		return textResponse(Refused, "Only the brokers and managers of a desk, and admins, may write its workflows. Nothing was changed.")
	}
	def, r := c.parseWorkflow(ctx, definitionText(c.args.From(i).Words))
	if r != nil {
		return *r
	}
	w.Definition = def.String()
	if old, err := c.b.workflows.Workflow(ctx, name); err == nil {
		w.Enabled = old.Enabled
		if old.Desk != w.Desk && !c.actor.canSee(old.Desk) {
			return textResponse(Refused, "Another desk has a workflow called %s; choose another name. Nothing was changed.", name)
		}
		if !c.actor.mayWriteWorkflows(old.Desk) {
			return textResponse(Refused, "You may not change the workflows of %s. Nothing was changed.", old.Desk)
		}
	}
	changed, err := c.b.workflows.PutWorkflow(ctx, w)
	if err != nil {
		return c.b.fail(err, "save the workflow")
	}
	c.forgetWorkflows()
	state := "saved"
	if !changed {
		state = "unchanged"
	}
	if !w.Enabled {
		state += " (disabled: /workflow enable " + w.Name + ")"
	}
	return textResponse(OK, "Workflow *%s* of %s %s:\n`%s`\n/workflow test %s shows which clients it would have fired on in the last 30 days.", w.Name, w.Desk, state, w.Definition, w.Name)
}

func (c *call) forgetWorkflows() {
	if c.b.workflowRunner != nil {
		c.b.workflowRunner.Forget()
	}
}

// parseWorkflow parses a definition and checks what it names: saved
// segments, the channel of a post.
func (c *call) parseWorkflow(ctx context.Context, text string) (*workflow.Definition, *Response) {
	def, err := workflow.Parse(text, c.b.cat)
	var pe *workflow.Error
	if errors.As(err, &pe) {
		r := textResponse(Invalid, "That workflow has a mistake: %s.\n```\n%s\n```\n`/workflow help` shows how to write one. Nothing was changed.", strings.TrimSuffix(pe.Msg, "."), pe.Caret())
		return nil, &r
	}
	if err != nil {
		r := c.b.fail(err, "read the workflow")
		return nil, &r
	}
	if k := def.Trigger.Kind; (k == workflow.TriggerEntered || k == workflow.TriggerLeft) && c.b.segments != nil {
		if _, r := c.savedSegment(ctx, def.Trigger.Arg); r != nil {
			r.Text += " (the workflow's trigger names it). Nothing was changed."
			r.Status = Invalid
			return nil, r
		}
	}
	if def.Filter != nil && def.Filter.Root != nil {
		_, err := segment.Resolve(ctx, def.Filter, segment.Lookup{Segment: c.lookup("", "").Segment})
		var se *segment.Error
		if errors.As(err, &se) {
			r := textResponse(Invalid, "The workflow's condition has a mistake: %s.\n```\n%s\n```\nNothing was changed.", se.Error(), se.Caret())
			return nil, &r
		}
		if err != nil {
			r := c.b.fail(err, "read the saved segments")
			return nil, &r
		}
	}
	if def.Action.Kind == workflow.ActionPost {
		if r := c.checkInChannel(ctx, def.Action.Channel, "post a workflow's messages there"); r != nil {
			return nil, r
		}
	}
	return def, nil
}

// /workflow list
func workflowList(ctx context.Context, c *call) Response {
	if r := c.workflowsReady(); r != nil {
		return *r
	}
	ws, err := c.b.workflows.Workflows(ctx, c.actor.visibleDesks())
	if err != nil {
		return c.b.fail(err, "list workflows")
	}
	if len(ws) == 0 {
		return textResponse(OK, "No workflows on your desks yet. `/workflow help` shows how to write one.")
	}
	list := List{Title: "Workflows of your desks:"}
	for _, w := range ws {
		state := ""
		if !w.Enabled {
			state = " (disabled)"
		}
		list.Items = append(list.Items, fmt.Sprintf("*%s* · %s%s · `%s`", w.Name, w.Desk, state, w.Definition))
	}
	return Response{Status: OK, Text: store.Count(len(ws), "workflow"), Blocks: []Block{list}}
}

// /workflow show <name>
func workflowShow(ctx context.Context, c *call) Response {
	if r := c.workflowsReady(); r != nil {
		return *r
	}
	if c.args.Len() != 1 {
		return c.usageError("Name one workflow.")
	}
	w, r := c.visibleWorkflow(ctx, c.args.At(0).Text)
	if r != nil {
		return *r
	}
	state := "enabled"
	if !w.Enabled {
		state = "disabled"
	}
	text := fmt.Sprintf("Workflow *%s* of %s, %s, cool-down %s:\n`%s`\nCreated by <@%s> on %s; last changed by <@%s> on %s.",
		w.Name, w.Desk, state, w.CooldownOrDefault(), w.Definition, w.CreatedBy, w.CreatedAt.In(c.actor.Location).Format("2006-01-02 15:04"),
		w.UpdatedBy, w.UpdatedAt.In(c.actor.Location).Format("2006-01-02 15:04"))
	return textResponse(OK, "%s", text)
}

// writableWorkflow is the one workflow the command names, when the actor
// may change it (verb says how, in the refusal).
func (c *call) writableWorkflow(ctx context.Context, verb string) (*store.Workflow, *Response) {
	if r := c.workflowsReady(); r != nil {
		return nil, r
	}
	if c.args.Len() != 1 {
		r := c.usageError("Name one workflow.")
		return nil, &r
	}
	w, r := c.visibleWorkflow(ctx, c.args.At(0).Text)
	if r != nil {
		return nil, r
	}
	if !c.actor.mayWriteWorkflows(w.Desk) {
		r := textResponse(Refused, "You may not %s the workflows of %s. Nothing was changed.", verb, w.Desk)
		return nil, &r
	}
	return w, nil
}

// /workflow enable|disable <name>
func workflowEnable(on bool) func(ctx context.Context, c *call) Response {
	return func(ctx context.Context, c *call) Response {
		w, r := c.writableWorkflow(ctx, "change")
		if r != nil {
			return *r
		}
		verb := map[bool]string{true: "enabled", false: "disabled"}[on]
		if w.Enabled == on {
			return textResponse(OK, "Workflow %s is %s already.", w.Name, verb)
		}
		w.Enabled, w.UpdatedBy, w.UpdatedAt = on, c.actor.ID, c.b.now()
		if _, err := c.b.workflows.PutWorkflow(ctx, w); err != nil {
			return c.b.fail(err, "change the workflow")
		}
		c.forgetWorkflows()
		return textResponse(OK, "Workflow %s %s.", w.Name, verb)
	}
}

// /workflow delete <name>
func workflowDelete(ctx context.Context, c *call) Response {
	w, r := c.writableWorkflow(ctx, "delete")
	if r != nil {
		return *r
	}
	if err := c.b.workflows.DeleteWorkflow(ctx, w.Name); err != nil {
		return c.b.fail(err, "delete the workflow")
	}
	c.forgetWorkflows()
	return textResponse(OK, "Workflow %s deleted. Reminders it set stay; /followups lists them.", w.Name)
}

// testListMax is how many firings /workflow test lists.
const testListMax = 50

// /workflow test <name>
func workflowTest(ctx context.Context, c *call) Response {
	if r := c.workflowsReady(); r != nil {
		return *r
	}
	if c.args.Len() != 1 {
		return c.usageError("Name one workflow.")
	}
	if c.b.workflowRunner == nil {
		return textResponse(Failed, "Workflows do not run on this BrokerSync, so they cannot be tried.")
	}
	w, r := c.visibleWorkflow(ctx, c.args.At(0).Text)
	if r != nil {
		return *r
	}
	fs, err := c.b.workflowRunner.DryRun(ctx, w)
	if err != nil {
		return c.b.fail(err, "try the workflow")
	}
	clients := map[string]bool{}
	for _, f := range fs {
		clients[f.Client.Handle] = true
	}
	head := fmt.Sprintf("Dry run of %s over the last 30 days (nothing was done): it would have fired %s on %s.",
		w.Name, store.Count(len(fs), "time"), store.Count(len(clients), "client"))
	if len(fs) == 0 {
		return textResponse(OK, "%s", head)
	}
	list := List{}
	for i, f := range fs {
		if i == testListMax {
			list.Items = append(list.Items, fmt.Sprintf("… and %d more", len(fs)-testListMax))
			break
		}
		list.Items = append(list.Items, fmt.Sprintf("%s · %s · %s", clientLine(f.Client), f.At.In(c.actor.Location).Format("2006-01-02 15:04"), f.Summary))
	}
	return Response{Status: OK, Text: head, Blocks: []Block{Paragraph{head}, list}}
}
