// Package demo loads a realistic demo desk: two desks, their brokers and a
// manager of both, 50 clients with full profiles and a year of their
// relationship (emails, chats, calls, meetings, orders and fills on real
// contract codes, notes, feedback, recommendations, follow-ups and market
// moves). Loading it again changes nothing.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// The demo desk: two desks, their brokers and one manager of both, 50
// clients and a year of their relationship. Slack ids are made up; with no
// Slack configured the pages show them as ids.
const (
	Manager = "UDEMOMARA" // manages both desks
	Clients = 50
)

type demoDesk struct {
	name        string
	brokers     []string
	commodities []string
}

var demoDesks = []demoDesk{
	{"grain-desk", []string{"UDEMOJANE", "UDEMOLUIS"}, []string{"corn", "soybeans", "wheat", "kc-wheat", "soybean-oil", "soybean-meal", "live-cattle", "lean-hogs", "coffee", "sugar", "cocoa", "cotton"}},
	{"energy-desk", []string{"UDEMOPRIYA", "UDEMOTOM"}, []string{"wti", "brent", "natgas", "rbob", "heating-oil", "gold", "silver", "copper"}},
}

// demoPrices are typical prices in the exchange's quoting unit.
var demoPrices = map[string]float64{
	"corn": 450, "soybeans": 1050, "wheat": 560, "kc-wheat": 580, "soybean-oil": 42, "soybean-meal": 320, "live-cattle": 185, "lean-hogs": 85,
	"coffee": 230, "sugar": 19.5, "cocoa": 8000, "cotton": 72, "wti": 72, "brent": 76, "natgas": 3.1, "rbob": 2.2, "heating-oil": 2.4,
	"gold": 2400, "silver": 29, "copper": 4.3,
}

var (
	demoFirst  = []string{"Prairie", "Great Plains", "Red River", "Cedar", "Northfield", "Summit", "Harbor", "Blue Ridge", "Golden Valley", "Lakeshore", "Iron Range", "Riverbend", "Sunrise", "Westgate", "Stonebridge", "Pioneer", "Silver Creek", "High Mesa", "Oakmont", "Clearwater", "Tidewater", "Keystone", "Frontier", "Meridian", "Granite"}
	demoSecond = []string{"Grain Co-op", "Farms", "Energy", "Commodities", "Milling", "Feedyards", "Trading", "Refining", "Logistics", "Foods"}
	demoPeople = []string{"Maria Alvarez", "Tom Becker", "Aiko Tanaka", "Samuel Okafor", "Ingrid Larsen", "Rahul Mehta", "Claire Dubois", "Jonas Weber", "Lucia Romano", "Ethan Brooks"}
	demoZones  = []string{"America/Chicago", "America/New_York", "America/Denver", "Europe/London", "America/Sao_Paulo", "Asia/Singapore", "America/Chicago", "America/Winnipeg"}
	demoMonths = "FGHJKMNQUVXZ"
)

// Texts by mood: the sentiment model scores what the client says.
var (
	demoGood = []string{
		"Thanks, the hedge worked exactly as planned and we are very pleased with the execution.",
		"Great call on the spread last week, the board was happy with the result.",
		"Really appreciate the quick fills this morning, excellent service as always.",
		"The weekly market notes are very helpful, please keep them coming.",
		"We are comfortable with the strategy and happy to add more coverage.",
	}
	demoBad = []string{
		"I'm not happy with the slippage on yesterday's fill, this is the second time this month.",
		"The confirmation came late again and our treasurer is frustrated.",
		"We lost money on that position and nobody called us before the report.",
		"Disappointed with the execution, the price was far worse than the screen.",
		"This is unacceptable, we asked for a call back and never heard anything.",
	}
	demoNeutral = []string{
		"Please send the margin statement for last month.",
		"Can we schedule a call on Thursday to review the positions?",
		"Attached is the updated crop estimate for the second quarter.",
		"We will be out of the office next week; Sam covers for me.",
		"What are the delivery dates for the next contract month?",
	}
	demoNotes = []string{
		"Client is considering a larger hedge before harvest; follow up with a proposal.",
		"Treasurer changed; new contact prefers email before 10:00.",
		"Discussed basis risk; client wants a monthly summary.",
		"Possible interest in options collars, prepare examples.",
		"Credit limit review pending with risk.",
	}
	demoMeetings = []string{
		"Quarterly review at the client's office: positions, margin and the hedge ratio.",
		"Video call with the CFO about next season's budget and coverage.",
		"Lunch meeting: client happy with service, asked about swaps.",
	}
	demoCalls = []string{
		"Called about the morning gap and the stop levels.",
		"Client called to roll the front-month position.",
		"Discussed the USDA report and possible adjustments.",
		"Margin call explained; client will wire funds today.",
	}
	demoRecs = []string{
		"Recommended rolling the hedge to the next contract month.",
		"Recommended a stop-limit instead of a market stop ahead of the report.",
		"Recommended reducing exposure before the holiday.",
	}
)

