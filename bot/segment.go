package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/clientcsv"
	"github.com/brokersync/brokersync/store/segment"
)

// Segments keeps saved segments and matches filters against clients.
type Segments interface {
	segment.Matcher
	segment.IDMatcher
	segment.Store
	segment.MembershipStore
}

// previewSize is how many clients a preview lists.
const previewSize = 10

func segmentHelp() string {
	var b strings.Builder
	b.WriteString("A filter is terms separated by spaces, all of which must hold; OR between terms, parentheses to group, - before a term or group to negate, quotes around values with spaces:\n  asset:energy risk>=7 last.contact>30d\n  (tag:vip OR risk>=8) -stage:closed\nasset: and commodity: match the profile's commodities or fills of the last 365 days; prefers: and traded: match only one of them.\nTerms:")
	for _, t := range segment.Terms() {
		fmt.Fprintf(&b, "\n  %s — %s", t[1], t[2])
	}
	return b.String()
}

// filter parses and resolves a filter for this call's actor. The response
// explains a mistake with a caret under it.
func (c *call) filter(ctx context.Context, text string, saving string) (*segment.Filter, *Response) {
	f, err := segment.Parse(text, c.b.cat)
	if err == nil {
		f, err = segment.Resolve(ctx, f, c.lookup(saving, text))
	}
	var pe *segment.Error
	if errors.As(err, &pe) {
		r := textResponse(Invalid, "That filter has a mistake: %s.\n```\n%s\n```\n`/segment help` lists the terms.", pe.Error(), pe.Caret())
		return nil, &r
	}
	if err != nil {
		r := c.b.fail(err, "read the saved segments")
		return nil, &r
	}
	return f, nil
}

// lookup resolves segment: terms from the store (with the one being saved
// read as its new filter, so that a loop through it is caught) and
// broker:@name among the people on desks.
func (c *call) lookup(saving, text string) segment.Lookup {
	return segment.Lookup{
		Segment: func(ctx context.Context, name string) (string, error) {
			if name == saving {
				return text, nil
			}
			s, err := c.b.segments.Segment(ctx, name)
			if err == nil {
				var ok bool
				if ok, err = c.sees(ctx, s); err == nil && !ok {
					err = store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
				}
			}
			return s.Filter, err
		},
		Broker: func(ctx context.Context, name string) (string, bool) {
			if c.b.dir == nil {
				return "", false
			}
			ms, err := c.b.teams.Members(ctx, "")
			if err != nil {
				return "", false
			}
			for _, m := range ms {
				if u, err := c.b.dir.User(ctx, m.SlackID); err == nil && strings.EqualFold(u.Name, name) {
					return m.SlackID, true
				}
			}
			return "", false
		},
	}
}

func (c *call) query(f *segment.Filter) segment.Query {
	return segment.Query{Filter: f, Teams: c.actor.visibleDesks(), Now: c.b.now()}
}

func (c *call) segmentsReady() *Response {
	if c.b.segments == nil {
		r := textResponse(Failed, "Segments are not set up on this BrokerSync.")
		return &r
	}
	return nil
}

// /segment list
func segmentList(ctx context.Context, c *call) Response {
	if r := c.segmentsReady(); r != nil {
		return *r
	}
	saved, err := c.b.segments.Segments(ctx)
	if err != nil {
		return c.b.fail(err, "list segments")
	}
	if len(saved) == 0 {
		return textResponse(OK, "No saved segments yet. Try one with /segment preview <filter>, then /segment save <name> <filter>.")
	}
	list := List{Title: "Saved segments (counts are of clients on your desks, as of now):"}
	for _, s := range saved {
		if ok, err := c.sees(ctx, s); err != nil {
			return c.b.fail(err, "list segments")
		} else if !ok {
			continue
		}
		line := fmt.Sprintf("*%s* `%s`", s.Name, s.Filter)
		f, r := c.filter(ctx, s.Filter, "")
		if r != nil {
			line += " — no longer valid, edit it with /segment save"
		} else if n, err := c.b.segments.CountClients(ctx, c.query(f)); err != nil {
			return c.b.fail(err, "count the clients of "+s.Name)
		} else {
			line += " — " + store.Count(n, "client")
		}
		list.Items = append(list.Items, line)
	}
	if len(list.Items) == 0 {
		return textResponse(OK, "No saved segments on your desks yet. Try one with /segment preview <filter>, then /segment save <name> <filter>.")
	}
	return Response{Status: OK, Text: store.Count(len(list.Items), "saved segment"), Blocks: []Block{list}}
}

