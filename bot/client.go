package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot/cmdline"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// /client add <handle> "<name>" [field=value …]
func clientAdd(ctx context.Context, c *call) Response {
	hw := c.args.At(0)
	if c.args.Len() == 0 || hw.Eq >= 0 {
		return c.usageError("Start with the new client's handle, then its name.")
	}
	handle, err := store.NormalizeHandle(hw.Text)
	if err != nil {
		return c.usageError("%s.", sentence(err))
	}
	// The name is the words up to the first field=value.
	end := 1
	for end < c.args.Len() && c.args.At(end).Eq < 0 {
		end++
	}
	name := strings.Join(cmdline.Texts(c.args.Words[1:end]), " ")
	if strings.TrimSpace(name) == "" {
		return c.usageError("Give the client's name after the handle, in quotes if it has spaces.")
	}
	fields := c.args.Words[end:]
	if r := checkFieldWords(c, fields); r != nil {
		return *r
	}
	cl := &store.Client{Handle: handle, Name: name}
	for _, w := range fields {
		if err := setField(cl, w); err != nil {
			return fieldError(err)
		}
	}
	if cl.Team == "" {
		if len(c.actor.Brokers) != 1 {
			return c.usageError("Say which desk the client belongs to with team=<desk> (you are a broker on: %s).", c.actor.brokerDesks())
		}
		cl.Team = c.actor.Brokers[0]
	}
	desk, err := store.NormalizeHandle(cl.Team)
	if err != nil {
		return textResponse(Invalid, "team: %q is not a desk name. Nothing was changed.", cl.Team)
	}
	cl.Team = desk
	if !c.actor.canChange(cl.Team) {
		return textResponse(Refused, "You may add clients only to desks where you are a broker (%s). Nothing was changed.", c.actor.brokerDesks())
	}
	if cl.Broker == "" && slices.Contains(c.actor.Brokers, cl.Team) {
		cl.Broker = c.actor.ID
	}
	if err := c.checkDeskAndBroker(ctx, "", cl.Team, cl.Broker); err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			return fieldError(err)
		}
		return c.fail(err, "add "+handle)
	}
	note, err := c.b.unrecorded(c.profiles().Create(ctx, cl, c.actor.ID, fmt.Sprintf("client added to %s by %s", cl.Team, userRef(c.actor.ID))))
	if err != nil {
		return c.fail(err, "add "+handle)
	}
	resp := c.b.profile(cl, c.actor)
	resp.Text = fmt.Sprintf("Added %s (%s) to %s.%s", cl.Handle, cl.Name, cl.Team, note)
	resp.Blocks = append([]Block{Paragraph{resp.Text}}, resp.Blocks...)
	return resp
}

// /client show <client>
func clientShow(ctx context.Context, c *call) Response {
	if c.args.Len() != 1 {
		if c.args.Len() == 0 {
			return c.usageError("Which client?")
		}
		return c.usageError("Show one client at a time; to search by name use /client find %s.", c.args.Rest(0))
	}
	cl, r := c.client(ctx, c.args.At(0).Text, false)
	if r != nil {
		return *r
	}
	resp := c.b.profile(cl, c.actor)
	act, err := c.b.activity(ctx, cl, c.actor)
	if err != nil {
		return c.b.fail(err, "read the client's statistics")
	}
	if len(act) > 0 {
		// After the profile's fields, before its footer and buttons.
		blocks := append([]Block{}, resp.Blocks[:2]...)
		blocks = append(blocks, Heading{"Activity"}, act)
		resp.Blocks = append(blocks, resp.Blocks[2:]...)
	}
	return resp
}

// /client find <text> [tag:<tag>] [@broker]
func clientFind(ctx context.Context, c *call) Response {
	f := store.ClientFilter{Teams: c.actor.visibleDesks(), Limit: 21}
	var text []string
	for _, w := range c.args.Words {
		if id, ok := w.User(); ok {
			f.Broker = id
			continue
		}
		if t, ok := strings.CutPrefix(strings.ToLower(w.Text), "tag:"); ok {
			tag, err := store.NormalizeTag(t)
			if err != nil {
				return c.usageError("%s.", sentence(err))
			}
			f.Tag = tag
			continue
		}
		text = append(text, w.Text)
	}
	f.Text = strings.Join(text, " ")
	found, err := c.b.clients.FindClients(ctx, f)
	if err != nil {
		return c.b.fail(err, "search clients")
	}
	scope := "on your desks"
	if c.actor.Admin {
		scope = "on any desk"
	}
	if len(found) == 0 {
		return textResponse(OK, "No clients match %q %s.", c.args.Rest(0), scope)
	}
	list := List{}
	for i, cl := range found {
		if i == 20 {
			break
		}
		list.Items = append(list.Items, clientLine(cl))
	}
	text0 := store.Count(len(list.Items), "client") + " " + scope
	if len(found) > 20 {
		text0 = "The first 20 clients " + scope + "; narrow the search to see others"
	}
	if f.Text != "" || f.Tag != "" || f.Broker != "" {
		text0 += fmt.Sprintf(" matching %q", c.args.Rest(0))
	}
	return Response{Text: text0 + ".", Blocks: []Block{Context{text0 + ":"}, list}}
}