// demoClient creates demo client i, or finds it when an earlier run did.
func demoClient(ctx context.Context, st Stores, i int) (*store.Client, error) {
	r := rand.New(rand.NewPCG(uint64(i)+1, 42))
	desk := demoDesks[i%2]
	name := demoFirst[i%len(demoFirst)] + " " + demoSecond[(i/len(demoFirst)+i)%len(demoSecond)]
	kind := store.Entity
	if i%5 == 4 {
		kind = store.Individual
		name = demoPeople[(i/5)%len(demoPeople)]
	}
	handle := strings.ToLower(strings.NewReplacer(" ", "-", "'", "").Replace(name))
	handle = fmt.Sprintf("%s-%02d", handle, i+1)
	coms := []string{desk.commodities[r.IntN(len(desk.commodities))]}
	if other := desk.commodities[r.IntN(len(desk.commodities))]; other != coms[0] {
		coms = append(coms, other)
	}
	stages := []store.Stage{store.Active, store.Active, store.Active, store.Onboarding, store.Dormant, store.Prospect}
	tol := 2 + r.IntN(8)
	posLimit := float64(50 * (1 + r.IntN(10)))
	onboarded := time.Now().AddDate(-1-r.IntN(4), -r.IntN(12), 0)
	review := time.Now().AddDate(0, r.IntN(9)-2, r.IntN(28))
	target := float64(100 * (1 + r.IntN(20)))
	c := &store.Client{
		Handle: handle, Name: name, Kind: kind, Team: desk.name, Broker: desk.brokers[i%len(desk.brokers)],
		Accounts:  []string{fmt.Sprintf("ACC-%05d", 10000+i*37)},
		Onboarded: store.DateOf(onboarded), Stage: stages[i%len(stages)],
		Phones:    []store.Phone{{Kind: store.Work, Number: fmt.Sprintf("+1312555%04d", 100+i)}, {Kind: store.Mobile, Number: fmt.Sprintf("+1773555%04d", 100+i)}},
		Emails:    []store.Email{{Kind: store.Work, Address: fmt.Sprintf("desk@%s.example.com", handle)}},
		Addresses: []store.Address{{Kind: store.Work, Street: fmt.Sprintf("%d Market Street", 100+i*3), City: "Chicago", Region: "IL", PostalCode: "60606", Country: "US"}},
		TimeZone:  demoZones[i%len(demoZones)],
		Contact: store.ContactPrefs{Channels: []store.Channel{store.ChannelPhone, store.ChannelEmail, store.ChannelSlack}[:1+r.IntN(3)],
			Times: []string{[]string{"morning", "afternoon", "evening"}[r.IntN(3)]}, Frequency: []store.Frequency{store.Daily, store.Weekly, store.Monthly}[r.IntN(3)],
			DoNotContact: i%17 == 16, DoNotReason: map[bool]string{true: "asked for no calls during an audit"}[i%17 == 16]},
		Trading: store.TradingPrefs{Commodities: coms, Instruments: []store.InstrumentKind{store.Futures, store.Options}[:1+r.IntN(2)],
			OrderTypes: []store.OrderType{store.Limit, store.Market, store.Stop}[:1+r.IntN(3)]},
		Risk: store.Risk{Tolerance: tol, Horizon: []store.Horizon{store.ShortTerm, store.MediumTerm, store.LongTerm}[r.IntN(3)], PositionLimit: &posLimit,
			AssessedOn: store.DateOf(review.AddDate(-1, 0, 0)), ReviewOn: store.DateOf(review)},
		Goals: []store.Goal{
			{Term: store.ShortGoal, Description: "Hedge the next season's " + coms[0], Commodity: coms[0], Target: &target, Deadline: store.DateOf(time.Now().AddDate(0, 3+r.IntN(6), 0)), Progress: float64(r.IntN(101))},
			{Term: store.LongGoal, Description: "Diversify into a second asset class", Deadline: store.DateOf(time.Now().AddDate(2, 0, 0)), Progress: float64(r.IntN(60))},
		},
		Diversification: "Keep any one commodity under 60% of margin.",
		Tags:            []string{[]string{"high-value", "frequent-trader", "needs-frequent-updates", "hedger"}[i%4]},
	}
	if kind == store.Entity {
		c.Company = name + " LLC"
	}
	if kind == store.Individual {
		income, worth := float64(120000+r.IntN(400000)), float64(900000+r.IntN(5000000))
		c.KYC = store.KYC{Occupation: []string{"farmer", "physician", "engineer", "business owner"}[r.IntN(4)], AnnualIncome: &income, NetWorth: &worth,
			DateOfBirth:          store.Date{Year: 1955 + r.IntN(40), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(28)},
			InvestmentExperience: fmt.Sprintf("%d years of stocks and bonds", 3+r.IntN(20)), FuturesExperience: fmt.Sprintf("%d years", 1+r.IntN(10))}
	}
	err := st.Clients.CreateClient(ctx, c, c.Broker)
	if store.ErrorCode(err) == store.ECONFLICT {
		found, ferr := st.Clients.ClientByHandle(ctx, handle)
		if ferr != nil {
			return nil, fmt.Errorf("demo: client %s: %w", handle, err)
		}
		if found.Team != desk.name {
			return nil, fmt.Errorf("demo: the handle %s belongs to a client of %s, not to the demo desk; load the demo into an empty store", handle, found.Team)
		}
		return found, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo: client %s: %w", handle, err)
	}
	return c, nil
}