// /segment preview <filter>
func segmentPreview(ctx context.Context, c *call) Response {
	if r := c.segmentsReady(); r != nil {
		return *r
	}
	text := c.args.Rest(0)
	if text == "" {
		return c.usageError("Give a filter, e.g. /segment preview asset:energy risk>=7 last.contact>30d")
	}
	f, r := c.filter(ctx, text, "")
	if r != nil {
		return *r
	}
	return c.preview(ctx, f, "Filter `"+f.String()+"`", nil)
}

// preview counts the clients f matches and lists the first ones with the
// statistics the filter uses.
func (c *call) preview(ctx context.Context, f *segment.Filter, title string, extra []Block) Response {
	q := c.query(f)
	n, err := c.b.segments.CountClients(ctx, q)
	if err != nil {
		return c.b.fail(err, "count the matching clients")
	}
	q.Limit = previewSize
	page, err := c.b.segments.MatchClients(ctx, q)
	if err != nil {
		return c.b.fail(err, "find the matching clients")
	}
	scope := "on your desks"
	if c.actor.Admin {
		scope = "on all desks"
	}
	head := fmt.Sprintf("%s: %s %s.", title, store.Count(n, "client"), scope)
	blocks := append([]Block{Paragraph{head}}, extra...)
	if len(page) > 0 {
		list := List{}
		for _, cl := range page {
			line := clientLine(cl)
			if facts, err := c.facts(ctx, cl, f.Uses()); err != nil {
				return c.b.fail(err, "read the clients' statistics")
			} else if facts != "" {
				line += " · " + facts
			}
			list.Items = append(list.Items, line)
		}
		if n > len(page) {
			list.Items = append(list.Items, fmt.Sprintf("… and %d more", n-len(page)))
		}
		blocks = append(blocks, list)
	}
	return Response{Status: OK, Text: head, Blocks: blocks}
}

