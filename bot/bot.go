// Package bot is BrokerSync's command core: it parses a command, checks who
// may run it, acts on the stores and returns a Response. It knows nothing of
// Slack: bot/slack turns Slack's requests into Requests and renders
// Responses as Block Kit, and `brokersync exec` prints them as plain text.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/brokersync/brokersync/bot/cmdline"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Config holds what the bot needs. Clients, Timeline, Teams, Links and
// Recorder are required.
type Config struct {
	Clients   store.ClientStore
	Timeline  store.TimelineStore
	Teams     store.TeamStore
	Links     store.LinkStore
	Directory Directory // nil: no workspace admins, no user time zones
	Admins    []string  // Slack ids of BrokerSync admins
	// Catalogue checks the commodities of filters and workflows and names
	// the asset classes traded.
	Catalogue *store.Catalogue
	// Recorder puts every event on the timeline: it scores sentiment and
	// tells the rules that listen, so the bot never appends by itself.
	Recorder *ingest.Recorder
	// Reminders keeps what /remind sets; nil answers /remind that reminders
	// are not set up.
	Reminders store.ReminderStore
	// Stats reads clients' statistics for /client show; nil shows none.
	Stats store.StatsReader
	// Segments keeps saved segments and matches filters; nil answers
	// /segment with "not set up".
	Segments Segments
	// Digests keeps managers' digest subscriptions and builds digests; nil
	// answers /digest with "not set up".
	Digests Digests
	// Workflows keeps desk workflows; nil answers /workflow with "not set
	// up". WorkflowRunner runs them (reminders.Workflows): /workflow test
	// asks it for a dry run; nil: no dry runs.
	Workflows      store.WorkflowStore
	WorkflowRunner WorkflowRunner
	// TimelineURL links a user to a client's web timeline (webhooks/web
	// signs such links per user); nil shows no links.
	TimelineURL func(handle, user string) string
	// DeskURL links a user to the web desk pages of desk (every desk they
	// see when ""), or with digest to the managers' digest page, signed
	// for that user as TimelineURL's links are; nil: /desk answers that
	// the web pages are not set up.
	DeskURL func(user, desk string, digest bool) string
	Logger  *slog.Logger
	Now     func() time.Time
}

// Bot handles commands. It is safe for concurrent use.
type Bot struct {
	clients   store.ClientStore
	timeline  store.TimelineStore
	teams     store.TeamStore
	links     store.LinkStore
	dir       Directory
	admins    []string
	cat       *store.Catalogue
	rec       *ingest.Recorder
	reminders store.ReminderStore
	stats     store.StatsReader
	segments  Segments
	workflows store.WorkflowStore
	digests   Digests
	// workflowRunner runs workflows; nil when they do not run here.
	workflowRunner WorkflowRunner
	linkURL        func(handle, user string) string
	deskURL        func(user, desk string, digest bool) string
	log            *slog.Logger
	now            func() time.Time
	commands       map[string]*command
}

// New returns a bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Clients == nil || cfg.Timeline == nil || cfg.Teams == nil || cfg.Links == nil || cfg.Catalogue == nil || cfg.Recorder == nil {
		return nil, errors.New("bot: Clients, Timeline, Teams, Links, Catalogue and Recorder are required")
	}
	b := &Bot{
		clients: cfg.Clients, timeline: cfg.Timeline, teams: cfg.Teams, links: cfg.Links,
		dir: cfg.Directory, admins: cfg.Admins, cat: cfg.Catalogue, rec: cfg.Recorder, reminders: cfg.Reminders,
		stats: cfg.Stats, segments: cfg.Segments, digests: cfg.Digests,
		workflows: cfg.Workflows, workflowRunner: cfg.WorkflowRunner,
		linkURL: cfg.TimelineURL, deskURL: cfg.DeskURL, log: cfg.Logger, now: cfg.Now,
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.commands = b.commandTable()
	return b, nil
}

// command is a slash command or one of its subcommands.
type command struct {
	path    string // "/client" or "/client set"
	usage   string // one line per form
	help    string // more, shown by `help`
	admin   bool   // admins only
	subs    map[string]*command
	order   []string // subcommands in the order help lists them
	run     func(ctx context.Context, c *call) Response
	helpFor func() string // long help built at run time (fields)
}