// demoHistory records a year of client i's relationship, up to the day the
// client was created (so that a second run writes the same events). Every
// entry is made by ingest from the input its transport would hand over:
// mail, calls, orders, and what brokers write (ingest.Written).
func demoHistory(ctx context.Context, st Stores, c *store.Client, i int) (events, fills int, err error) {
	r := rand.New(rand.NewPCG(uint64(i)+1, 7))
	end := c.CreatedAt.UTC().Truncate(time.Hour)
	begin := end.AddDate(-1, 0, 0).Truncate(24 * time.Hour) // midnight UTC: working hours fall at 13:00-21:00 UTC
	var evs []*store.Event
	var fs []store.Fill
	n := 0
	add := func(e *store.Event) {
		n++
		evs = append(evs, e)
	}
	nextID := func() string { return fmt.Sprintf("%s/%d", c.Handle, n+1) }
	broker := c.Broker
	// written is what the broker (or, for chats, the client) puts on the
	// timeline by hand; Source and the source ids are those of earlier
	// demos, so that loading again changes nothing.
	written := func(at time.Time, kind store.Kind, source store.Source, sourceID, actor, text string) *store.Event {
		return ingest.Written{Client: c.ID, Kind: kind, Source: source, SourceID: sourceID, Actor: actor, At: at, Text: text}.Event()
	}
	phase := r.Float64() * 2 * math.Pi
	mood := func(t time.Time) float64 { // in [-1, 1], drifting over months
		return math.Sin(phase + float64(t.Sub(begin))/float64(90*24*time.Hour)*math.Pi)
	}
	say := func(t time.Time) string {
		m := mood(t) + (r.Float64()-0.5)*0.8
		switch {
		case m > 0.35:
			return demoGood[r.IntN(len(demoGood))]
		case m < -0.35:
			return demoBad[r.IntN(len(demoBad))]
		}
		return demoNeutral[r.IntN(len(demoNeutral))]
	}
	price := map[string]float64{}
	for _, k := range c.Trading.Commodities {
		price[k] = demoPrices[k]
	}
	add(written(begin, store.KindEvent, store.SourceCommand, nextID(), broker, "Annual relationship review opened"))
	for day := begin; !day.Add(24 * time.Hour).After(end); day = day.Add(24 * time.Hour) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		at := func() time.Time { return day.Add(time.Duration(13*60+r.IntN(8*60)) * time.Minute) }
		for _, k := range c.Trading.Commodities {
			price[k] *= 1 + (r.Float64()-0.5)*0.03
		}
		if r.IntN(7) == 0 {
			t := at()
			text := say(t)
			subject := strings.SplitN(text, ",", 2)[0]
			if len(subject) > 50 {
				subject = subject[:50]
			}
			for _, e := range (ingest.Email{Clients: []uuid.UUID{c.ID}, Key: fmt.Sprintf("<%s.%d@demo.example.com>", c.Handle, n), At: t, Actor: c.Emails[0].Address,
				Excerpt: "Hello,\n\n" + text + "\n\nBest regards,\n" + c.Name,
				Attrs:   store.EmailAttrs{Subject: subject, From: c.Emails[0].Address, To: []string{"desk@brokersync.example.com"}, Direction: "inbound"}}).Events() {
				add(e)
			}
		}
		if r.IntN(5) == 0 {
			t := at()
			add(written(t, store.KindChat, store.SourceSlack, fmt.Sprintf("%s-%d.000100", c.Handle, t.Unix()), c.Name, say(t)))
		}
		if r.IntN(9) == 0 {
			t := at()
			call, err := ingest.ParseCall(ingest.CallEvent{ID: nextID(), Client: c.Handle, Direction: []string{"inbound", "outbound"}[r.IntN(2)],
				DurationSeconds: ptr(float64(60 * (2 + r.IntN(40)))), StartedAt: t.Format(time.RFC3339), Summary: demoCalls[r.IntN(len(demoCalls))] + " " + say(t)}, end)
			if err != nil {
				return 0, 0, err
			}
			add(call.Event(c))
		}
		if r.IntN(45) == 0 {
			add(written(at(), store.KindMeeting, store.SourceCommand, nextID(), broker, demoMeetings[r.IntN(len(demoMeetings))]))
		}
		if r.IntN(22) == 0 {
			add(written(at(), store.KindNote, store.SourceCommand, nextID(), broker, demoNotes[r.IntN(len(demoNotes))]))
		}
		if r.IntN(40) == 0 {
			t := at()
			rating := 3 + int(math.Round(mood(t)*2))
			e := written(t, store.KindFeedback, store.SourceCommand, nextID(), broker, say(t))
			e.Attrs.Feedback = &store.FeedbackAttrs{Rating: max(1, min(5, rating))}
			add(e)
		}
		if r.IntN(35) == 0 {
			add(written(at(), store.KindRecommendation, store.SourceCommand, nextID(), broker, demoRecs[r.IntN(len(demoRecs))]))
		}
		if r.IntN(25) == 0 {
			t := at()
			add(written(t, store.KindReminder, store.SourceCommand, nextID(), broker, "Follow-up created: call "+c.Name+" about the next roll"))
			add(written(t.Add(time.Duration(1+r.IntN(4))*24*time.Hour), store.KindReminder, store.SourceCommand, nextID(), broker, "Follow-up done: called "+c.Name))
		}
		if r.IntN(6) == 0 {
			t := at()
			key := c.Trading.Commodities[r.IntN(len(c.Trading.Commodities))]
			com, _ := st.Catalogue.Lookup(key)
			month := t.AddDate(0, 1+r.IntN(3), 0)
			contract := fmt.Sprintf("%s%c%d", com.Symbol, demoMonths[month.Month()-1], month.Year()%10)
			side := []string{"buy", "sell"}[r.IntN(2)]
			qty := float64(1 + r.IntN(int(*c.Risk.PositionLimit)/5))
			px := math.Round(price[key]*100) / 100
			orderID := fmt.Sprintf("%s-%d", c.Accounts[0], n)
			order := func(status string, filled float64, dt time.Duration) error {
				ev := ingest.OrderEvent{ID: orderID + "-" + status, OrderID: orderID, ExecID: orderID + "-" + status, Client: c.Handle, Status: status,
					Side: side, Contract: contract, Commodity: key, Quantity: &qty, CumQty: &filled, Price: &px, Currency: "USD",
					OrderType: string(c.Trading.OrderTypes[0]), Time: t.Add(dt).Format(time.RFC3339)}
				if filled > 0 {
					ev.LastQty, ev.LastPx = &filled, &px
				}
				o, err := ingest.ParseOrder(ev, end, st.Catalogue)
				if err != nil {
					return fmt.Errorf("order %s: %w", ev.ID, err)
				}
				add(o.Event(c))
				if f := o.Fill(c); f != nil {
					fs = append(fs, *f)
				}
				return nil
			}
			if err := order("placed", 0, 0); err != nil {
				return 0, 0, err
			}
			var err error
			switch x := r.IntN(10); {
			case x < 7:
				err = order("filled", qty, time.Duration(1+r.IntN(30))*time.Minute)
			case x < 9:
				err = order("partially_filled", math.Ceil(qty/2), time.Duration(1+r.IntN(30))*time.Minute)
			default:
				err = order("cancelled", 0, time.Duration(1+r.IntN(120))*time.Minute)
			}
			if err != nil {
				return 0, 0, err
			}
		}
	}
	for from := 0; from < len(evs); from += 500 {
		if err := st.Recorder.Record(ctx, evs[from:min(from+500, len(evs))]...); err != nil {
			return 0, 0, err
		}
	}
	for _, f := range fs {
		first, err := st.Trades.RecordFill(ctx, f)
		if err != nil {
			return 0, 0, err
		}
		if first {
			fills++
		}
	}
	return len(evs), fills, nil
}