func clientLine(cl *store.Client) string {
	parts := []string{cl.Handle + " — " + cl.Name}
	if cl.Company != "" && cl.Company != cl.Name {
		parts[0] += " (" + cl.Company + ")"
	}
	parts = append(parts, cl.Team, string(cl.Stage))
	if cl.Broker != "" {
		parts = append(parts, userRef(cl.Broker))
	}
	return strings.Join(parts, " · ")
}

// /client set <client> field=value …
func clientSet(ctx context.Context, c *call) Response {
	if c.args.Len() == 0 || c.args.At(0).Eq >= 0 {
		return c.usageError("Name the client first, then the fields to change.")
	}
	fields := c.args.Words[1:]
	if len(fields) == 0 {
		return c.usageError("Say what to change as field=value; `/client set help` lists the fields.")
	}
	if r := checkFieldWords(c, fields); r != nil {
		return *r
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	// A new broker or desk is checked against the desks before the update
	// (the check reads the desk store, which the update's transaction must
	// not wait on); the update then holds the client to what was checked.
	probe := store.Client{Broker: cl.Broker, Team: cl.Team}
	for _, w := range fields {
		if k := strings.ToLower(strings.TrimSpace(w.Key())); k == "broker" || k == "team" {
			_ = setField(&probe, w) // a bad value is answered by the update
		}
	}
	if d, err := store.NormalizeHandle(probe.Team); err == nil {
		probe.Team = d
	}
	var checked error
	if probe.Broker != cl.Broker || probe.Team != cl.Team {
		prev := cl.Team
		if probe.Team != cl.Team {
			prev = ""
		}
		checked = c.checkDeskAndBroker(ctx, prev, probe.Team, probe.Broker)
		if checked != nil && store.ErrorCode(checked) != store.EINVALID {
			return c.fail(checked, "change "+cl.Handle)
		}
	}
	updated, changes, err := c.profiles().Update(ctx, cl.ID, c.actor.ID, func(x *store.Client) error {
		team, broker := x.Team, x.Broker
		for _, w := range fields {
			if err := setField(x, w); err != nil {
				return err
			}
		}
		if x.Team != team {
			desk, err := store.NormalizeHandle(x.Team)
			if err != nil {
				return store.Invalid("team", "%q is not a desk name", x.Team)
			}
			x.Team = desk
			if !c.actor.canChange(desk) {
				return store.Invalid("team", "you may move a client only to a desk where you are a broker (%s)", c.actor.brokerDesks())
			}
		}
		if x.Team == team && x.Broker == broker {
			return nil
		}
		if x.Team != probe.Team || x.Broker != probe.Broker {
			return store.Invalid("broker", "%s's broker or desk changed while this command ran; run it again", cl.Handle)
		}
		return checked
	})
	note, err := c.b.unrecorded(err)
	if err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			return fieldError(err)
		}
		return c.fail(err, "change "+cl.Handle)
	}
	return c.changed(updated, changes, note)
}

// changed answers a profile change (its timeline entry recorded by
// ingest.Profiles; note says when it could not be).
func (c *call) changed(cl *store.Client, changes []store.Change, note string) Response {
	if len(changes) == 0 {
		return textResponse(OK, "Nothing changed: %s already has those values.", cl.Handle)
	}
	items := make([]string, len(changes))
	for i, ch := range changes {
		items[i] = ch.String()
	}
	text := fmt.Sprintf("Updated %s: %s.%s", cl.Handle, strings.Join(items, "; "), note)
	return Response{Text: text, Blocks: []Block{
		Paragraph{fmt.Sprintf("Updated %s.%s", cl.Handle, note)},
		List{Items: items},
		Actions{{Label: "Show profile", Action: ActionShowClient, Value: cl.Handle}},
	}}
}