// facts are a client's values of the terms a filter uses.
func (c *call) facts(ctx context.Context, cl *store.Client, uses []string) (string, error) {
	now := c.b.now()
	var (
		tr     *store.TradeStats
		co     *store.ContactStats
		se     *store.SentimentStats
		re     *store.Responsiveness
		out    []string
		loaded bool
	)
	load := func() error {
		if loaded || c.b.stats == nil {
			return nil
		}
		loaded = true
		t, err := c.b.stats.TradeStats(ctx, cl.ID, now)
		if err != nil {
			return err
		}
		k, err := c.b.stats.ContactStats(ctx, cl.ID, now)
		if err != nil {
			return err
		}
		s, err := c.b.stats.SentimentStats(ctx, cl.ID, now)
		if err != nil {
			return err
		}
		r, err := c.b.stats.Responsiveness(ctx, cl.ID)
		if err != nil {
			return err
		}
		tr, co, se, re = &t, &k, &s, &r
		return nil
	}
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := now.Sub(t)
		if d < 48*time.Hour {
			return store.Count(int(d/time.Hour), "hour") + " ago"
		}
		return store.Count(int(d/(24*time.Hour)), "day") + " ago"
	}
	for _, u := range uses {
		switch u {
		case "tag":
			out = append(out, "tags "+orNone(strings.Join(cl.Tags, ", ")))
		case "stage":
			out = append(out, "stage "+string(cl.Stage))
		case "horizon":
			out = append(out, "horizon "+orNone(string(cl.Risk.Horizon)))
		case "risk":
			if cl.Risk.Tolerance > 0 {
				out = append(out, fmt.Sprintf("risk %d", cl.Risk.Tolerance))
			} else {
				out = append(out, "risk not assessed")
			}
		case "desk":
			out = append(out, "desk "+cl.Team)
		case "broker":
			out = append(out, "broker "+userRef(cl.Broker))
		case "onboarded":
			out = append(out, "onboarded "+orNone(cl.Onboarded.String()))
		case "prefers":
			out = append(out, "prefers "+orNone(strings.Join(cl.Trading.Commodities, ", ")))
		}
		if tr == nil && !strings.HasPrefix(u, "segment") && !strings.Contains("tag stage horizon risk desk broker onboarded prefers", u) {
			if err := load(); err != nil {
				return "", err
			}
		}
		if tr == nil {
			continue
		}
		switch {
		case u == "commodity" || u == "asset" || u == "traded":
			if u != "traded" {
				out = append(out, "prefers "+orNone(strings.Join(cl.Trading.Commodities, ", ")))
			}
			out = append(out, "traded "+orNone(strings.Join(tr.Commodities, ", ")))
		case strings.HasPrefix(u, "trades."):
			out = append(out, fmt.Sprintf("%s %s", store.Count(pick(u, tr.Trades30d, tr.Trades90d, tr.Trades365d), "fill"), window(u)))
		case strings.HasPrefix(u, "volume."):
			out = append(out, fmt.Sprintf("%s contracts %s", num(pick(u, tr.Volume30d, tr.Volume90d, tr.Volume365d)), window(u)))
		case strings.HasPrefix(u, "notional."):
			out = append(out, fmt.Sprintf("notional %s %s", Money(pick(u, tr.Notional30d, tr.Notional90d, tr.Notional365d)), window(u)))
		case u == "last.contact":
			out = append(out, "last contact "+ago(co.Last()))
		case u == "last.inbound":
			out = append(out, "last inbound "+ago(co.LastInbound))
		case u == "last.outbound":
			out = append(out, "last outbound "+ago(co.LastOutbound))
		case u == "last.fill":
			out = append(out, "last fill "+ago(tr.LastFill))
		case u == "sentiment":
			if se.Count30d == 0 {
				out = append(out, "sentiment: no messages in 30 days")
			} else {
				out = append(out, fmt.Sprintf("sentiment %+.2f", se.Mean30d))
			}
		case u == "responsive":
			out = append(out, responsiveFact(*re))
		case u == "reply.median":
			out = append(out, replyFact(*re))
		}
	}
	return strings.Join(out, " · "), nil
}

// responsiveFact says how often a client follows recommendations.
func responsiveFact(r store.Responsiveness) string {
	share, ok := r.Share()
	if !ok {
		return "responsive: no recommendation decided"
	}
	return fmt.Sprintf("followed %d of %s (%.0f%%)", r.Followed, store.Count(r.Recommendations, "recommendation"), share*100)
}

// replyFact says how soon a client replies.
func replyFact(r store.Responsiveness) string {
	if r.Replies == 0 {
		return "never replied to an email or chat"
	}
	return fmt.Sprintf("replies in %s (median of %d)", shortDuration(r.ReplyMedian), r.Replies)
}

// shortDuration is a duration as a broker says it: 40 min, 5 h, 3 days.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func window(term string) string { _, w, _ := strings.Cut(term, "."); return w }

func pick[T any](term string, d30, d90, d365 T) T {
	switch window(term) {
	case "30d":
		return d30
	case "90d":
		return d90
	}
	return d365
}

// /segment show <name>
func segmentShow(ctx context.Context, c *call) Response {
	if r := c.segmentsReady(); r != nil {
		return *r
	}
	if c.args.Len() != 1 {
		return c.usageError("Which segment? /segment list names them.")
	}
	s, r := c.savedSegment(ctx, c.args.At(0).Text)
	if r != nil {
		return *r
	}
	f, r := c.filter(ctx, s.Filter, "")
	if r != nil {
		return textResponse(Invalid, "Segment %s is `%s`, which no longer works: %s", s.Name, s.Filter, r.Text)
	}
	saved := Context{fmt.Sprintf("Saved by %s on %s; last changed by %s on %s.", userRef(s.CreatedBy), formatTime(s.CreatedAt, c.actor.Location), userRef(s.UpdatedBy), formatTime(s.UpdatedAt, c.actor.Location))}
	return c.preview(ctx, f, "Segment *"+s.Name+"* `"+s.Filter+"`", []Block{saved})
}