func ptr[T any](v T) *T { return &v }

// Stores are where the demo goes; Recorder scores and appends events (the
// server's recorder, so sentiment is scored as for real messages).
type Stores struct {
	Clients   store.ClientStore
	Teams     store.TeamStore
	Trades    store.TradeStore
	Catalogue *store.Catalogue // the commodities' contract codes
	Recorder  *ingest.Recorder
}

// Result says what a load holds.
type Result struct {
	Desks    []string
	Brokers  map[string][]string // by desk
	Clients  []*store.Client     // in load order; the first is on grain-desk
	Events   int
	NewFills int
}

// Load puts the demo desk into st, or finds what an earlier load put there.
func Load(ctx context.Context, st Stores) (Result, error) {
	res := Result{Brokers: map[string][]string{}}
	for _, d := range demoDesks {
		res.Desks = append(res.Desks, d.name)
		res.Brokers[d.name] = d.brokers
		for _, b := range d.brokers {
			if err := st.Teams.AddMember(ctx, store.Member{SlackID: b, Desk: d.name, Role: store.RoleBroker, AddedBy: Manager}); err != nil {
				return res, fmt.Errorf("demo: put %s on %s: %w", b, d.name, err)
			}
		}
		if err := st.Teams.AddMember(ctx, store.Member{SlackID: Manager, Desk: d.name, Role: store.RoleManager, AddedBy: Manager}); err != nil {
			return res, fmt.Errorf("demo: put %s on %s: %w", Manager, d.name, err)
		}
	}
	for i := range Clients {
		c, err := demoClient(ctx, st, i)
		if err != nil {
			return res, err
		}
		res.Clients = append(res.Clients, c)
		n, f, err := demoHistory(ctx, st, c, i)
		if err != nil {
			return res, fmt.Errorf("demo: %s's timeline: %w", c.Handle, err)
		}
		res.Events += n
		res.NewFills += f
	}
	n, err := demoMarket(ctx, st, res.Clients)
	if err != nil {
		return res, fmt.Errorf("demo: market moves: %w", err)
	}
	res.Events += n
	return res, nil
}

