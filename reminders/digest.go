package reminders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// A manager's digest of a desk: what went wrong first (overdue follow-ups,
// clients entering or leaving watched segments, sentiment drops), then
// what happened (fills, notional, new clients), what is coming (milestones
// in the next 7 days) and how fast each broker answers clients. Digest is
// the content; DigestResponse renders it for Slack and the terminal alike.

// Digest is one desk's digest of a period.
type Digest struct {
	Desk      string
	Frequency store.DigestFrequency
	From, To  time.Time      // the period: [From, To)
	Loc       *time.Location // the reader's zone, for times shown
	// Late is how long after its time the digest is posted (after an
	// outage); 0 when on time.
	Late time.Duration
	// Preview marks a digest asked for with /digest now: the period so far.
	Preview bool

	Overdue    []BrokerOverdue
	Segments   []SegmentMoves
	Sentiment  []ClientLine
	Activity   Activity
	Milestones []ComingMilestone
	Responses  []BrokerResponse
	// Brokers are the desk's brokers, whom a follow-up may be handed to.
	Brokers []string
}

// ClientRef names a client in a digest.
type ClientRef struct {
	ID     uuid.UUID
	Handle string
	Name   string
	Broker string
}

// BrokerOverdue is one broker's overdue follow-ups, oldest first.
type BrokerOverdue struct {
	Broker string
	Items  []OverdueItem
}

// OverdueItem is a follow-up past its time and not done.
type OverdueItem struct {
	Reminder uuid.UUID
	Client   ClientRef
	Text     string
	Due      time.Time
}

// SegmentMoves are the clients who entered and left one saved segment.
type SegmentMoves struct {
	Segment       string
	Entered, Left []ClientRef
}

// ClientLine is an event about a client: a sentiment drop.
type ClientLine struct {
	Client ClientRef
	At     time.Time
	Text   string
}

// Activity is the desk's trading and new business in the period.
type Activity struct {
	Fills      int
	Contracts  float64
	Notional   float64 // in store.NotionalCurrency
	NewClients []ClientRef
	LargeFills []FillLine   // largest by notional, at most digestTop
	TopClients []ClientFill // most notional, at most digestTop
}

// FillLine is one fill.
type FillLine struct {
	Client   ClientRef
	At       time.Time
	Side     string
	Quantity float64
	Contract string
	Price    float64
	Notional float64
}

// ClientFill is a client's trading in the period.
type ClientFill struct {
	Client   ClientRef
	Fills    int
	Notional float64
}

// ComingMilestone is a milestone falling due soon: a client anniversary, a
// review, a first notice day...
type ComingMilestone struct {
	Client ClientRef
	Due    time.Time
	Text   string
}

// BrokerResponse is how fast a broker answered inbound client messages
// (emails and chats) in the period: from the message to the desk's next
// outbound contact with the client.
type BrokerResponse struct {
	Broker     string
	Median     time.Duration
	Answered   int
	Unanswered int // no reply by the period's end
}

// Quiet reports whether nothing at all happened: no exception, no trading,
// no new client, no milestone coming, no client message.
func (d *Digest) Quiet() bool {
	return len(d.Overdue) == 0 && len(d.Segments) == 0 && len(d.Sentiment) == 0 && d.Activity.Fills == 0 &&
		len(d.Activity.NewClients) == 0 && len(d.Milestones) == 0 && len(d.Responses) == 0
}

// digestTop is how many of the largest fills and the most active clients
// a digest lists.
const digestTop = 5

// MilestoneSource says which milestones fall due between from and to for a
// desk's clients: MilestoneCalendar computes them as the milestone sweep
// will raise them; ReminderMilestones reads those raised already from
// pending reminders.
type MilestoneSource interface {
	Upcoming(ctx context.Context, desk string, from, to time.Time) ([]ComingMilestone, error)
}

// MilestoneCalendar is the MilestoneSource of a Milestones sweep: every
// milestone falling in the period, raised yet or not (a broker hears of one
// only its desk's lead time before).
type MilestoneCalendar struct{ Milestones *Milestones }

