package reminders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Milestone kinds: a milestone reminder's key and its timeline event's
// Extra["milestone"] name one.
const (
	MilestoneAnniversary      = "anniversary"       // the client's onboarding date, yearly
	MilestoneTradeAnniversary = "trade-anniversary" // a large fill's date, yearly
	MilestoneGoalReached      = "goal-reached"      // a goal's progress reached the desk's threshold
	MilestoneGoalDeadline     = "goal-deadline"     // a goal not yet reached is due
	MilestoneRiskReview       = "risk-review"       // the profile's next risk review date
	MilestoneKYCRefresh       = "kyc-refresh"       // the desk's KYC refresh period after the last assessment
	MilestoneFirstNotice      = "first-notice"      // first notice day of a contract the client holds
	MilestoneLastTrading      = "last-trading"      // last trading day of a contract the client holds
)

// SourceMilestone is the Source of milestone reminders.
const SourceMilestone = "milestone"

// Milestone defaults.
const (
	// DefaultMilestoneInterval is how often serve sweeps for milestones.
	DefaultMilestoneInterval = time.Hour
	// DefaultMilestoneCatchUp is how long after its day a milestone missed
	// (BrokerSync was down) is still raised, marked late. Reviews and KYC
	// refreshes stay due until the profile moves their date.
	DefaultMilestoneCatchUp = 7 * 24 * time.Hour
	// DefaultMilestoneLateAfter: a milestone raised this long after its
	// time is marked late.
	DefaultMilestoneLateAfter = 2 * time.Hour
)

// LatePrefix starts the text of a milestone raised late.
const LatePrefix = "Late: "

// Milestone is one occurrence of a client's milestone.
type Milestone struct {
	Kind     string
	Key      string // milestone:<kind>:<client id>:<date>[:<contract or goal>]
	ClientID uuid.UUID
	Handle   string
	Name     string
	Broker   string
	Desk     string
	Date     store.Date     // the day it falls on, in Zone
	Zone     *time.Location // the client's, else the desk's
	FireAt   time.Time      // when the broker is to hear of it: Date less the desk's lead
	Text     string
	Contract string  // position dates: the contract, e.g. ZCZ26
	Net      float64 // position dates: contracts held, negative when short
}

// Milestones raises the milestones of every client as reminders to the
// client's broker, once per occurrence, and records each on the client's
// timeline (source and signal milestone) when it falls due.
//
// A sweep (Run: at start, then every interval) looks at every client as of
// now: an occurrence whose time has come is raised once. Its reminder's id
// derives from its key, so a sweep repeated, run by several replicas, or
// after a restart finds it and raises nothing again; a pending one is
// updated (its text), one posted, done or cancelled is never recreated.
// After downtime a sweep raises what fell due meanwhile, once, marked late,
// as long as its day is no more than CatchUp ago.
type Milestones struct {
	Clients   store.ClientStore
	Reminders store.ReminderStore
	Store     store.MilestoneStore
	Catalogue *store.Catalogue // contracts' dates, fills' values
	Recorder  *ingest.Recorder
	// Zone is the broker's time zone (Slack's users.info); nil or an error
	// means the desk's zone.
	Zone      func(ctx context.Context, broker string) (*time.Location, error)
	Now       func() time.Time
	CatchUp   time.Duration // default DefaultMilestoneCatchUp
	LateAfter time.Duration // default DefaultMilestoneLateAfter
	Logger    *slog.Logger
}

func (m *Milestones) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Milestones) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// MilestoneReminderID is the id of the reminder an occurrence raises.
func MilestoneReminderID(key string) uuid.UUID {
	return uuid.NewSHA1(milestoneNamespace, []byte(key))
}

var milestoneNamespace = uuid.MustParse("5b0f3f5e-6a57-4d1c-9d8e-2f1f0b8a7c31")

// world is what a sweep or a listing computes milestones from.
type world struct {
	clients   []*store.Client
	desks     map[string]*store.DeskMilestones
	positions map[uuid.UUID][]store.Position
	fills     map[uuid.UUID][]store.Fill
}