// sees reports whether the actor may see a saved segment: its filter may
// name desks, brokers and tags of the desks of whoever saved it, so it is
// shown to admins, to whoever saved it and to people sharing a desk with
// them.
func (c *call) sees(ctx context.Context, s segment.Saved) (bool, error) {
	if c.actor.Admin || s.CreatedBy == c.actor.ID {
		return true, nil
	}
	ms, err := c.b.teams.Memberships(ctx, s.CreatedBy)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if c.actor.canSee(m.Desk) {
			return true, nil
		}
	}
	return false, nil
}

// savedSegment reads a saved segment the actor may see; one they may not
// is answered as one that does not exist.
func (c *call) savedSegment(ctx context.Context, name string) (segment.Saved, *Response) {
	s, err := c.b.segments.Segment(ctx, name)
	if err == nil {
		var ok bool
		if ok, err = c.sees(ctx, s); err == nil && !ok {
			r := textResponse(NotFound, "No saved segment %q on your desks; /segment list names them.", name)
			return s, &r
		}
	}
	if err != nil {
		r := c.b.fail(err, "read the segment")
		return s, &r
	}
	return s, nil
}

// mayEdit reports whether the actor may replace or delete a saved segment:
// whoever saved it, a manager, or an admin.
func (c *call) mayEdit(s segment.Saved) bool {
	return c.actor.Admin || len(c.actor.Manages) > 0 || s.CreatedBy == c.actor.ID
}

// /segment save <name> <filter>
func segmentSave(ctx context.Context, c *call) Response {
	if r := c.segmentsReady(); r != nil {
		return *r
	}
	if c.args.Len() < 2 {
		return c.usageError("Give a name and a filter, e.g. /segment save at-risk asset:energy risk>=7 last.contact>30d")
	}
	name, err := segment.NormalizeName(c.args.At(0).Text)
	if err != nil {
		return c.usageError("%s.", err.Error())
	}
	text := c.args.Rest(1)
	f, r := c.filter(ctx, text, name)
	if r != nil {
		return *r
	}
	old, err := c.b.segments.Segment(ctx, name)
	if err == nil {
		if ok, serr := c.sees(ctx, old); serr != nil {
			return c.b.fail(serr, "read the segment")
		} else if !ok {
			return textResponse(Refused, "Another desk has a segment called %s; choose another name. Nothing was changed.", name)
		}
	}
	switch {
	case err == nil && !c.mayEdit(old):
		return textResponse(Refused, "Segment %s was saved by %s; only they, a manager or an admin may change it. Nothing was changed.", name, userRef(old.CreatedBy))
	case err != nil && store.ErrorCode(err) != store.ENOTFOUND:
		return c.b.fail(err, "read the segment")
	}
	s, err := c.b.segments.SaveSegment(ctx, segment.Saved{Name: name, Filter: f.Text, UpdatedBy: c.actor.ID, UpdatedAt: c.b.now()})
	if err != nil {
		return c.b.fail(err, "save the segment")
	}
	verb := "Saved"
	if old.Name != "" {
		verb = "Changed"
	}
	return c.preview(ctx, f, fmt.Sprintf("%s segment *%s* `%s`", verb, s.Name, s.Filter), nil)
}

// editableSegment is the saved segment the command's first argument names,
// when the actor may change it (what says how, in the refusal); the
// command takes at most most arguments, usage says which.
func (c *call) editableSegment(ctx context.Context, most int, usage, what string) (segment.Saved, *Response) {
	if r := c.segmentsReady(); r != nil {
		return segment.Saved{}, r
	}
	if c.args.Len() < 1 || c.args.Len() > most {
		r := c.usageError("%s", usage)
		return segment.Saved{}, &r
	}
	s, r := c.savedSegment(ctx, c.args.At(0).Text)
	if r != nil {
		return s, r
	}
	if !c.mayEdit(s) {
		r := textResponse(Refused, "Segment %s was saved by %s; only they, a manager or an admin may %s. Nothing was changed.", s.Name, userRef(s.CreatedBy), what)
		return s, &r
	}
	return s, nil
}