// call is one run of a command.
type call struct {
	b     *Bot
	req   Request
	actor *Actor
	args  cmdline.Args
	cmd   *command
}

// Commands lists the slash commands the bot answers, for manifests and routing.
func (b *Bot) Commands() []string {
	names := make([]string, 0, len(b.commands))
	for n := range b.commands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Handle runs a command and returns its answer. It never returns an
// internal error's details, and a bug that panics fails the one command,
// not the server.
func (b *Bot) Handle(ctx context.Context, req Request) (resp Response) {
	start := b.now()
	defer func() {
		if p := recover(); p != nil {
			resp = b.fail(fmt.Errorf("panic: %v\n%s", p, debug.Stack()), "run "+req.Command)
		}
		b.log.Debug("command", slog.String("user", req.User), slog.String("command", req.Command),
			slog.String("status", resp.Status.String()), slog.Duration("took", b.now().Sub(start)))
	}()
	name := strings.ToLower(strings.TrimSpace(req.Command))
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	cmd, ok := b.commands[name]
	if !ok {
		return textResponse(Invalid, "There is no %s command. Commands: %s; add `help` to any of them.", req.Command, strings.Join(b.Commands(), ", "))
	}
	var a cmdline.Args
	if req.Args != nil {
		a = cmdline.Plain(req.Args)
	} else {
		a = cmdline.Parse(req.Text)
	}
	// Subcommands: /client show ..., /team add ...
	for cmd.subs != nil {
		sub := strings.ToLower(a.At(0).Text)
		if sub == "" || sub == "help" {
			return helpResponse(cmd)
		}
		next, ok := cmd.subs[sub]
		if !ok {
			return Response{Status: Invalid, Text: fmt.Sprintf("%s has no %q: use %s, or `%s help`.", cmd.path, a.At(0).Text, strings.Join(cmd.order, ", "), cmd.path)}
		}
		cmd, a = next, a.From(1)
	}
	if strings.EqualFold(a.At(0).Text, "help") && a.Len() == 1 {
		return helpResponse(cmd)
	}
	c, r := b.begin(ctx, req, cmd)
	if r != nil {
		return *r
	}
	c.args = a
	return cmd.run(ctx, c)
}

func helpResponse(cmd *command) Response {
	text := "Usage:"
	if cmd.usage != "" {
		text += "\n" + cmd.usage
	}
	for _, n := range cmd.order {
		text += "\n" + cmd.subs[n].usage
	}
	if cmd.help != "" {
		text += "\n\n" + cmd.help
	}
	if cmd.helpFor != nil {
		text += "\n\n" + cmd.helpFor()
	}
	return Response{Status: OK, Text: text}
}

// usageError answers a malformed command: what is wrong, then how to write it.
func (c *call) usageError(format string, a ...any) Response {
	return Response{Status: Invalid, Text: fmt.Sprintf(format, a...) + "\nUsage: " + c.cmd.usage}
}

// fail answers a store error. Users see what they can act on; internal
// failures are logged with a reference they can quote.
func (b *Bot) fail(err error, what string) Response {
	msg := store.ErrorMessage(err)
	switch store.ErrorCode(err) {
	case store.EINVALID, store.ECONFLICT:
		return textResponse(Invalid, "%s. Nothing was changed.", sentence(err))
	case store.ENOTFOUND:
		return textResponse(NotFound, "%s.", sentence(err))
	case store.EFORBIDDEN:
		return textResponse(Refused, "You may not %s: %s. Nothing was changed.", what, msg)
	case store.EUNAVAILABLE:
		b.log.Warn("store unavailable", slog.String("doing", what), slog.Any("err", err))
		return textResponse(Failed, "BrokerSync could not %s: its database is not answering. Try again in a minute.", what)
	}
	ref := newRef()
	b.log.Error("command failed", slog.String("doing", what), slog.String("ref", ref), slog.Any("err", err))
	return textResponse(Failed, "Something went wrong on our side while trying to %s (reference %s). Try again; if it persists, tell support the reference.", what, ref)
}

// fail answers a store error for this call's actor: a value another
// client already holds names that client only if the actor may see it.
func (c *call) fail(err error, what string) Response {
	h, ok := store.ConflictHolder(err)
	if !ok {
		return c.b.fail(err, what)
	}
	field := ""
	var se *store.Error
	if errors.As(err, &se) && se.Field != "" {
		field = se.Field + ": "
	}
	noun := takenNoun(se)
	switch {
	case c.actor.canSee(h.Team) && noun == "handle":
		return textResponse(Invalid, "%s%s is already the handle of a client of %s; choose another. Nothing was changed.", field, h.Value, h.Team)
	case c.actor.canSee(h.Team):
		return textResponse(Invalid, "%s%s is already the %s of %s (%s). Nothing was changed.", field, h.Value, noun, h.Handle, h.Team)
	case noun == "handle":
		return textResponse(Invalid, "%s%s is already the handle of a client on another desk; choose another. Nothing was changed.", field, h.Value)
	}
	return textResponse(Invalid, "%s%s is already the %s of a client on another desk. Nothing was changed; if it should be here, ask a BrokerSync admin.", field, h.Value, noun)
}

// takenNoun names what a conflict's field holds.
func takenNoun(e *store.Error) string {
	kind, _, _ := strings.Cut(e.Field, ".")
	switch kind {
	case "handle":
		return "handle"
	case "email":
		return "email address"
	case "phone":
		return "phone number"
	case "accounts":
		return "account number"
	}
	return "value"
}

func newRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sentence is an error's message as the start of a sentence. A message that
// begins with a field name keeps the name as it is typed ("phone.work: …",
// never "Phone.work: …").
func sentence(err error) string {
	var e *store.Error
	if errors.As(err, &e) && e.Field != "" {
		return store.ErrorMessage(err)
	}
	return capitalize(store.ErrorMessage(err))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// client finds the client a user named and checks they may see it (or,
// with change, change it). A client the user may not see is answered like
// one that does not exist.
func (c *call) client(ctx context.Context, ref string, change bool) (*store.Client, *Response) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		r := c.usageError("Which client? Name it by handle, email, phone or account number.")
		return nil, &r
	}
	if h, err := store.NormalizeHandle(ref); err == nil {
		ref = h
	}
	cl, err := store.ResolveVisibleClient(ctx, c.b.clients, ref, func(cl *store.Client) bool { return c.actor.canSee(cl.Team) })
	if store.ErrorCode(err) == store.ENOTFOUND {
		r := c.notFound(ref)
		return nil, &r
	}
	if err != nil {
		r := c.b.fail(err, "find "+ref)
		return nil, &r
	}
	if change && !c.actor.canChange(cl.Team) {
		r := textResponse(Refused, "You can see %s as a manager of %s, but only its brokers may change it. Nothing was changed.", cl.Handle, cl.Team)
		return nil, &r
	}
	return cl, nil
}