func (m *Milestones) load(ctx context.Context, keep func(*store.Client) bool) (*world, error) {
	w := &world{desks: map[string]*store.DeskMilestones{}, positions: map[uuid.UUID][]store.Position{}, fills: map[uuid.UUID][]store.Fill{}}
	for c, err := range m.Clients.AllClients(ctx) {
		if err != nil {
			return nil, err
		}
		if c.Broker == "" || !keep(c) {
			continue
		}
		if _, ok := w.desks[c.Team]; !ok {
			d, err := m.Store.DeskMilestones(ctx, c.Team)
			if err != nil {
				return nil, err
			}
			w.desks[c.Team] = d
		}
		if w.desks[c.Team].Enabled {
			w.clients = append(w.clients, c)
		}
	}
	if len(w.clients) == 0 {
		return w, nil
	}
	ps, err := m.Store.OpenPositions(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		w.positions[p.ClientID] = append(w.positions[p.ClientID], p)
	}
	least := math.Inf(1)
	for _, d := range w.desks {
		if d.Enabled && d.LargeTrade > 0 {
			least = min(least, d.LargeTrade)
		}
	}
	if !math.IsInf(least, 1) {
		fs, err := m.Store.LargeFills(ctx, least)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			w.fills[f.ClientID] = append(w.fills[f.ClientID], f)
		}
	}
	return w, nil
}

// Sweep raises every milestone whose time has come and that was not raised
// yet, and returns how many it raised.
func (m *Milestones) Sweep(ctx context.Context) (int, error) {
	now := m.now()
	w, err := m.load(ctx, func(*store.Client) bool { return true })
	if err != nil {
		return 0, err
	}
	catchUp := m.CatchUp
	if catchUp <= 0 {
		catchUp = DefaultMilestoneCatchUp
	}
	raised := 0
	var errs []error
	for _, c := range w.clients {
		d := w.desks[c.Team]
		zone := clientZone(c, d)
		lo := store.DateOf(now.Add(-catchUp).In(zone))
		hi := store.DateOf(now.In(zone)).AddDays(leadDays(d) + 3*d.PositionLead + 10)
		for _, ms := range occurrences(m.Catalogue, c, d, w.positions[c.ID], w.fills[c.ID], lo, hi, now) {
			if ms.FireAt.After(now) {
				continue
			}
			ok, err := m.raise(ctx, c, d, ms, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("milestone %s: %w", ms.Key, err))
				continue
			}
			if ok {
				raised++
			}
		}
	}
	if err := m.cancelClosed(ctx, w); err != nil {
		errs = append(errs, err)
	}
	return raised, errors.Join(errs...)
}

// cancelClosed cancels the pending first notice and last trading day
// reminders of positions closed since they were raised: they would tell
// the broker of a position the client no longer holds.
func (m *Milestones) cancelClosed(ctx context.Context, w *world) error {
	rs, err := m.Reminders.ListReminders(ctx, store.ReminderFilter{States: []store.ReminderState{store.ReminderPending}, Limit: 100_000})
	if err != nil {
		return err
	}
	held := map[string]bool{}
	for id, ps := range w.positions {
		for _, p := range ps {
			held[id.String()+":"+strings.ToUpper(p.Contract)] = true
		}
	}
	var errs []error
	for _, r := range rs {
		parts := strings.Split(r.Key, ":")
		if r.Source != SourceMilestone || len(parts) != 5 || (parts[1] != MilestoneFirstNotice && parts[1] != MilestoneLastTrading) {
			continue
		}
		if held[parts[2]+":"+parts[4]] {
			continue
		}
		if _, err := m.Reminders.CancelReminder(ctx, r.ID, m.now()); err != nil && store.ErrorCode(err) != store.ECONFLICT {
			errs = append(errs, err)
			continue
		}
		m.log().Info("milestone cancelled: the position is closed", slog.String("milestone", r.Key))
	}
	return errors.Join(errs...)
}

