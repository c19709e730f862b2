package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// DeskRights, when Rights has it too (bot.Rights does), opens the desk
// pages: what a user may see of the desks now, and filters resolved as
// /segment preview resolves them for that user. Without it the desk pages
// are refused.
type DeskRights interface {
	Scope(ctx context.Context, user string) (bot.DeskScope, error)
	SegmentFilter(ctx context.Context, segments bot.Segments, user, text string) (*segment.Filter, error)
	SeesSegment(ctx context.Context, segments bot.Segments, user string, s segment.Saved) (bool, error)
}

// deskPage is how many clients a page of the desk list shows.
const deskPage = 50

// followupsShown bounds the follow-ups the desk page lists.
const followupsShown = 500

// openFollowups are the states of a follow-up not yet done.
var openFollowups = []store.ReminderState{store.ReminderPending, store.ReminderClaimed, store.ReminderPosted, store.ReminderSnoozed}

// deskViewer is who views a desk page and what they may see now.
type deskViewer struct {
	user   string
	scope  bot.DeskScope
	rights DeskRights
	names  *bot.Names
	loc    *time.Location
	// desk is the one desk asked for ("" for every desk the viewer sees);
	// teams is the scope of every query of the page: never nil for a
	// viewer who is not an admin.
	desk  string
	teams []string
}

// openDesk finds who is viewing a desk page and checks their rights now: a
// user on no desk is refused, and so is a desk (?desk=) they may not see.
func (p *Pages) openDesk(w http.ResponseWriter, r *http.Request) *deskViewer {
	user, ok := p.viewer(w, r, deskSubject, "/desk")
	if !ok {
		return nil
	}
	ctx := r.Context()
	rights, _ := p.Rights.(DeskRights)
	if rights == nil {
		http.Error(w, "The desk pages are not set up on this BrokerSync.", http.StatusForbidden)
		return nil
	}
	scope, err := rights.Scope(ctx, user)
	if err != nil {
		p.fail(w, err)
		return nil
	}
	v := &deskViewer{user: user, scope: scope, rights: rights, names: p.Names.Memo(), desk: strings.TrimSpace(r.URL.Query().Get("desk"))}
	v.teams = scope.Desks()
	if !scope.Admin && len(v.teams) == 0 {
		p.Logger.Info("desk page refused: on no desk", slog.String("user", user))
		http.Error(w, "You are not on a BrokerSync desk now, so there is nothing to show you. Ask an admin to add you: /team add @you <desk> broker.", http.StatusForbidden)
		return nil
	}
	if v.desk != "" {
		// Another desk by changing the address: refused the same way
		// whether it exists or not.
		if !scope.CanSee(v.desk) {
			p.Logger.Info("desk page refused: not their desk", slog.String("user", user), slog.String("desk", v.desk))
			http.Error(w, "You may not see the desk "+strconv.Quote(v.desk)+" now; /desk shows the desks you are on.", http.StatusForbidden)
			return nil
		}
		v.teams = []string{v.desk}
	}
	loc, ok := v.names.Location(ctx, user)
	if !ok {
		loc = time.UTC
	}
	v.loc = loc
	return v
}

// deskView is the desk page.
type deskView struct {
	Nonce    string
	Title    string
	Zone     string
	Desk     string   // the desk shown, "" for all the viewer's desks
	Desks    []string // the desks to choose from
	Admin    bool
	Managers bool // the viewer manages a desk shown: the digest link
	Query    string
	Filter   string
	// FilterError is a mistake in the filter, with Caret under it.
	FilterError string
	Caret       string
	Matching    int // clients the filter matches (Counted)
	Counted     bool
	Clients     []deskClient
	Next        string // the next page's address, "" on the last
	Segments    []savedLine
	HasSegments bool
	Followups   []brokerFollowups
	HasFollow   bool
	Scope       string
}

type deskClient struct {
	Handle, Name, Company, Desk, Broker, Stage string
	DoNotContact                               bool
	Timeline, Profile                          string
}

type savedLine struct {
	Name, Filter, Href string
	Count              int
	Broken             bool
	On                 bool
}

type brokerFollowups struct {
	Broker  string
	Mine    bool
	Overdue []followup
	Today   []followup
}

type followup struct {
	Handle, Name, Text, Due, Href string
}