func (c *call) notFound(ref string) Response {
	if c.actor.Admin {
		return textResponse(NotFound, "There is no client %q. `/client find <text>` searches by name.", ref)
	}
	return textResponse(NotFound, "There is no client %q on your desks. `/client find <text>` searches by name.", ref)
}

// sourceID is the id that makes an event this request logs idempotent.
func (c *call) sourceID() string {
	if c.req.ID != "" {
		return c.req.ID
	}
	return newRef() + newRef()
}

// unrecorded splits a profile write's error: a write that succeeded but
// whose timeline entry could not be stored (ingest.UnrecordedError) is
// logged and said in a note, and is no error.
func (b *Bot) unrecorded(err error) (note string, _ error) {
	var u *ingest.UnrecordedError
	if !errors.As(err, &u) {
		return "", err
	}
	b.log.Error("timeline append failed", slog.Any("err", u.Err))
	return " (It is saved, but the timeline could not be updated: " + store.ErrorMessage(u.Err) + ".)", nil
}

// record appends an event to a client's timeline. A failure is logged and
// reported in the answer but does not undo what was done: the profile's
// audit trail holds the change either way.
func (b *Bot) record(ctx context.Context, e *store.Event) string {
	if err := b.rec.Record(ctx, e); err != nil {
		b.log.Error("timeline append failed", slog.String("client", e.ClientID.String()), slog.Any("err", err))
		return " (It is saved, but the timeline could not be updated: " + store.ErrorMessage(err) + ".)"
	}
	return ""
}

func (b *Bot) timelineURL(handle, user string) string {
	if b.linkURL == nil {
		return ""
	}
	return b.linkURL(handle, user)
}