// /client tag <client> +tag -tag …
func clientTag(ctx context.Context, c *call) Response {
	if c.args.Len() < 2 {
		return c.usageError("Name the client, then tags to add (+tag) or remove (-tag).")
	}
	var add, remove []string
	op := map[string]rune{} // tag -> '+' or '-', to catch "+a -a"
	for _, w := range c.args.Words[1:] {
		t := w.Text
		r := []rune(t)
		if len(r) == 0 {
			return c.usageError("An empty tag cannot be added or removed.")
		}
		sign := '+'
		switch {
		case strings.ContainsRune("-−–—", r[0]):
			sign, t = '-', string(r[1:])
		case r[0] == '+':
			t = string(r[1:])
		}
		tag, err := store.NormalizeTag(t)
		if err != nil {
			return c.usageError("%s.", sentence(err))
		}
		if prev, ok := op[tag]; ok && prev != sign {
			return c.usageError("You asked both to add and to remove the tag %q: keep one of +%s and -%s. Nothing was changed.", tag, tag, tag)
		}
		op[tag] = sign
		if sign == '-' {
			remove = append(remove, tag)
		} else {
			add = append(add, tag)
		}
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	updated, changes, err := c.profiles().Update(ctx, cl.ID, c.actor.ID, store.Retag(add, remove))
	note, err := c.b.unrecorded(err)
	if err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			return c.usageError("%s.", sentence(err))
		}
		return c.fail(err, "tag "+cl.Handle)
	}
	// Removing a tag the client does not have is said as such, not as
	// "already has those values".
	var absent []string
	for _, t := range remove {
		if !slices.Contains(cl.Tags, t) {
			absent = append(absent, fmt.Sprintf("%q", t))
		}
	}
	if len(absent) == 0 {
		return c.changed(updated, changes, note)
	}
	no := fmt.Sprintf("%s has no tag %s", updated.Handle, strings.Join(absent, " or "))
	if len(changes) == 0 {
		return textResponse(OK, "Nothing changed: %s.", no)
	}
	resp := c.changed(updated, changes, note)
	resp.Text += " (" + no + ".)"
	resp.Blocks = append([]Block{Context{no + "."}}, resp.Blocks...)
	return resp
}

// /client link <client> #channel
func clientLink(ctx context.Context, c *call) Response {
	if c.args.Len() == 0 || c.args.Len() > 2 {
		return c.usageError("Name the client and the channel.")
	}
	channel := c.req.Channel
	if c.args.Len() == 2 {
		w := c.args.At(1)
		id, ok := w.Channel()
		switch {
		case ok:
			channel = id
		case strings.EqualFold(w.Text, "here"):
		case strings.HasPrefix(w.Text, "#"):
			return c.usageError("Slack sent %s as plain text: pick the channel from Slack's suggestions as you type # so it arrives as a link, or run `/client link %s here` in the channel.", w.Text, c.args.At(0).Text)
		default:
			return c.usageError("%q is not a channel.", w.Text)
		}
	}
	if channel == "" {
		return c.usageError("Which channel? Name it with # (or run the command in the channel).")
	}
	cl, r := c.client(ctx, c.args.At(0).Text, true)
	if r != nil {
		return *r
	}
	if r := c.checkInChannel(ctx, channel, "link it to a client"); r != nil {
		return *r
	}
	prev, err := c.b.links.ChannelClient(ctx, channel)
	switch {
	case err == nil && prev != cl.ID:
		if other, err := c.b.clients.Client(ctx, prev); err == nil && !c.actor.canChange(other.Team) {
			return textResponse(Refused, "%s is linked to a client of another desk; ask an admin to move it. Nothing was changed.", channelRef(channel))
		}
	case err == nil:
		return textResponse(OK, "%s is already linked to %s.", channelRef(channel), cl.Handle)
	case store.ErrorCode(err) != store.ENOTFOUND:
		return c.b.fail(err, "link the channel")
	}
	if err := c.b.links.LinkChannel(ctx, channel, cl.ID, c.actor.ID); err != nil {
		return c.b.fail(err, "link the channel")
	}
	e := ingest.Written{Client: cl.ID, Kind: store.KindEvent, Source: store.SourceLink, SourceID: channel + "/" + c.sourceID(),
		Actor: c.actor.ID, At: c.b.now(), Text: fmt.Sprintf("Slack channel %s linked by %s", channelRef(channel), userRef(c.actor.ID))}.Event()
	e.Attrs.Chat = &store.ChatAttrs{Channel: channel}
	note := c.b.record(ctx, e)
	return textResponse(OK, "Linked %s to %s: messages posted there are logged on its timeline. Invite the BrokerSync app to the channel if it is not there yet.%s", channelRef(channel), cl.Handle, note)
}