// Upcoming implements MilestoneSource.
func (c MilestoneCalendar) Upcoming(ctx context.Context, desk string, from, to time.Time) ([]ComingMilestone, error) {
	ms, err := c.Milestones.Upcoming(ctx, []string{desk}, nil, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]ComingMilestone, len(ms))
	for i, m := range ms {
		out[i] = ComingMilestone{
			Client: ClientRef{ID: m.ClientID, Handle: m.Handle, Name: m.Name, Broker: m.Broker},
			Due:    dayStart(m.Date, m.Zone),
			Text:   m.Text,
		}
	}
	return out, nil
}

// ReminderMilestones finds milestones among a desk's pending reminders:
// those whose source or key says milestone.
type ReminderMilestones struct {
	Reminders store.ReminderStore
	Clients   store.ClientStore
}

// Upcoming implements MilestoneSource.
func (m ReminderMilestones) Upcoming(ctx context.Context, desk string, from, to time.Time) ([]ComingMilestone, error) {
	rs, err := m.Reminders.ListReminders(ctx, store.ReminderFilter{Teams: []string{desk},
		States: []store.ReminderState{store.ReminderPending, store.ReminderSnoozed}, DueBefore: to, Limit: 5000})
	if err != nil {
		return nil, err
	}
	cache := map[uuid.UUID]*store.Client{}
	var out []ComingMilestone
	for _, r := range rs {
		if r.Due.Before(from) || !IsMilestone(r) {
			continue
		}
		c, ok := cache[r.ClientID]
		if !ok {
			if c, err = m.Clients.Client(ctx, r.ClientID); err != nil {
				return nil, err
			}
			cache[r.ClientID] = c
		}
		out = append(out, ComingMilestone{Client: refOf(c), Due: r.Due, Text: r.Text})
	}
	return out, nil
}

// IsMilestone tells a milestone's reminder from other follow-ups: its
// source, or the first part of its key, is "milestone".
func IsMilestone(r *store.Reminder) bool {
	return r.Source == string(store.SourceMilestone) || strings.HasPrefix(r.Key, string(store.SourceMilestone)+":") || r.Key == string(store.SourceMilestone)
}

func refOf(c *store.Client) ClientRef {
	return ClientRef{ID: c.ID, Handle: c.Handle, Name: c.Name, Broker: c.Broker}
}

// DigestBuilder gathers a desk's digest from the stores.
type DigestBuilder struct {
	Clients    store.ClientStore
	Catalogue  *store.Catalogue // values fills
	Timeline   store.TimelineStore
	Teams      store.TeamStore
	Reminders  store.ReminderStore
	Milestones MilestoneSource // nil: ReminderMilestones over Reminders
	// Index, when set, gives the desk's events of the period in one query
	// (kept by DigestIndexer); without it each client's timeline is read.
	Index store.DigestEventIndex
	// Readers is how many clients' timelines are read at once; default 16.
	Readers int
}

// errNoDesk is a digest of a desk with nobody on it and no clients.
var errNoDesk = errors.New("no such desk")

