package reminders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/reminders/workflow"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// WorkflowSegments is what workflows need of segments: conditions are
// matched (for the clients in hand, by id), and the saved segments they
// name read.
type WorkflowSegments interface {
	segment.Matcher
	segment.IDMatcher
	Segment(ctx context.Context, name string) (segment.Saved, error)
}

// Workflows runs the desks' workflows (store.WorkflowStore, written by
// /workflow and `brokersync workflows apply`). It is an ingest.Subscriber:
// each stored event that sets off an enabled workflow's trigger, for a
// client of the workflow's desk who matches its condition (evaluated for
// that one client, within the desk), fires the workflow once.
//
//   - At most once per workflow, client and triggering event: the firing
//     is recorded (store.WorkflowStore.BeginWorkflowFiring) before its
//     action is taken, so an event delivered again finds it. A firing cut
//     off by a crash is finished by Tick; every action is idempotent by
//     firing (a reminder's id, a tag, a stage), so finishing twice does it
//     once.
//   - Loop guard: the events a workflow's action causes (a tag or stage
//     change) carry its name, and those of the workflows whose actions led
//     to it (workflow.CausedBy). Such an event never fires a workflow it
//     names on the same client within that workflow's cool-down (default
//     1 hour) after its last firing there.
//   - Messages (remind, post, notify managers) are reminders of the
//     durable scheduler, due when the action is (after <delay>): Slack's
//     exactly-once posting is the scheduler's. Tag and stage changes go
//     through ingest.Profiles, on the timeline; delayed ones wait in their
//     firing for Tick.
//   - Every firing is on the client's timeline (source workflow), with the
//     workflow's name.
//   - "no contact for N days" is looked for by Tick, once per quiet
//     spell: the spell is known by the last real contact it follows.
type Workflows struct {
	Store     store.WorkflowStore
	Reminders store.ReminderStore
	Clients   store.ClientStore
	Teams     store.TeamStore
	Segments  WorkflowSegments
	Catalogue *store.Catalogue // what definitions are parsed against
	Stats     store.StatsReader
	Timeline  store.TimelineStore // to read a firing's event again; nil: not read
	Recorder  *ingest.Recorder    // firings and profile changes are recorded here
	// CacheFor is how long the list of workflows is reused between reads
	// (default 5s; negative: read for every batch of events).
	CacheFor time.Duration
	Now      func() time.Time
	Logger   *slog.Logger

	mu       sync.Mutex
	cached   []*active
	cachedAt time.Time
}

// WorkflowActor is who the audit trail names for a workflow's changes.
func WorkflowActor(name string) string { return "brokersync:workflow:" + name }

// active is an enabled workflow, parsed.
type active struct {
	w   *store.Workflow
	def *workflow.Definition
}

func (wf *Workflows) now() time.Time {
	if wf.Now != nil {
		return wf.Now()
	}
	return time.Now()
}