func clientPath(handle, page string) string {
	return "/clients/" + url.PathEscape(handle) + "/" + page
}

// desk serves GET /desk: the desk's clients (search, segment filter,
// saved segments with counts) and the follow-ups due and overdue by
// broker.
func (p *Pages) desk(w http.ResponseWriter, r *http.Request) {
	v := p.openDesk(w, r)
	if v == nil {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	nonce, err := newNonce()
	if err != nil {
		p.fail(w, err)
		return
	}
	view := deskView{Nonce: nonce, Desk: v.desk, Admin: v.scope.Admin, Zone: v.loc.String(),
		Query: limitText(q.Get("q"), 200), Filter: limitText(q.Get("filter"), 1000)}
	view.Title = "Your desks"
	view.Scope = "on your desks"
	if v.scope.Admin {
		view.Title, view.Scope = "All desks", "on all desks"
	}
	if v.desk != "" {
		view.Title, view.Scope = "Desk "+v.desk, "on "+v.desk
	}
	if view.Desks, err = p.deskChoices(ctx, v); err != nil {
		p.fail(w, err)
		return
	}
	for _, d := range view.Desks {
		if (v.desk == "" || v.desk == d) && v.scope.CanManage(d) {
			view.Managers = true
		}
	}
	if v.scope.Admin && len(view.Desks) == 0 {
		view.Managers = true
	}

	if err := p.deskClients(ctx, v, q, &view); err != nil {
		p.fail(w, err)
		return
	}
	if err := p.deskSegments(ctx, v, &view); err != nil {
		p.fail(w, err)
		return
	}
	if err := p.deskFollowups(ctx, v, &view); err != nil {
		p.fail(w, err)
		return
	}
	p.render(w, "desk.html", nonce, view)
}

func limitText(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n])
	}
	return s
}

// deskChoices are the desks the viewer may pick: their own; for an admin
// every desk with someone on it.
func (p *Pages) deskChoices(ctx context.Context, v *deskViewer) ([]string, error) {
	if !v.scope.Admin {
		return v.scope.Desks(), nil
	}
	if p.Teams == nil {
		return nil, nil
	}
	ms, err := p.Teams.Members(ctx, "")
	if err != nil {
		return nil, err
	}
	var desks []string
	for _, m := range ms {
		desks = append(desks, m.Desk)
	}
	slices.Sort(desks)
	return slices.Compact(desks), nil
}