// demoMarket sends a year of market moves in the desks' commodities, about
// one a month each, through ingest as the market webhook does: each lands
// on the timelines of the clients who follow or trade the commodity. The
// year ends when the first client was created, so that a second run sends
// the same moves.
func demoMarket(ctx context.Context, st Stores, clients []*store.Client) (int, error) {
	end := clients[0].CreatedAt.UTC().Truncate(24 * time.Hour)
	var moves []ingest.MarketMove
	for i, d := range demoDesks {
		for j, key := range d.commodities {
			r := rand.New(rand.NewPCG(uint64(i*100+j)+1, 11))
			for week := end.AddDate(-1, 0, 0); week.Before(end); week = week.AddDate(0, 0, 7) {
				if r.IntN(4) != 0 {
					continue
				}
				at := week.Add(time.Duration(r.IntN(5))*24*time.Hour + 14*time.Hour + 30*time.Minute)
				change := math.Round((r.Float64()-0.5)*100) / 10
				if at.After(end) {
					continue
				}
				price := math.Round(demoPrices[key]*(1+change/100)*100) / 100
				moves = append(moves, ingest.MarketMove{ID: fmt.Sprintf("demo-%s-%s", key, at.Format("20060102")), Commodity: key,
					ChangePct: &change, Price: &price, Time: at.Format(time.RFC3339)})
			}
		}
	}
	in := &ingest.Intake{Clients: st.Clients, Trades: st.Trades, Catalogue: st.Catalogue, Recorder: st.Recorder}
	entries, err := in.PrepareMarket(ctx, moves)
	if err != nil {
		return 0, err
	}
	stored, err := in.Store(ctx, entries)
	return stored.Events, err
}