// Upcoming returns the milestones falling on days from from up to to
// (each day in the client's or desk's zone) of the clients of desks (nil:
// every desk) or, when clients is not empty, of those clients only,
// earliest first. It reads and raises nothing: digests call it for "the
// next 7 days". A goal reached has no day of its own and is not listed.
func (m *Milestones) Upcoming(ctx context.Context, desks []string, clients []uuid.UUID, from, to time.Time) ([]Milestone, error) {
	w, err := m.load(ctx, func(c *store.Client) bool {
		if len(clients) > 0 {
			return slices.Contains(clients, c.ID)
		}
		return desks == nil || slices.Contains(desks, c.Team)
	})
	if err != nil {
		return nil, err
	}
	var out []Milestone
	for _, c := range w.clients {
		d := w.desks[c.Team]
		zone := clientZone(c, d)
		lo, hi := store.DateOf(from.In(zone)), store.DateOf(to.In(zone))
		for _, ms := range occurrences(m.Catalogue, c, d, w.positions[c.ID], w.fills[c.ID], lo, hi, from) {
			start := dayStart(ms.Date, zone)
			if ms.Kind == MilestoneGoalReached || start.Before(dayStart(lo, zone)) || !start.Before(to) {
				continue
			}
			out = append(out, ms)
		}
	}
	slices.SortFunc(out, func(a, b Milestone) int {
		if c := dayStart(a.Date, a.Zone).Compare(dayStart(b.Date, b.Zone)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}

func clientZone(c *store.Client, d *store.DeskMilestones) *time.Location {
	if c.TimeZone != "" {
		if loc, ok := store.Location(c.TimeZone); ok {
			return loc
		}
	}
	return d.Location()
}

func dayStart(d store.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func leadDays(d *store.DeskMilestones) int {
	return int((d.Lead + 24*time.Hour - 1) / (24 * time.Hour))
}

// before returns the start of day less the lead: whole days as calendar
// days in loc (right across a DST change), the rest as a duration.
func before(day store.Date, loc *time.Location, lead time.Duration) time.Time {
	days := int(lead / (24 * time.Hour))
	t := time.Date(day.Year, day.Month, day.Day-days, 0, 0, 0, 0, loc)
	return t.Add(-(lead % (24 * time.Hour)))
}

// Anniversary returns the day in year of an anniversary of d. A 29
// February falls on 28 February in other years: it stays in its month,
// and the broker hears of it before the day rather than after.
func Anniversary(d store.Date, year int) store.Date {
	if d.Month == time.February && d.Day == 29 && !isLeap(year) {
		return store.Date{Year: year, Month: time.February, Day: 28}
	}
	return store.Date{Year: year, Month: d.Month, Day: d.Day}
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// addMonths adds n months to d; a day the month lacks becomes its last day
// (31 January + 1 month = 28 or 29 February).
func addMonths(d store.Date, n int) store.Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return store.Date{Year: first.Year(), Month: first.Month(), Day: min(d.Day, last)}
}

func inRange(d, lo, hi store.Date) bool { return !d.Before(lo) && !hi.Before(d) }

func longDate(d store.Date) string { return d.Time().Format("Mon 2 Jan 2006") }

func goalID(g store.Goal) string {
	sum := sha256.Sum256([]byte(string(g.Term) + "\x00" + g.Description + "\x00" + g.Commodity))
	return hex.EncodeToString(sum[:4])
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// occurrences lists a client's milestones whose day is from lo to hi;
// reviews and KYC refreshes due before lo are listed too (still due), and
// goals reached (dated today, as of now).
func occurrences(cat *store.Catalogue, c *store.Client, d *store.DeskMilestones, positions []store.Position, fills []store.Fill, lo, hi store.Date, now time.Time) []Milestone {
	zone := clientZone(c, d)
	who := c.Name
	if who == "" {
		who = c.Handle
	}
	var out []Milestone
	add := func(kind string, day store.Date, fire time.Time, suffix, text string) *Milestone {
		key := fmt.Sprintf("milestone:%s:%s:%s", kind, c.ID, day)
		if suffix != "" {
			key += ":" + suffix
		}
		out = append(out, Milestone{Kind: kind, Key: key, ClientID: c.ID, Handle: c.Handle, Name: c.Name, Broker: c.Broker, Desk: c.Team,
			Date: day, Zone: zone, FireAt: fire, Text: text})
		return &out[len(out)-1]
	}
	dated := func(kind string, day store.Date, suffix, text string) {
		add(kind, day, before(day, zone, d.Lead), suffix, text)
	}

	// Client anniversaries.
	if o := c.Onboarded; !o.IsZero() {
		for y := lo.Year; y <= hi.Year; y++ {
			day := Anniversary(o, y)
			if y > o.Year && inRange(day, lo, hi) {
				dated(MilestoneAnniversary, day, "", fmt.Sprintf("%s's %s anniversary as a client is %s (onboarded %s).",
					who, ordinal(y-o.Year), longDate(day), o))
			}
		}
	}

	// Anniversaries of large trades: one per day, naming the largest.
	if d.LargeTrade > 0 {
		type dayFills struct {
			biggest store.Fill
			value   float64
			count   int
		}
		byDay := map[store.Date]*dayFills{}
		var days []store.Date
		for _, f := range fills {
			v, cur := f.Value(cat)
			if cur != store.NotionalCurrency || v < d.LargeTrade {
				continue
			}
			traded := store.DateOf(f.At.In(zone))
			for y := lo.Year; y <= hi.Year; y++ {
				day := Anniversary(traded, y)
				if y <= traded.Year || !inRange(day, lo, hi) {
					continue
				}
				df := byDay[day]
				if df == nil {
					df = &dayFills{}
					byDay[day] = df
					days = append(days, day)
				}
				df.count++
				if v > df.value {
					df.biggest, df.value = f, v
				}
			}
		}
		for _, day := range days {
			df := byDay[day]
			f := df.biggest
			traded := store.DateOf(f.At.In(zone))
			more := ""
			if df.count > 1 {
				more = fmt.Sprintf(" (and %d more large fills that day)", df.count-1)
			}
			dated(MilestoneTradeAnniversary, day, "", fmt.Sprintf("%s: %s anniversary of a large trade on %s: %s %g %s at %g, %s %.0f notional%s.",
				who, ordinal(day.Year-traded.Year), traded, f.Side, f.Quantity, contractName(cat, f.Contract, f.Commodity, f.At), f.Price, store.NotionalCurrency, df.value, more))
		}
	}

	// Goals: reached, or due and not reached.
	for _, g := range c.Goals {
		id := goalID(g)
		if g.Progress >= float64(d.GoalThreshold) {
			// Once per goal, whenever it is reached: its key has no day.
			out = append(out, Milestone{Kind: MilestoneGoalReached, Key: fmt.Sprintf("milestone:%s:%s:%s", MilestoneGoalReached, c.ID, id),
				ClientID: c.ID, Handle: c.Handle, Name: c.Name, Broker: c.Broker, Desk: c.Team, Date: store.DateOf(now.In(zone)), Zone: zone, FireAt: now,
				Text: fmt.Sprintf("%s reached a goal (%.0f%%): %s.", who, g.Progress, g.Description)})
			continue
		}
		if !g.Deadline.IsZero() && inRange(g.Deadline, lo, hi) {
			dated(MilestoneGoalDeadline, g.Deadline, id, fmt.Sprintf("%s's goal is due %s at %.0f%%: %s.", who, longDate(g.Deadline), g.Progress, g.Description))
		}
	}

	// Risk review and KYC refresh: due until the profile moves the date.
	if r := c.Risk.ReviewOn; !r.IsZero() && !hi.Before(r) {
		dated(MilestoneRiskReview, r, "", fmt.Sprintf("%s's risk review is due %s (last assessed %s).", who, longDate(r), orNever(c.Risk.AssessedOn)))
	}
	if d.KYCRefresh > 0 && c.Kind == store.Individual {
		base := c.Risk.AssessedOn
		if base.IsZero() {
			base = c.Onboarded
		}
		if !base.IsZero() {
			due := addMonths(base, d.KYCRefresh)
			if !hi.Before(due) {
				dated(MilestoneKYCRefresh, due, "", fmt.Sprintf("%s's KYC facts are due for their refresh %s (NFA Rule 2-30; last assessed %s): occupation, income, net worth, experience.",
					who, longDate(due), base))
			}
		}
	}

	// Position dates.
	for _, p := range positions {
		com, ok := cat.ByKey(p.Commodity)
		if !ok {
			continue
		}
		con, err := store.ParseContract(p.Contract, p.Since)
		if err != nil {
			continue
		}
		dates, ok := cat.ContractDates(com, con.Year, con.Month)
		if !ok {
			continue
		}
		side := "long"
		if p.Net < 0 {
			side = "short"
		}
		held := fmt.Sprintf("%s %g %s", side, math.Abs(p.Net), contractName(cat, con.Code, p.Commodity, p.Since))
		for _, pd := range []struct {
			kind, what string
			day        store.Date
		}{
			{MilestoneFirstNotice, "first notice day", dates.FirstNotice},
			{MilestoneLastTrading, "last trading day", dates.LastTrading},
		} {
			if pd.day.IsZero() || !inRange(pd.day, lo, hi) {
				continue
			}
			// A position opened after the day has no such milestone; one
			// opened after the lead time has it at once.
			if !p.Since.Before(dayStart(pd.day.AddDays(1), zone)) {
				continue
			}
			fire := dayStart(dates.Calendar.AddBusinessDays(pd.day, -d.PositionLead), zone)
			if fire.Before(p.Since) {
				fire = p.Since
			}
			note := ""
			if pd.kind == MilestoneFirstNotice && p.Net > 0 {
				note = " A long not rolled by then can be assigned delivery."
			}
			if !dates.Calendar.Covers(pd.day) {
				note += fmt.Sprintf(" The catalogue lists no %d holidays for %s: check the day against the exchange's calendar.", pd.day.Year, dates.Calendar.Name)
			}
			ms := add(pd.kind, pd.day, fire, con.Code, fmt.Sprintf("%s is %s: %s is %s (%s).%s", who, held, pd.what, longDate(pd.day), dates.Calendar.Name, note))
			ms.Contract, ms.Net = con.Code, p.Net
		}
	}
	return out
}

func orNever(d store.Date) string {
	if d.IsZero() {
		return "never"
	}
	return d.String()
}

// contractName is "ZCZ26 (Corn Dec 2026)" when the catalogue knows the
// commodity.
func contractName(cat *store.Catalogue, code, commodity string, ref time.Time) string {
	c, ok := cat.ByKey(commodity)
	if !ok || code == "" {
		if code == "" {
			return commodity
		}
		return code
	}
	con, err := store.ParseContract(code, ref)
	if err != nil {
		return code + " " + c.Name
	}
	return fmt.Sprintf("%s (%s %s %d)", code, c.Name, con.Month.String()[:3], con.Year)
}

// raise records an occurrence on the timeline and raises its reminder,
// unless its reminder exists: then a pending one is brought up to date.
// It reports whether it raised a new one.
func (m *Milestones) raise(ctx context.Context, c *store.Client, d *store.DeskMilestones, ms Milestone, now time.Time) (bool, error) {
	id := MilestoneReminderID(ms.Key)
	existing, err := m.Reminders.Reminder(ctx, id)
	switch {
	case err == nil:
		if existing.State != store.ReminderPending {
			return false, nil // posted, done, snoozed or cancelled: never again
		}
		text := ms.Text
		if strings.HasPrefix(existing.Text, LatePrefix) {
			text = LatePrefix + text
		}
		text, _ = store.Excerpt(text, store.ReminderTextMax-10)
		if text == existing.Text {
			return false, nil
		}
		got, created, err := m.Reminders.UpsertFollowup(ctx, &store.Reminder{ID: id, ClientID: c.ID, Broker: existing.Broker,
			Due: existing.Due, Text: text, Source: SourceMilestone, Key: ms.Key})
		if err == nil && created && got.ID != id {
			// Closed between the read and the update: the store made a
			// new one, which must not stand.
			_, err = m.Reminders.CancelReminder(ctx, got.ID, now)
		}
		return false, err
	case store.ErrorCode(err) != store.ENOTFOUND:
		return false, err
	}
	// The broker would have heard of it at the first working time from
	// its time on: raised later than that (BrokerSync was down), it is late.
	set, err := m.Reminders.FollowupSettings(ctx, c.Broker)
	if err != nil {
		return false, err
	}
	brokerLoc := d.Location()
	if m.Zone != nil {
		if loc, err := m.Zone(ctx, c.Broker); err == nil && loc != nil {
			brokerLoc = loc
		}
	}
	due := WorkingTime(ms.FireAt, set, brokerLoc, c.Contact.Times, ms.Zone)
	lateAfter := m.LateAfter
	if lateAfter <= 0 {
		lateAfter = DefaultMilestoneLateAfter
	}
	late := now.Sub(due) > lateAfter
	if due.Before(now) {
		due = WorkingTime(now, set, brokerLoc, c.Contact.Times, ms.Zone)
	}
	text := ms.Text
	if late {
		text = LatePrefix + text
	}
	text, _ = store.Excerpt(text, store.ReminderTextMax-10)

	// The timeline first: a crash before the reminder is stored leaves an
	// event that the next sweep finds again (a repeat) and a reminder it
	// then raises.
	if m.Recorder != nil {
		extra := map[string]string{"date": ms.Date.String(), "reminder_id": id.String()}
		if ms.Contract != "" {
			extra["contract"] = ms.Contract
		}
		if late {
			extra["late"] = "true"
		}
		if err := ingest.RecordMilestone(ctx, m.Recorder, ingest.Milestone{Client: c.ID, Kind: ms.Kind, Key: ms.Key,
			At: now.UTC().Truncate(time.Microsecond), Text: "Milestone: " + text, Extra: extra}); err != nil {
			return false, err
		}
	}
	r := &store.Reminder{ID: id, ClientID: c.ID, Broker: c.Broker, Due: due, Text: text, Source: SourceMilestone,
		Key: ms.Key, CreatedBy: ingest.MilestoneActor}
	if err := m.Reminders.CreateReminder(ctx, r); store.ErrorCode(err) == store.ECONFLICT {
		return false, nil // another replica raised it
	} else if err != nil {
		return false, err
	}
	m.log().Info("milestone raised", slog.String("client", c.Handle), slog.String("milestone", ms.Key),
		slog.Bool("late", late), slog.Time("due", due))
	return true, nil
}