// /segment delete <name>
func segmentDelete(ctx context.Context, c *call) Response {
	s, r := c.editableSegment(ctx, 1, "Which segment?", "delete it")
	if r != nil {
		return *r
	}
	if err := c.b.segments.DeleteSegment(ctx, s.Name); err != nil {
		return c.b.fail(err, "delete the segment")
	}
	return textResponse(OK, "Deleted segment %s (`%s`).", s.Name, s.Filter)
}

// /segment export <name or filter>
func segmentExport(ctx context.Context, c *call) Response {
	if r := c.segmentsReady(); r != nil {
		return *r
	}
	text := c.args.Rest(0)
	if text == "" {
		return c.usageError("Which segment? Give a saved segment's name or a filter.")
	}
	name, f, r := c.segmentOrFilter(ctx, text)
	if r != nil {
		return *r
	}
	var buf bytes.Buffer
	n := 0
	all := segment.All(ctx, c.b.segments, c.query(f))
	counted := func(yield func(*store.Client, error) bool) {
		for cl, err := range all {
			if err == nil {
				n++
			}
			if !yield(cl, err) {
				return
			}
		}
	}
	if err := clientcsv.Write(&buf, counted); err != nil {
		return c.b.fail(err, "export the segment")
	}
	file := fmt.Sprintf("%s-%s.csv", name, c.b.now().In(c.actor.Location).Format("2006-01-02"))
	return Response{Status: OK, Text: fmt.Sprintf("%s of %s (`%s`) exported to %s.", store.Count(n, "client"), name, f.String(), file),
		File: &File{Name: file, Title: "Clients of " + name, Type: "csv", Content: buf.Bytes()}}
}

// segmentOrFilter reads a saved segment's name or a filter; the name is
// "segment" for a filter.
func (c *call) segmentOrFilter(ctx context.Context, text string) (string, *segment.Filter, *Response) {
	if n, err := segment.NormalizeName(text); err == nil {
		s, err := c.b.segments.Segment(ctx, n)
		if err == nil {
			if ok, serr := c.sees(ctx, s); serr != nil {
				r := c.b.fail(serr, "read the segment")
				return "", nil, &r
			} else if ok {
				f, r := c.filter(ctx, s.Filter, "")
				return s.Name, f, r
			}
		}
		if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
			r := c.b.fail(err, "read the segment")
			return "", nil, &r
		}
	}
	f, r := c.filter(ctx, text, "")
	return "segment", f, r
}

// ExportSegment writes the client CSV of the clients a saved segment or
// filter matches among those user may see: `brokersync export clients
// --segment`. It returns how many it wrote; a bad filter or an unknown
// user is an error whose message says what to fix.
func (b *Bot) ExportSegment(ctx context.Context, user, text string, w interface{ Write([]byte) (int, error) }) (int, error) {
	cmd := &command{path: "/segment export", usage: "brokersync export clients --segment '<filter or name>' --as <slack id>"}
	c, r := b.begin(ctx, Request{User: user, Command: "/segment"}, cmd)
	if r != nil {
		return 0, errors.New(PlainText(*r))
	}
	if b.segments == nil {
		return 0, errors.New("segments are not set up")
	}
	_, f, r := c.segmentOrFilter(ctx, text)
	if r != nil {
		return 0, errors.New(strings.TrimSpace(PlainText(*r)))
	}
	n := 0
	all := segment.All(ctx, b.segments, c.query(f))
	err := clientcsv.Write(w, func(yield func(*store.Client, error) bool) {
		for cl, err := range all {
			if err == nil {
				n++
			}
			if !yield(cl, err) {
				return
			}
		}
	})
	return n, err
}