// checkDeskAndBroker checks a client's desk and broker before they are
// stored: the desk must have people on it (a client of a desk nobody is on
// is invisible to every broker, and a typo would hide it), and the broker
// must be a broker or manager of that desk, and a person. known is a desk
// already known to exist ("" for none). EINVALID answers the user; other
// errors are the stores'.
func (c *call) checkDeskAndBroker(ctx context.Context, known, desk, broker string) error {
	onDesk := func(desks ...[]string) bool {
		return slices.ContainsFunc(desks, func(ds []string) bool { return slices.Contains(ds, desk) })
	}
	// The actor's own desks are known to exist, and the actor to be on them.
	if desk != known && !onDesk(c.actor.Brokers, c.actor.Manages) {
		ms, err := c.b.teams.Members(ctx, desk)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return store.Invalid("team", "nobody is on a desk called %s: check the spelling, or put its people on it first with /team add @user %s broker", desk, desk)
		}
	}
	if broker == "" || broker == c.actor.ID && onDesk(c.actor.Brokers, c.actor.Manages) {
		return nil
	}
	if !cmdline.IsUserID(broker) {
		return store.Invalid("broker", "%q is not a person: type @ and pick them from Slack's suggestions", broker)
	}
	ms, err := c.b.teams.Memberships(ctx, broker)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ms, func(m store.Member) bool { return m.Desk == desk }) {
		return store.Invalid("broker", "%s is not a broker or manager of %s; a client's broker must be on its desk (an admin adds people with /team add)", userRef(broker), desk)
	}
	if c.b.dir != nil {
		u, err := c.b.dir.User(ctx, broker)
		switch {
		case store.ErrorCode(err) == store.ENOTFOUND:
			return store.Invalid("broker", "Slack has no user %s; a client's broker must be a person", broker)
		case err != nil:
			return err
		case u.Deleted || u.Bot:
			return store.Invalid("broker", "%s is a bot or a deactivated account; a client's broker must be a person", userRef(broker))
		}
	}
	return nil
}

// checkInChannel answers a link to a channel the actor is not in: its
// messages would land on a timeline they and their desk read, so a private
// channel of another desk must not be linkable from outside. Slack says who
// is in a channel; without Slack (brokersync exec with no bot token) only
// the channel the command names as its own may be linked.
func (c *call) checkInChannel(ctx context.Context, channel, purpose string) *Response {
	var r Response
	if c.b.dir == nil {
		if channel == c.req.Channel {
			return nil
		}
		r = textResponse(Refused, "Without Slack, BrokerSync cannot check who is in %s: link it from the channel itself (`/client link <client> here`). Nothing was changed.", channelRef(channel))
		return &r
	}
	in, err := c.b.dir.InChannel(ctx, channel, c.actor.ID)
	switch {
	case err == nil && in:
		return nil
	case err == nil:
		r = textResponse(Refused, "You are not in %s, so you may not %s. Nothing was changed.", channelRef(channel), purpose)
	case store.ErrorCode(err) == store.ENOTFOUND:
		r = textResponse(Refused, "BrokerSync cannot see %s: invite the BrokerSync app to the channel (/invite @BrokerSync), then try again. Nothing was changed.", channelRef(channel))
	case store.ErrorCode(err) == store.EFORBIDDEN:
		r = textResponse(Failed, "BrokerSync cannot ask Slack who is in %s: %s. Nothing was changed.", channelRef(channel), store.ErrorMessage(err))
	default:
		r = c.b.fail(err, "check who is in "+channelRef(channel))
	}
	return &r
}

// checkFieldWords answers words that are not field=value.
func checkFieldWords(c *call, ws []cmdline.Word) *Response {
	for _, w := range ws {
		var r Response
		switch {
		case w.Unclosed != 0:
			r = c.usageError("The quote %c in %q is never closed.", w.Unclosed, w.Text)
		case w.Eq < 0:
			r = c.usageError("%q is not field=value; quote values with spaces, as in name=\"Acme Grain\".", w.Text)
		case w.Eq == 0:
			r = c.usageError("%q has no field name before the =.", w.Text)
		default:
			continue
		}
		return &r
	}
	return nil
}

// setField applies one field=value word. A mention as the value (broker=@jane)
// stands for the user's id.
func setField(cl *store.Client, w cmdline.Word) error {
	v := w.Value()
	if w.Ref.Kind == '@' || w.Ref.Kind == '#' {
		v = w.Ref.ID
	}
	return store.SetField(cl, w.Key(), v)
}

func fieldError(err error) Response {
	return textResponse(Invalid, "%s. Nothing was changed; `/client set help` lists the fields and how to write them.", sentence(err))
}

// profiles writes the actor's profile changes, each on the timeline too.
func (c *call) profiles() ingest.Profiles {
	return ingest.Profiles{Clients: c.guarded(), Recorder: c.b.rec}
}

// guarded is the client store with the actor's right to change a client
// checked inside the update's transaction, so a client moved to another
// desk meanwhile is not changed.
func (c *call) guarded() store.ClientStore { return guardedStore{c.b.clients, c.actor} }

type guardedStore struct {
	store.ClientStore
	actor *Actor
}

func (g guardedStore) UpdateClient(ctx context.Context, id uuid.UUID, actor string, change func(*store.Client) error) (*store.Client, []store.Change, error) {
	return g.ClientStore.UpdateClient(ctx, id, actor, func(cl *store.Client) error {
		if !g.actor.canChange(cl.Team) {
			return errForbidden
		}
		return change(cl)
	})
}