// Build gathers desk's digest of [from, to), with times shown in loc.
// Follow-ups count as overdue when due before to and still open, however
// late the digest is built.
func (b *DigestBuilder) Build(ctx context.Context, desk string, from, to time.Time, loc *time.Location) (*Digest, error) {
	if b.Clients == nil || b.Timeline == nil || b.Teams == nil || b.Reminders == nil {
		return nil, errors.New("reminders: a digest needs Clients, Timeline, Teams and Reminders")
	}
	d := &Digest{Desk: desk, From: from, To: to, Loc: loc}
	members, err := b.Teams.Members(ctx, "")
	if err != nil {
		return nil, err
	}
	onDesk := map[string]bool{}
	for _, m := range members {
		onDesk[m.SlackID] = true
		if m.Desk == desk && m.Role == store.RoleBroker {
			d.Brokers = append(d.Brokers, m.SlackID)
		}
	}
	slices.Sort(d.Brokers)
	clients, err := b.deskClients(ctx, desk)
	if err != nil {
		return nil, err
	}
	if len(clients) == 0 && len(d.Brokers) == 0 {
		return nil, fmt.Errorf("%w %q", errNoDesk, desk)
	}
	byID := make(map[uuid.UUID]*store.Client, len(clients))
	for _, c := range clients {
		byID[c.ID] = c
		if !c.CreatedAt.Before(from) && c.CreatedAt.Before(to) {
			d.Activity.NewClients = append(d.Activity.NewClients, refOf(c))
		}
	}
	if err := b.overdue(ctx, d, byID); err != nil {
		return nil, err
	}
	ms := b.Milestones
	if ms == nil {
		ms = ReminderMilestones{Reminders: b.Reminders, Clients: b.Clients}
	}
	if d.Milestones, err = ms.Upcoming(ctx, desk, to, to.AddDate(0, 0, 7)); err != nil {
		return nil, fmt.Errorf("milestones: %w", err)
	}
	slices.SortFunc(d.Milestones, func(a, b ComingMilestone) int {
		return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.Client.Handle, b.Client.Handle))
	})
	if err := b.timelines(ctx, d, clients, func(actor string) bool { return onDesk[actor] }); err != nil {
		return nil, err
	}
	return d, nil
}

// deskClients lists every client of desk, a page at a time.
func (b *DigestBuilder) deskClients(ctx context.Context, desk string) ([]*store.Client, error) {
	const page = 1000
	var out []*store.Client
	for {
		cs, err := b.Clients.FindClients(ctx, store.ClientFilter{Teams: []string{desk}, Limit: page, Offset: len(out)})
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if len(cs) < page {
			return out, nil
		}
	}
}

// overdue lists the desk's open follow-ups due before the period's end,
// by broker.
func (b *DigestBuilder) overdue(ctx context.Context, d *Digest, byID map[uuid.UUID]*store.Client) error {
	rs, err := b.Reminders.ListReminders(ctx, store.ReminderFilter{Teams: []string{d.Desk}, DueBefore: d.To, Limit: 10000,
		States: []store.ReminderState{store.ReminderPending, store.ReminderClaimed, store.ReminderPosted, store.ReminderSnoozed}})
	if err != nil {
		return err
	}
	by := map[string]*BrokerOverdue{}
	for _, r := range rs {
		c, ok := byID[r.ClientID]
		if !ok || !r.Due.Before(d.To) {
			continue
		}
		bo := by[r.Broker]
		if bo == nil {
			bo = &BrokerOverdue{Broker: r.Broker}
			by[r.Broker] = bo
		}
		bo.Items = append(bo.Items, OverdueItem{Reminder: r.ID, Client: refOf(c), Text: r.Text, Due: r.Due})
	}
	for _, bo := range by {
		slices.SortFunc(bo.Items, func(a, b OverdueItem) int {
			return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.Client.Handle, b.Client.Handle))
		})
		d.Overdue = append(d.Overdue, *bo)
	}
	// The broker with the most overdue first.
	slices.SortFunc(d.Overdue, func(a, b BrokerOverdue) int {
		return cmp.Or(len(b.Items)-len(a.Items), strings.Compare(a.Broker, b.Broker))
	})
	return nil
}

// clientPeriod is what one client's timeline says of the period.
type clientPeriod struct {
	client    *store.Client
	segments  []segmentMove
	sentiment []ClientLine
	fills     []FillLine
	latencies []time.Duration
	unanswer  int
}

type segmentMove struct {
	segment string
	entered bool
}