func (wf *Workflows) log() *slog.Logger {
	if wf.Logger != nil {
		return wf.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// active returns the enabled workflows. One that no longer parses is
// logged and left out.
func (wf *Workflows) active(ctx context.Context) ([]*active, error) {
	cacheFor := wf.CacheFor
	if cacheFor == 0 {
		cacheFor = 5 * time.Second
	}
	wf.mu.Lock()
	defer wf.mu.Unlock()
	if cacheFor > 0 && wf.cached != nil && time.Since(wf.cachedAt) < cacheFor {
		return wf.cached, nil
	}
	ws, err := wf.Store.Workflows(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := []*active{}
	for _, w := range ws {
		if !w.Enabled {
			continue
		}
		def, err := workflow.Parse(w.Definition, wf.Catalogue)
		if err != nil {
			wf.log().Warn("workflow does not parse; left out", slog.String("workflow", w.Name), slog.Any("err", err))
			continue
		}
		out = append(out, &active{w: w, def: def})
	}
	wf.cached, wf.cachedAt = out, time.Now()
	return out, nil
}

// Forget drops the cached list of workflows, so the next event reads it.
func (wf *Workflows) Forget() {
	wf.mu.Lock()
	wf.cached = nil
	wf.mu.Unlock()
}

// firing is a workflow about to fire, or firing, on a client.
type firing struct {
	a *active
	c *store.Client
	e *store.Event // the triggering event; nil for none
	f *store.WorkflowFiring
}

// EventsStored implements ingest.Subscriber. A batch of events is taken
// together: each workflow's condition is asked once for all the clients
// its trigger found, and the firings are recorded, and finished, in one
// write each.
func (wf *Workflows) EventsStored(ctx context.Context, events []*store.Event) error {
	all, err := wf.active(ctx)
	if err != nil || len(all) == 0 {
		return err
	}
	var errs []error
	// Cheap first: does any trigger care for this kind of event?
	type maybe struct {
		e  *store.Event
		as []*active
	}
	var maybes []maybe
	var ids []uuid.UUID
	for _, e := range events {
		var as []*active
		for _, a := range all {
			if a.def.Trigger.OnEvent() && a.def.Trigger.Matches(e, &store.Client{}) {
				as = append(as, a)
			}
		}
		if len(as) > 0 {
			maybes = append(maybes, maybe{e, as})
			ids = append(ids, e.ClientID)
		}
	}
	if len(maybes) == 0 {
		return nil
	}
	// The clients, in one query (a client since deleted is not found).
	clients := map[uuid.UUID]*store.Client{}
	for c, err := range segment.All(ctx, wf.Segments, segment.Query{Clients: store.SortedIDs(ids)}) {
		if err != nil {
			return err
		}
		clients[c.ID] = c
	}
	var found []firing
	for _, m := range maybes {
		c, ok := clients[m.e.ClientID]
		if !ok {
			continue
		}
		for _, a := range m.as {
			if c.Team == a.w.Desk && a.def.Trigger.Matches(m.e, c) {
				found = append(found, firing{a: a, c: c, e: m.e})
			}
		}
	}
	if len(found) == 0 {
		return errors.Join(errs...)
	}
	now := wf.now()
	holds, err := wf.conditions(ctx, found, now)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var fire []firing
	for _, fr := range found {
		if !holds[condKey{fr.a, fr.c.ID}] {
			continue
		}
		if guarded, err := wf.guarded(ctx, fr.a, fr.e, fr.c, now); err != nil || guarded {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		fr.f = &store.WorkflowFiring{Workflow: fr.a.w.Name, ClientID: fr.c.ID, Key: fr.e.ID.String(), EventID: fr.e.ID,
			FiredAt: now, Due: now.Add(fr.a.def.After)}
		fire = append(fire, fr)
	}
	_, err = wf.fireAll(ctx, fire)
	return errors.Join(append(errs, err)...)
}

type condKey struct {
	a  *active
	id uuid.UUID
}

// conditions asks each workflow's condition once for the clients its
// trigger found, within its desk, as of now.
func (wf *Workflows) conditions(ctx context.Context, found []firing, now time.Time) (map[condKey]bool, error) {
	holds := map[condKey]bool{}
	ask := map[*active][]uuid.UUID{}
	resolved := map[*active]*segment.Filter{}
	for _, fr := range found {
		k := condKey{fr.a, fr.c.ID}
		if _, seen := holds[k]; seen {
			continue
		}
		f, ok := resolved[fr.a]
		if !ok {
			var err error
			if f, err = wf.resolve(ctx, fr.a.def.Filter); err != nil {
				return nil, fmt.Errorf("workflow %s: %w", fr.a.w.Name, err)
			}
			resolved[fr.a] = f
		}
		// The profile in hand often settles it (tag:vip, risk>=7):
		// only what it cannot is asked of the store.
		m, known := segment.Decide(f, fr.c)
		holds[k] = m && known
		if !known {
			ask[fr.a] = append(ask[fr.a], fr.c.ID)
		}
	}
	for a, ids := range ask {
		f := resolved[a]
		for chunk := range slices.Chunk(ids, segment.MaxLimit) {
			ids, err := wf.Segments.MatchClientIDs(ctx, segment.Query{Filter: f, Teams: []string{a.w.Desk}, Clients: chunk, Now: now})
			if err != nil {
				return nil, fmt.Errorf("workflow %s: %w", a.w.Name, err)
			}
			for _, id := range ids {
				holds[condKey{a, id}] = true
			}
		}
	}
	return holds, nil
}

// resolve reads the saved segments a condition names.
func (wf *Workflows) resolve(ctx context.Context, f *segment.Filter) (*segment.Filter, error) {
	if f == nil || f.Root == nil {
		return f, nil
	}
	return segment.Resolve(ctx, f, segment.Lookup{Segment: func(ctx context.Context, name string) (string, error) {
		s, err := wf.Segments.Segment(ctx, name)
		return s.Filter, err
	}})
}

// guarded is the loop guard: e was caused by this workflow's actions (or
// by a chain that went through it), and the workflow fired on the client
// within its cool-down.
func (wf *Workflows) guarded(ctx context.Context, a *active, e *store.Event, c *store.Client, now time.Time) (bool, error) {
	caused := false
	for _, name := range workflow.Causes(e) {
		caused = caused || name == a.w.Name
	}
	if !caused {
		return false, nil
	}
	last, err := wf.Store.LastWorkflowFiring(ctx, a.w.Name, c.ID)
	if err != nil {
		return false, err
	}
	if !last.IsZero() && now.Sub(last) < a.w.CooldownOrDefault() {
		wf.log().Info("workflow not fired by its own action within its cool-down", slog.String("workflow", a.w.Name),
			slog.String("client", c.Handle), slog.String("event", e.ID.String()))
		return true, nil
	}
	return false, nil
}

// fireAll records the firings, unless recorded already, takes the actions
// that are due (messages are due at once: the scheduler waits for them),
// records them on the timelines and marks them done. It returns how many
// it took.
func (wf *Workflows) fireAll(ctx context.Context, fire []firing) (int, error) {
	if len(fire) == 0 {
		return 0, nil
	}
	begin := make([]*store.WorkflowFiring, len(fire))
	for i, fr := range fire {
		begin[i] = fr.f
	}
	stored, first, err := wf.Store.BeginWorkflowFirings(ctx, begin...)
	if err != nil {
		return 0, err
	}
	now := wf.now()
	var errs []error
	var taken []*store.WorkflowFiring
	var entries []*store.Event
	for i, fr := range fire {
		st := stored[i]
		if st.Done() || !fr.a.def.Action.Messages() && st.Due.After(now) {
			continue // done before, or Tick takes it when it is due
		}
		if !first[i] {
			wf.log().Info("workflow firing taken up again", slog.String("workflow", fr.a.w.Name), slog.String("client", fr.c.Handle), slog.String("key", st.Key))
		}
		fr.f = st
		ev, err := wf.act(ctx, fr)
		if err != nil {
			errs = append(errs, fmt.Errorf("workflow %s on %s: %w", fr.a.w.Name, fr.c.Handle, err))
			continue
		}
		taken = append(taken, st)
		entries = append(entries, ev)
	}
	if len(taken) == 0 {
		return 0, errors.Join(errs...)
	}
	// An entry recorded when the firing was first taken up is a repeat;
	// one recorded with other words (the workflow changed since) stands.
	if _, err := ingest.RecordFirst(ctx, wf.Recorder, entries...); err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	if err := wf.Store.FinishWorkflowFirings(ctx, wf.now(), taken...); err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	return len(taken), errors.Join(errs...)
}

// firingID names what a firing makes (a reminder, a timeline entry): the
// same every time the firing is taken up.
func firingID(f *store.WorkflowFiring, what string) uuid.UUID {
	return uuid.NewSHA1(workflowNamespace, []byte(f.Workflow+"\x00"+f.ClientID.String()+"\x00"+f.Key+"\x00"+what))
}

var workflowNamespace = uuid.MustParse("0b8e1d7c-5f3a-4c1e-9a77-3d2c6e4f8a10")

// act takes a firing's action and returns its timeline entry, to record.
func (wf *Workflows) act(ctx context.Context, fr firing) (*store.Event, error) {
	a, c, f, e := fr.a, fr.c, fr.f, fr.e
	summary := ""
	if e != nil {
		summary = e.Summary
	}
	chain := workflow.Chain(e, a.w.Name)
	act := a.def.Action
	var did string
	text := func() (string, error) {
		s, err := act.Render(workflow.ClientFields(c, a.w.Name, summary))
		if err != nil {
			return "", err
		}
		s, _ = store.Excerpt(s, store.ReminderTextMax-10)
		return s, nil
	}
	remind := func(broker, channel, s, what string) error {
		r := &store.Reminder{ID: firingID(f, what), ClientID: c.ID, Broker: broker, Due: f.Due, Text: s,
			Source: "workflow", CreatedBy: WorkflowActor(a.w.Name), Channel: channel}
		err := wf.Reminders.CreateReminder(ctx, r)
		if store.ErrorCode(err) == store.ECONFLICT {
			return nil // made when the firing was first taken up
		}
		return err
	}
	switch act.Kind {
	case workflow.ActionRemind:
		s, err := text()
		if err != nil {
			return nil, err
		}
		if c.Broker == "" {
			did = "no broker to remind"
			break
		}
		if err := remind(c.Broker, "", s, "remind"); err != nil {
			return nil, err
		}
		did = fmt.Sprintf("reminded <@%s>: %s", c.Broker, s)
	case workflow.ActionPost:
		s, err := text()
		if err != nil {
			return nil, err
		}
		who := c.Broker
		if who == "" {
			who = a.w.UpdatedBy
		}
		if err := remind(who, act.Channel, s, "post"); err != nil {
			return nil, err
		}
		did = fmt.Sprintf("posted to <#%s>: %s", act.Channel, s)
	case workflow.ActionManagers:
		s, err := text()
		if err != nil {
			return nil, err
		}
		ms, err := wf.Teams.Members(ctx, c.Team)
		if err != nil {
			return nil, err
		}
		var told []string
		for _, m := range ms {
			if m.Role != store.RoleManager {
				continue
			}
			if err := remind(m.SlackID, "", s, "manager:"+m.SlackID); err != nil {
				return nil, err
			}
			told = append(told, "<@"+m.SlackID+">")
		}
		if len(told) == 0 {
			did = "the desk has no manager to notify"
		} else {
			did = fmt.Sprintf("notified %s: %s", strings.Join(told, ", "), s)
		}
	case workflow.ActionTag, workflow.ActionUntag, workflow.ActionStage:
		change := store.Retag([]string{act.Tag}, nil)
		did = "tagged " + act.Tag
		switch act.Kind {
		case workflow.ActionUntag:
			change, did = store.Retag(nil, []string{act.Tag}), "untagged "+act.Tag
		case workflow.ActionStage:
			change = func(cl *store.Client) error { cl.Stage = act.Stage; return nil }
			did = "set the stage to " + string(act.Stage)
		}
		p := ingest.Profiles{Clients: wf.Clients, Recorder: wf.Recorder, Annotate: func(ev *store.Event) {
			ev.Summary = "workflow " + a.w.Name + ": " + ev.Summary
			if ev.Attrs.Extra == nil {
				ev.Attrs.Extra = map[string]string{}
			}
			ev.Attrs.Extra[workflow.CausedBy] = chain
		}}
		if _, _, err := p.Update(ctx, c.ID, WorkflowActor(a.w.Name), change); err != nil {
			return nil, err
		}
	}
	ev := ingest.Firing{Client: c.ID, Workflow: a.w.Name, Key: f.Key, At: f.FiredAt, Actor: WorkflowActor(a.w.Name),
		Summary: fmt.Sprintf("workflow %s fired (%s): %s", a.w.Name, a.def.Trigger, did),
		Extra:   map[string]string{workflow.CausedBy: chain, "workflow_name": a.w.Name, "firing": f.Key}}.Event()
	if f.EventID != uuid.Nil {
		ev.Attrs.Extra["event_id"] = f.EventID.String()
	}
	if a.def.After > 0 {
		ev.Attrs.Extra["due"] = f.Due.Format(time.RFC3339)
	}
	wf.log().Info("workflow fired", slog.String("workflow", a.w.Name), slog.String("client", c.Handle), slog.String("key", f.Key), slog.String("did", did))
	return ev, nil
}

// tickGrace is how long a pending firing is left to the subscriber that
// began it before Tick takes it up.
const tickGrace = time.Minute

// Tick takes up pending firings that are due (delayed actions, and
// firings a crash cut off) and looks for quiet clients ("no contact for N
// days"). It returns how many firings it finished. Run it periodically in
// any number of replicas: a firing is done once, however many take it up.
func (wf *Workflows) Tick(ctx context.Context) (int, error) {
	all, err := wf.active(ctx)
	if err != nil {
		return 0, err
	}
	byName := map[string]*active{}
	for _, a := range all {
		byName[a.w.Name] = a
	}
	now := wf.now()
	var errs []error
	due, err := wf.Store.DueWorkflowFirings(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	var fire []firing
	for _, f := range due {
		a := byName[f.Workflow]
		delayed := f.Due.After(f.FiredAt)
		if a == nil || !delayed && now.Sub(f.FiredAt) < tickGrace {
			// Disabled or deleted since: left pending, done if enabled again.
			continue
		}
		c, err := wf.Clients.Client(ctx, f.ClientID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var e *store.Event
		if f.EventID != uuid.Nil && wf.Timeline != nil {
			if e, err = wf.Timeline.Event(ctx, f.ClientID, f.EventID); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				errs = append(errs, err)
				continue
			}
		}
		fire = append(fire, firing{a: a, c: c, e: e, f: f})
	}
	for _, a := range all {
		if a.def.Trigger.Kind != workflow.TriggerNoContact {
			continue
		}
		quiet, err := wf.Quiet(ctx, a, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, q := range quiet {
			fire = append(fire, firing{a: a, c: q.Client, f: &store.WorkflowFiring{Workflow: a.w.Name, ClientID: q.Client.ID, Key: q.Key,
				FiredAt: now, Due: now.Add(a.def.After)}})
		}
	}
	done, err := wf.fireAll(ctx, fire)
	return done, errors.Join(append(errs, err)...)
}

// QuietClient is a client a "no contact" workflow is due for, and the
// key of its quiet spell.
type QuietClient struct {
	Client *store.Client
	Key    string
	Since  time.Time // the last real contact, or when the client was added
}

// Quiet lists the desk's clients with no real contact in the workflow's
// days who match its condition, as of now.
func (wf *Workflows) Quiet(ctx context.Context, a *active, now time.Time) ([]QuietClient, error) {
	text := fmt.Sprintf("last.contact>%dd", a.def.Trigger.Days)
	if a.def.Filter != nil && a.def.Filter.Root != nil {
		text += " (" + a.def.Filter.String() + ")"
	}
	f, err := segment.Parse(text, wf.Catalogue)
	if err != nil {
		return nil, err
	}
	if f, err = segment.Resolve(ctx, f, segment.Lookup{Segment: func(ctx context.Context, name string) (string, error) {
		s, err := wf.Segments.Segment(ctx, name)
		return s.Filter, err
	}}); err != nil {
		return nil, err
	}
	var out []QuietClient
	span := time.Duration(a.def.Trigger.Days) * 24 * time.Hour
	for c, err := range segment.All(ctx, wf.Segments, segment.Query{Filter: f, Teams: []string{a.w.Desk}, Now: now}) {
		if err != nil {
			return nil, err
		}
		st, err := wf.Stats.ContactStats(ctx, c.ID, now)
		if err != nil {
			return nil, err
		}
		since := st.Last()
		if since.IsZero() {
			since = c.CreatedAt // never contacted: quiet since it was added
		}
		if now.Sub(since) < span {
			continue
		}
		out = append(out, QuietClient{Client: c, Since: since, Key: "quiet:" + since.UTC().Format(time.RFC3339Nano)})
	}
	return out, nil
}

// DryRunDays is how far back a dry run looks.
const DryRunDays = 30

// DryRun replays the last DryRunDays of the desk's timeline through the
// workflow's trigger and condition (as of now, as a firing evaluates it)
// and returns the firings it would have made, one per client and event,
// in the clients' handle order and the events' time order. It changes
// nothing. Events the workflow's own actions caused are passed over; a
// "no contact" workflow lists the clients quiet now.
func (wf *Workflows) DryRun(ctx context.Context, w *store.Workflow) ([]workflow.DryFiring, error) {
	def, err := workflow.Parse(w.Definition, wf.Catalogue)
	if err != nil {
		return nil, err
	}
	a := &active{w: w, def: def}
	now := wf.now()
	if def.Trigger.Kind == workflow.TriggerNoContact {
		quiet, err := wf.Quiet(ctx, a, now)
		if err != nil {
			return nil, err
		}
		out := make([]workflow.DryFiring, len(quiet))
		for i, q := range quiet {
			out[i] = workflow.DryFiring{Client: q.Client, Key: q.Key, At: q.Since, Summary: "no real contact since " + q.Since.Format("2006-01-02")}
		}
		return out, nil
	}
	f := def.Filter
	if f != nil && f.Root != nil {
		if f, err = segment.Resolve(ctx, f, segment.Lookup{Segment: func(ctx context.Context, name string) (string, error) {
			s, err := wf.Segments.Segment(ctx, name)
			return s.Filter, err
		}}); err != nil {
			return nil, err
		}
	}
	var out []workflow.DryFiring
	since := now.Add(-DryRunDays * 24 * time.Hour)
	for c, err := range segment.All(ctx, wf.Segments, segment.Query{Filter: f, Teams: []string{w.Desk}, Now: now}) {
		if err != nil {
			return nil, err
		}
		var mine []workflow.DryFiring
		q := store.EventQuery{Since: since, Limit: 1000}
		for {
			page, err := wf.Timeline.Events(ctx, c.ID, q)
			if err != nil {
				return nil, err
			}
			for _, e := range page.Events {
				caused := false
				for _, name := range workflow.Causes(e) {
					caused = caused || name == w.Name
				}
				if !caused && def.Trigger.Matches(e, c) {
					mine = append(mine, workflow.DryFiring{Client: c, Key: e.ID.String(), At: e.Time, Summary: e.Summary})
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		for i := len(mine) - 1; i >= 0; i-- { // oldest first
			out = append(out, mine[i])
		}
	}
	return out, nil
}