// deskClients fills the client list: the filter (resolved for the viewer,
// as /segment preview does) within the viewer's desks, narrowed by the
// search, a page at a time.
func (p *Pages) deskClients(ctx context.Context, v *deskViewer, q url.Values, view *deskView) error {
	var page []*store.Client
	next := url.Values{}
	for _, k := range []string{"desk", "q", "filter"} {
		if s := q.Get(k); s != "" {
			next.Set(k, s)
		}
	}
	if view.Filter != "" && p.Segments != nil {
		f, err := v.rights.SegmentFilter(ctx, p.Segments, v.user, view.Filter)
		var pe *segment.Error
		if errors.As(err, &pe) {
			view.FilterError, view.Caret = pe.Error(), pe.Caret()
			return nil
		}
		if err != nil {
			return err
		}
		sq := segment.Query{Filter: f, Teams: v.teams, Now: p.Now(), After: q.Get("after")}
		if view.Query == "" {
			if view.Matching, err = p.Segments.CountClients(ctx, sq); err != nil {
				return err
			}
			view.Counted = true
		}
		needle := strings.ToLower(view.Query)
		for c, err := range segment.All(ctx, p.Segments, sq) {
			if err != nil {
				return err
			}
			if needle != "" && !strings.Contains(strings.ToLower(c.Name+"\x00"+c.Company+"\x00"+c.Handle), needle) {
				continue
			}
			page = append(page, c)
			if len(page) > deskPage {
				break
			}
		}
		if len(page) > deskPage {
			page = page[:deskPage]
			next.Set("after", page[len(page)-1].Handle)
			view.Next = "?" + next.Encode()
		}
	} else {
		if view.Filter != "" {
			view.FilterError = "segment filters are not set up on this BrokerSync"
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		offset = max(offset, 0)
		cs, err := p.Clients.FindClients(ctx, store.ClientFilter{Text: view.Query, Teams: v.teams, Limit: deskPage + 1, Offset: offset})
		if err != nil {
			return err
		}
		page = cs
		if len(page) > deskPage {
			page = page[:deskPage]
			next.Set("offset", strconv.Itoa(offset+deskPage))
			view.Next = "?" + next.Encode()
		}
	}
	for _, c := range page {
		// Every client listed is checked once more against the viewer's
		// desks, whatever the query returned.
		if !v.scope.CanSee(c.Team) {
			continue
		}
		view.Clients = append(view.Clients, deskClient{Handle: c.Handle, Name: c.Name, Company: c.Company, Desk: c.Team,
			Broker: v.names.User(ctx, c.Broker), Stage: string(c.Stage), DoNotContact: c.Contact.DoNotContact,
			Timeline: clientPath(c.Handle, "timeline"), Profile: clientPath(c.Handle, "profile")})
	}
	return nil
}

// deskSegments lists the saved segments the viewer may see, with how many
// clients of the page's desks each holds now, and a link that applies it.
func (p *Pages) deskSegments(ctx context.Context, v *deskViewer, view *deskView) error {
	if p.Segments == nil {
		return nil
	}
	view.HasSegments = true
	saved, err := p.Segments.Segments(ctx)
	if err != nil {
		return err
	}
	for _, s := range saved {
		ok, err := v.rights.SeesSegment(ctx, p.Segments, v.user, s)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		line := savedLine{Name: s.Name, Filter: s.Filter, On: view.Filter == s.Filter}
		link := url.Values{"filter": {s.Filter}}
		if v.desk != "" {
			link.Set("desk", v.desk)
		}
		line.Href = "?" + link.Encode()
		f, err := v.rights.SegmentFilter(ctx, p.Segments, v.user, s.Filter)
		var pe *segment.Error
		switch {
		case errors.As(err, &pe) || store.ErrorCode(err) == store.ENOTFOUND:
			line.Broken = true
		case err != nil:
			return err
		default:
			if line.Count, err = p.Segments.CountClients(ctx, segment.Query{Filter: f, Teams: v.teams, Now: p.Now()}); err != nil {
				return err
			}
		}
		view.Segments = append(view.Segments, line)
	}
	return nil
}

// deskFollowups lists the open follow-ups of the page's desks that are
// overdue or due by the end of the viewer's day, by broker, the viewer's
// own first.
func (p *Pages) deskFollowups(ctx context.Context, v *deskViewer, view *deskView) error {
	if p.Reminders == nil {
		return nil
	}
	view.HasFollow = true
	now := p.Now()
	y, m, d := now.In(v.loc).Date()
	endOfDay := time.Date(y, m, d+1, 0, 0, 0, 0, v.loc)
	rs, err := p.Reminders.ListReminders(ctx, store.ReminderFilter{Teams: v.teams, States: openFollowups, DueBefore: endOfDay, Limit: followupsShown})
	if err != nil {
		return err
	}
	byBroker := map[string]*brokerFollowups{}
	clients := map[string]*store.Client{}
	for _, rem := range rs {
		c, ok := clients[rem.ClientID.String()]
		if !ok {
			if c, err = p.Clients.Client(ctx, rem.ClientID); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
			clients[rem.ClientID.String()] = c
		}
		// A follow-up shows only with its client, on a desk the viewer
		// sees now.
		if c == nil || !v.scope.CanSee(c.Team) {
			continue
		}
		b := byBroker[rem.Broker]
		if b == nil {
			b = &brokerFollowups{Broker: v.names.User(ctx, rem.Broker), Mine: rem.Broker == v.user}
			byBroker[rem.Broker] = b
		}
		f := followup{Handle: c.Handle, Name: c.Name, Text: v.names.Text(ctx, rem.Text), Due: rem.Due.In(v.loc).Format("Mon 2 Jan 15:04 MST"),
			Href: clientPath(c.Handle, "timeline")}
		if rem.Due.Before(now) {
			b.Overdue = append(b.Overdue, f)
		} else {
			b.Today = append(b.Today, f)
		}
	}
	for _, b := range byBroker {
		view.Followups = append(view.Followups, *b)
	}
	slices.SortFunc(view.Followups, func(a, b brokerFollowups) int {
		if a.Mine != b.Mine {
			if a.Mine {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Broker, b.Broker)
	})
	return nil
}