// timelines reads each client's events of the period (a few clients at a
// time) and adds what they say to d.
func (b *DigestBuilder) timelines(ctx context.Context, d *Digest, clients []*store.Client, isDesk func(string) bool) error {
	readers := b.Readers
	if readers <= 0 {
		readers = 16
	}
	results := make([]clientPeriod, len(clients))
	if b.Index != nil {
		events, err := b.Index.DigestEvents(ctx, d.Desk, d.From, d.To)
		if err != nil {
			return err
		}
		by := map[uuid.UUID][]*store.Event{}
		for _, e := range events {
			by[e.ClientID] = append(by[e.ClientID], e)
		}
		for i, c := range clients {
			results[i] = readPeriod(b.Catalogue, c, by[c.ID], isDesk)
		}
		return b.sum(d, results)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for i, c := range clients {
		g.Go(func() error {
			events, err := periodEvents(ctx, b.Timeline, c.ID, d.From, d.To)
			if err != nil {
				return fmt.Errorf("timeline of %s: %w", c.Handle, err)
			}
			results[i] = readPeriod(b.Catalogue, c, events, isDesk)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return b.sum(d, results)
}

// sum adds what each client's period says to d.
func (b *DigestBuilder) sum(d *Digest, results []clientPeriod) error {
	segs := map[string]*SegmentMoves{}
	type brokerLat struct {
		lat        []time.Duration
		unanswered int
	}
	lats := map[string]*brokerLat{}
	var fills []FillLine
	tops := map[uuid.UUID]*ClientFill{}
	for _, r := range results {
		if r.client == nil {
			continue
		}
		ref := refOf(r.client)
		for _, m := range r.segments {
			s := segs[m.segment]
			if s == nil {
				s = &SegmentMoves{Segment: m.segment}
				segs[m.segment] = s
			}
			if m.entered {
				s.Entered = append(s.Entered, ref)
			} else {
				s.Left = append(s.Left, ref)
			}
		}
		d.Sentiment = append(d.Sentiment, r.sentiment...)
		for _, f := range r.fills {
			d.Activity.Fills++
			d.Activity.Contracts += f.Quantity
			d.Activity.Notional += f.Notional
			fills = append(fills, f)
			t := tops[ref.ID]
			if t == nil {
				t = &ClientFill{Client: ref}
				tops[ref.ID] = t
			}
			t.Fills++
			t.Notional += f.Notional
		}
		if len(r.latencies) > 0 || r.unanswer > 0 {
			bl := lats[r.client.Broker]
			if bl == nil {
				bl = &brokerLat{}
				lats[r.client.Broker] = bl
			}
			bl.lat = append(bl.lat, r.latencies...)
			bl.unanswered += r.unanswer
		}
	}
	for _, s := range segs {
		sortRefs(s.Entered)
		sortRefs(s.Left)
		d.Segments = append(d.Segments, *s)
	}
	slices.SortFunc(d.Segments, func(a, b SegmentMoves) int { return strings.Compare(a.Segment, b.Segment) })
	slices.SortFunc(d.Sentiment, func(a, b ClientLine) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Client.Handle, b.Client.Handle))
	})
	sortRefs(d.Activity.NewClients)
	slices.SortFunc(fills, func(a, b FillLine) int {
		return cmp.Or(cmp.Compare(b.Notional, a.Notional), a.At.Compare(b.At), strings.Compare(a.Client.Handle, b.Client.Handle))
	})
	d.Activity.LargeFills = fills[:min(len(fills), digestTop)]
	for _, t := range tops {
		d.Activity.TopClients = append(d.Activity.TopClients, *t)
	}
	slices.SortFunc(d.Activity.TopClients, func(a, b ClientFill) int {
		return cmp.Or(cmp.Compare(b.Notional, a.Notional), b.Fills-a.Fills, strings.Compare(a.Client.Handle, b.Client.Handle))
	})
	d.Activity.TopClients = d.Activity.TopClients[:min(len(d.Activity.TopClients), digestTop)]
	for broker, bl := range lats {
		d.Responses = append(d.Responses, BrokerResponse{Broker: broker, Median: median(bl.lat), Answered: len(bl.lat), Unanswered: bl.unanswered})
	}
	// The slowest first: exceptions lead.
	slices.SortFunc(d.Responses, func(a, b BrokerResponse) int {
		return cmp.Or(cmp.Compare(b.Median, a.Median), b.Unanswered-a.Unanswered, strings.Compare(a.Broker, b.Broker))
	})
	return nil
}

func sortRefs(rs []ClientRef) {
	slices.SortFunc(rs, func(a, b ClientRef) int { return strings.Compare(a.Handle, b.Handle) })
}

// periodEvents reads a client's events of [from, to), oldest first.
func periodEvents(ctx context.Context, tl store.TimelineStore, client uuid.UUID, from, to time.Time) ([]*store.Event, error) {
	var out []*store.Event
	q := store.EventQuery{Since: from, Until: to, Limit: 1000}
	for {
		page, err := tl.Events(ctx, client, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Events...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.Reverse(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// replyKinds are contacts that answer a client: the desk writing, calling
// or meeting them.
var replyKinds = map[store.Kind]bool{store.KindEmail: true, store.KindChat: true, store.KindCall: true, store.KindMeeting: true}

// readPeriod reads what a client's events of the period (oldest first) say.
func readPeriod(cat *store.Catalogue, c *store.Client, events []*store.Event, isDesk func(string) bool) clientPeriod {
	r := clientPeriod{client: c}
	ref := refOf(c)
	var waiting []time.Time // inbound messages not yet answered
	for _, e := range events {
		switch e.Attrs.Signal() {
		case store.SignalSegmentEntered, store.SignalSegmentLeft:
			name := e.Attrs.Extra["segment"]
			if name == "" {
				name = "(unnamed segment)"
			}
			r.segments = append(r.segments, segmentMove{segment: name, entered: e.Attrs.Signal() == store.SignalSegmentEntered})
			continue
		case store.SignalSentimentDrop:
			r.sentiment = append(r.sentiment, ClientLine{Client: ref, At: e.Time, Text: e.Summary})
			continue
		}
		if f, ok := ingest.FillOf(e); ok {
			notional, cur := f.Value(cat)
			if cur != store.NotionalCurrency {
				notional = 0
			}
			r.fills = append(r.fills, FillLine{Client: ref, At: f.At, Side: f.Side, Quantity: f.Quantity, Contract: f.Contract, Price: f.Price, Notional: notional})
			continue
		}
		ct, ok := store.ContactOf(e, isDesk)
		if !ok {
			continue
		}
		switch {
		case ct.Direction == store.Inbound && (e.Kind == store.KindEmail || e.Kind == store.KindChat):
			waiting = append(waiting, e.Time)
		case (ct.Direction == store.Outbound || ct.Direction == store.Both) && replyKinds[e.Kind]:
			// One reply answers every message waiting for it.
			for _, at := range waiting {
				r.latencies = append(r.latencies, e.Time.Sub(at))
			}
			waiting = waiting[:0]
		}
	}
	r.unanswer = len(waiting)
	return r
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// DigestIndexer keeps the events a digest reads in the digest index as they
// are recorded: fills, real contacts and signals. It is an ingest
// Subscriber (idempotent: an event kept already is left as it is).
type DigestIndexer struct {
	Index store.DigestEventIndex
}

// EventsStored implements ingest.Subscriber.
func (x DigestIndexer) EventsStored(ctx context.Context, events []*store.Event) error {
	var keep []*store.Event
	for _, e := range events {
		if DigestReads(e) {
			keep = append(keep, e)
		}
	}
	return x.Index.IndexDigestEvents(ctx, keep)
}

// DigestReads reports whether a digest reads e: a fill, a real contact, or
// a segment change or sentiment drop.
func DigestReads(e *store.Event) bool {
	switch e.Attrs.Signal() {
	case store.SignalSegmentEntered, store.SignalSegmentLeft, store.SignalSentimentDrop:
		return true
	}
	if _, ok := ingest.FillOf(e); ok {
		return true
	}
	return store.ContactKinds[e.Kind]
}
