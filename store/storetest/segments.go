package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// SegmentStore is what segments need of a backend: profiles, statistics,
// matching and saved segments.
type SegmentStore interface {
	store.ClientStore
	StatsStore
	store.ResponsivenessStore
	store.StatsReader
	segment.Matcher
	segment.Store
}

// RunSegmentTests runs the filter language against one backend: every
// term, negation, precedence, the passage of time, saved segments,
// injection attempts and desk rights. Subtests build their own desks and
// clients (named with a random suffix) and run in parallel on one store.
func RunSegmentTests(t *testing.T, newStore func(t *testing.T) SegmentStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s SegmentStore)
	}{
		{"EveryTerm", testEveryTerm},
		{"TimePasses", testSegmentTimePasses},
		{"SavedSegments", testSavedSegments},
		{"InjectionIsHarmless", testSegmentInjection},
		{"DeskRights", testSegmentDeskRights},
		{"PagesAndCount", testSegmentPages},
		{"Responsiveness", testSegmentResponsiveness},
		{"OnlyTheClientsAsked", testSegmentClients},
		{"DecideAgreesWithTheStore", testSegmentDecide},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// segNow is the suite's clock: every relative term is evaluated as of it.
var segNow = time.Date(2026, 11, 30, 15, 4, 5, 0, time.UTC)

// book is a small book of clients on two desks with known statistics.
type book struct {
	s          SegmentStore
	sfx        string
	deskA      string
	deskB      string
	b1, b2, b3 string
	h          map[string]string // short name -> handle
}

func randSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func newBook(t *testing.T, s SegmentStore) *book {
	t.Helper()
	ctx := t.Context()
	sfx := randSuffix()
	bk := &book{s: s, sfx: sfx, deskA: "a-" + sfx, deskB: "b-" + sfx, b1: "UB1" + strings.ToUpper(sfx), b2: "UB2" + strings.ToUpper(sfx), b3: "UB3" + strings.ToUpper(sfx), h: map[string]string{}}
	day := 24 * time.Hour
	mk := func(name, desk, broker string, stage store.Stage, risk int, horizon store.Horizon, tags, prefers []string, onboarded string) uuid.UUID {
		c := &store.Client{Handle: name + "-" + sfx, Name: name, Kind: store.Entity, Team: desk, Broker: broker, Stage: stage, Tags: tags}
		c.Risk.Tolerance, c.Risk.Horizon = risk, horizon
		c.Trading.Commodities = prefers
		if onboarded != "" {
			d, err := store.ParseDate(onboarded)
			if err != nil {
				t.Fatal(err)
			}
			c.Onboarded = d
		}
		if err := s.CreateClient(ctx, c, "UADMIN"); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		bk.h[name] = c.Handle
		return c.ID
	}
	fill := func(id uuid.UUID, ago time.Duration, commodity string, qty, price float64) {
		if _, err := s.RecordFill(ctx, store.Fill{EventID: uuid.New(), ClientID: id, At: segNow.Add(-ago), Commodity: commodity, Contract: "X", Side: "buy", Quantity: qty, Price: price}); err != nil {
			t.Fatal(err)
		}
	}
	contact := func(id uuid.UUID, ago time.Duration, kind store.Kind, dir string) {
		if _, err := s.RecordContacts(ctx, store.Contact{EventID: uuid.New(), ClientID: id, At: segNow.Add(-ago), Kind: kind, Direction: dir}); err != nil {
			t.Fatal(err)
		}
	}
	score := func(id uuid.UUID, ago time.Duration, v float64) {
		if err := s.RecordScores(ctx, id, store.Score{EventID: uuid.New(), At: segNow.Add(-ago), Score: v}); err != nil {
			t.Fatal(err)
		}
	}
	// oak: an active energy VIP, trading daily, happy, just in touch.
	oak := mk("oak", bk.deskA, bk.b1, store.Active, 8, store.LongTerm, []string{"vip"}, []string{"wti"}, "2024-06-01")
	for i := range 11 {
		fill(oak, time.Duration(i+1)*day, "wti", 1, 100) // 11 fills, notional 1.1m in 30 days
	}
	contact(oak, 2*day, store.KindEmail, store.Inbound)
	score(oak, 3*day, 0.5)
	// elm: a dormant corn hedger, one big fill two months ago, unhappy.
	elm := mk("elm", bk.deskA, bk.b2, store.Dormant, 3, store.ShortTerm, []string{"closed-out"}, []string{"corn"}, "2025-06-01")
	fill(elm, 60*day, "corn", 600, 4) // notional 12m, volume 600
	contact(elm, 45*day, store.KindCall, store.Outbound)
	score(elm, 10*day, -0.4)
	// ash: onboarding, not assessed, follows gold, nothing else.
	mk("ash", bk.deskA, bk.b1, store.Onboarding, 0, "", nil, []string{"gold"}, "")
	// fir: on the other desk, a VIP who traded long ago.
	fir := mk("fir", bk.deskB, bk.b3, store.Active, 9, store.MediumTerm, []string{"vip"}, []string{"brent"}, "2023-01-01")
	fill(fir, 200*day, "wti", 2, 80)
	contact(fir, 100*day, store.KindMeeting, store.Both)
	// müller: unicode handle and tag, desk A, nothing traded.
	mk("müller", bk.deskA, bk.b2, store.Prospect, 5, "", []string{"über-kunde"}, nil, "")
	return bk
}

func (bk *book) match(t *testing.T, filter string, teams []string, now time.Time) ([]string, error) {
	t.Helper()
	f, err := segment.Parse(filter, store.DefaultCatalogue())
	if err != nil {
		return nil, err
	}
	f, err = segment.Resolve(t.Context(), f, segment.Lookup{
		Segment: func(ctx context.Context, name string) (string, error) {
			s, err := bk.s.Segment(ctx, name)
			return s.Filter, err
		},
	})
	if err != nil {
		return nil, err
	}
	q := segment.Query{Filter: f, Teams: teams, Now: now}
	var out []string
	for c, err := range segment.All(t.Context(), bk.s, q) {
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSuffix(c.Handle, "-"+bk.sfx))
	}
	n, err := bk.s.CountClients(t.Context(), q)
	if err != nil {
		return nil, err
	}
	if n != len(out) {
		t.Errorf("%s: CountClients %d, MatchClients %d", filter, n, len(out))
	}
	return out, nil
}

func (bk *book) expect(t *testing.T, filter string, teams []string, now time.Time, want ...string) {
	t.Helper()
	got, err := bk.match(t, filter, teams, now)
	if err != nil {
		t.Errorf("%s: %v", filter, err)
		return
	}
	slices.Sort(want)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%-40s matched %v, want %v", filter, got, want)
	}
}

func testEveryTerm(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	both := []string{bk.deskA, bk.deskB}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"", []string{"ash", "elm", "fir", "müller", "oak"}},
		{"tag:vip", []string{"fir", "oak"}},
		{"TAG:VIP", []string{"fir", "oak"}},
		{"tag=vip", []string{"fir", "oak"}},
		{"-tag:vip", []string{"ash", "elm", "müller"}},
		{"tag!=vip", []string{"ash", "elm", "müller"}},
		{"NOT tag:vip", []string{"ash", "elm", "müller"}},
		{"--tag:vip", []string{"fir", "oak"}},
		{`tag:"vip"`, []string{"fir", "oak"}},
		{"tag:über-kunde", []string{"müller"}},
		{"stage:dormant", []string{"elm"}},
		{"stage:'dormant'", []string{"elm"}},
		{"stage:active -tag:vip", nil},
		{"stage:dormant -tag:closed-out", nil},
		{"risk>=7", []string{"fir", "oak"}},
		{"risk>8", []string{"fir"}},
		{"risk:8", []string{"oak"}},
		{"risk<5", []string{"elm"}},
		{"risk<=5", []string{"elm", "müller"}},
		{"risk!=8", []string{"elm", "fir", "müller"}},
		{"-risk>=7", []string{"ash", "elm", "müller"}},
		{"horizon:long", []string{"oak"}},
		{"horizon!=long", []string{"ash", "elm", "fir", "müller"}},
		{"desk:" + bk.deskA, []string{"ash", "elm", "müller", "oak"}},
		{"broker:" + bk.b1, []string{"ash", "oak"}},
		{"broker:<@" + bk.b1 + "|jane>", []string{"ash", "oak"}},
		{"commodity:corn", []string{"elm"}},
		{"commodity:CBOT:ZC", []string{"elm"}},
		{"commodity:wti", []string{"fir", "oak"}},
		{"prefers:wti", []string{"oak"}},
		{"traded:wti", []string{"fir", "oak"}},
		{"asset:energy", []string{"fir", "oak"}},
		{"asset:metals", []string{"ash"}},
		{"prefers:metals", []string{"ash"}},
		{"traded:metals", nil},
		{"traded:agriculture", []string{"elm"}},
		{"-asset:energy", []string{"ash", "elm", "müller"}},
		{"trades.30d>=10", []string{"oak"}},
		{"trades.30d>=1", []string{"oak"}},
		{"trades.30d:0", []string{"ash", "elm", "fir", "müller"}},
		{"trades.90d>=1", []string{"elm", "oak"}},
		{"trades.365d>=1", []string{"elm", "fir", "oak"}},
		{"volume.90d>500", []string{"elm"}},
		{"volume.30d>=11", []string{"oak"}},
		{"volume.365d<5", []string{"ash", "fir", "müller"}},
		{"notional.90d>1m", []string{"elm", "oak"}},
		{"notional.90d>5m", []string{"elm"}},
		{"notional.30d>1m", []string{"oak"}},
		{"notional.30d>1.1m", nil},
		{"notional.30d>=1100k", []string{"oak"}},
		{"notional.365d>=160k", []string{"elm", "fir", "oak"}},
		{"notional.365d>=0.16M", []string{"elm", "fir", "oak"}},
		{"last.contact>30d", []string{"ash", "elm", "fir", "müller"}},
		{"last.contact<7d", []string{"oak"}},
		{"last.contact<=50d", []string{"elm", "oak"}},
		{"last.inbound>30d", []string{"ash", "elm", "fir", "müller"}},
		{"last.outbound<60d", []string{"elm"}},
		{"last.outbound<120d", []string{"elm", "fir"}},
		{"last.fill>90d", []string{"ash", "fir", "müller"}},
		{"last.fill<30d", []string{"oak"}},
		{"last.fill<2m", []string{"oak"}},
		{"last.fill<9w", []string{"elm", "oak"}},
		{"onboarded<2025-01-01", []string{"fir", "oak"}},
		{"onboarded>=2025-01-01", []string{"elm"}},
		{"-onboarded<2025-01-01", []string{"ash", "elm", "müller"}},
		{"sentiment<0", []string{"elm"}},
		{"sentiment>0", []string{"oak"}},
		{"sentiment<-0.2", []string{"elm"}},
		{"-sentiment<0", []string{"ash", "fir", "müller", "oak"}},
		// AND binds tighter than OR; parentheses and negation group.
		{"tag:vip OR stage:dormant risk<5", []string{"elm", "fir", "oak"}},
		{"(tag:vip OR stage:dormant) risk<5", []string{"elm"}},
		{"tag:vip AND risk>8 OR stage:dormant", []string{"elm", "fir"}},
		{"tag:vip (risk>8 OR stage:dormant)", []string{"fir"}},
		{"-(tag:vip OR stage:dormant)", []string{"ash", "müller"}},
		{"-(tag:vip -risk>8)", []string{"ash", "elm", "fir", "müller"}},
		{"(tag:vip OR risk>=8) -stage:closed", []string{"fir", "oak"}},
		{"asset:energy risk>=7 last.contact>30d", []string{"fir"}},
		{"tag:vip OR notional.90d>5m", []string{"elm", "fir", "oak"}},
		{"sentiment<-0.2 trades.30d>=1", nil},
		{"sentiment>0.2 trades.30d>=1", []string{"oak"}},
		{"((((tag:vip))))", []string{"fir", "oak"}},
	} {
		bk.expect(t, tc.filter, both, segNow, tc.want...)
	}
}

// Relative terms follow the clock: forty days on, oak has gone quiet and
// its fills have left the 30-day window; an email brings it back.
func testSegmentTimePasses(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	teams := []string{bk.deskA}
	later := segNow.Add(40 * 24 * time.Hour)
	bk.expect(t, "last.contact>30d", teams, segNow, "ash", "elm", "müller")
	bk.expect(t, "last.contact>30d", teams, later, "ash", "elm", "müller", "oak")
	bk.expect(t, "trades.30d>=1", teams, later)
	bk.expect(t, "trades.90d>=10", teams, later, "oak")
	oak, err := s.ClientByHandle(t.Context(), bk.h["oak"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordContacts(t.Context(), store.Contact{EventID: uuid.New(), ClientID: oak.ID, At: later.Add(-time.Hour), Kind: store.KindEmail, Direction: store.Inbound}); err != nil {
		t.Fatal(err)
	}
	bk.expect(t, "last.contact>30d", teams, later, "ash", "elm", "müller")
	// An event after "now" is not seen yet.
	bk.expect(t, "last.contact<1d", teams, later.Add(-2*time.Hour))
}

func testSavedSegments(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	ctx := t.Context()
	both := []string{bk.deskA, bk.deskB}
	vips := "vips-" + bk.sfx
	saved, err := s.SaveSegment(ctx, segment.Saved{Name: strings.ToUpper(vips), Filter: "  tag:vip ", UpdatedBy: "UJANE", UpdatedAt: segNow})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Name != vips || saved.Filter != "tag:vip" || saved.CreatedBy != "UJANE" || !saved.CreatedAt.Equal(segNow) {
		t.Errorf("saved %+v", saved)
	}
	bk.expect(t, "segment:"+vips, both, segNow, "fir", "oak")
	bk.expect(t, "-segment:"+vips, both, segNow, "ash", "elm", "müller")
	bk.expect(t, "segment:"+vips+" risk>8", both, segNow, "fir")
	quiet := "quiet-" + bk.sfx
	if _, err := s.SaveSegment(ctx, segment.Saved{Name: quiet, Filter: "segment:" + vips + " last.contact>30d", UpdatedBy: "UOMAR", UpdatedAt: segNow}); err != nil {
		t.Fatal(err)
	}
	bk.expect(t, "segment:"+quiet, both, segNow, "fir")
	// Replacing the filter keeps who created it; the segment is live.
	again, err := s.SaveSegment(ctx, segment.Saved{Name: vips, Filter: "tag:vip OR stage:dormant", UpdatedBy: "UOMAR", UpdatedAt: segNow.Add(time.Hour)})
	if err != nil || again.CreatedBy != "UJANE" || !again.CreatedAt.Equal(segNow) {
		t.Errorf("replace: %+v, %v", again, err)
	}
	bk.expect(t, "segment:"+quiet, both, segNow, "elm", "fir")
	got, err := s.Segment(ctx, vips)
	if err != nil || got.Filter != "tag:vip OR stage:dormant" || got.UpdatedBy != "UOMAR" {
		t.Errorf("Segment: %+v, %v", got, err)
	}
	list, err := s.Segments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sg := range list {
		if strings.HasSuffix(sg.Name, bk.sfx) {
			names = append(names, sg.Name)
		}
	}
	if !slices.Equal(names, []string{quiet, vips}) {
		t.Errorf("Segments: %v", names)
	}
	// A segment naming itself, directly or through another, is refused.
	if _, err := s.SaveSegment(ctx, segment.Saved{Name: vips, Filter: "segment:" + quiet, UpdatedBy: "UOMAR"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.match(t, "segment:"+quiet, both, segNow); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("a loop of segments: %v", err)
	}
	if _, err := bk.match(t, "segment:nothing-"+bk.sfx, both, segNow); err == nil || !strings.Contains(err.Error(), "no saved segment") {
		t.Errorf("an unknown segment: %v", err)
	}
	for _, bad := range []segment.Saved{{Name: "Bad Name", Filter: "tag:vip"}, {Name: "ok-" + bk.sfx, Filter: ""}, {Name: "ok-" + bk.sfx, Filter: "risk>>7"}} {
		if _, err := s.SaveSegment(ctx, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("save %+v: %v; want EINVALID", bad, err)
		}
	}
	if err := s.DeleteSegment(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSegment(ctx, quiet); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("delete twice: %v", err)
	}
	if _, err := s.Segment(ctx, quiet); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("a deleted segment: %v", err)
	}
}

// Values are parameters: whatever a filter holds, it reads as data, the
// tables stay and nothing outside the desk leaks.
func testSegmentInjection(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	teams := []string{bk.deskA}
	for _, f := range []string{
		`broker:"x' OR '1'='1"`,
		`broker:"'; DROP TABLE clients; --"`,
		`desk:"a' OR 1=1 --"`,
		`tag:"vip' OR 'a'='a"`,
		`tag:'; DROP TABLE clients; --`,
		`tag:vip'); DELETE FROM client_tags; --`,
		`broker:"\" OR 1=1 --"`,
		`stage:"active' UNION SELECT profile FROM clients --"`,
		`commodity:"corn' OR 1=1"`,
		`broker:` + strings.Repeat("x", 1500),
		`tag:` + strings.Repeat("é", 64),
		"broker:\x00",
		`broker:"😀' --"`,
	} {
		got, err := bk.match(t, f, teams, segNow)
		var pe *segment.Error
		if err != nil && !asSegmentError(err, &pe) {
			t.Errorf("%.60s: %v; want a filter error or no match", f, err)
		}
		if len(got) != 0 {
			t.Errorf("%.60s matched %v", f, got)
		}
	}
	long := strings.TrimSpace(strings.Repeat("tag:vip OR ", 99) + "tag:vip")
	bk.expect(t, long, teams, segNow, "oak")
	if _, err := bk.match(t, strings.Repeat("-", 5000)+"tag:vip", teams, segNow); err == nil {
		t.Error("a 5,000-character filter was accepted")
	}
	bk.expect(t, "", teams, segNow, "ash", "elm", "müller", "oak")
	bk.expect(t, "tag:vip", teams, segNow, "oak")
}

func asSegmentError(err error, pe **segment.Error) bool {
	e, ok := err.(*segment.Error)
	if ok {
		*pe = e
	}
	return ok
}

// A viewer's desks bound every answer, whatever the filter.
func testSegmentDeskRights(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	b := []string{bk.deskB}
	for _, f := range []string{"", "desk:" + bk.deskA, "tag:vip OR desk:" + bk.deskA, "-desk:" + bk.deskB, "broker:" + bk.b1, "-tag:nothing", "(desk:" + bk.deskA + " OR desk:" + bk.deskB + ")"} {
		got, err := bk.match(t, f, b, segNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range got {
			if h != "fir" {
				t.Errorf("desk %s viewer, %q: sees %s of the other desk", bk.deskB, f, h)
			}
		}
	}
	if got, err := bk.match(t, "", []string{}, segNow); err != nil || len(got) != 0 {
		t.Errorf("a viewer on no desk: %v, %v", got, err)
	}
	// Admins (nil teams) see every desk.
	bk.expect(t, "desk:"+bk.deskA+" OR desk:"+bk.deskB, nil, segNow, "ash", "elm", "fir", "müller", "oak")
}

func testSegmentPages(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	q := segment.Query{Filter: mustParse(t, ""), Teams: []string{bk.deskA, bk.deskB}, Now: segNow, Limit: 2}
	var all []string
	for {
		page, err := s.MatchClients(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			all = append(all, strings.TrimSuffix(c.Handle, "-"+bk.sfx))
		}
		if len(page) < 2 {
			break
		}
		q.After = page[len(page)-1].Handle
	}
	if !slices.Equal(all, []string{"ash", "elm", "fir", "müller", "oak"}) {
		t.Errorf("pages of 2: %v", all)
	}
}

func mustParse(t *testing.T, s string) *segment.Filter {
	t.Helper()
	f, err := segment.Parse(s, store.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A rule asking about one client (a workflow's condition) matches it
// alone, and still within the desks asked.
func testSegmentClients(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	ctx := t.Context()
	ash, err := s.ClientByHandle(ctx, bk.h["ash"])
	if err != nil {
		t.Fatal(err)
	}
	fir, err := s.ClientByHandle(ctx, bk.h["fir"])
	if err != nil {
		t.Fatal(err)
	}
	count := func(filter string, teams []string, ids []uuid.UUID) int {
		t.Helper()
		n, err := s.CountClients(ctx, segment.Query{Filter: mustParse(t, filter), Teams: teams, Clients: ids, Now: segNow})
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.MatchClients(ctx, segment.Query{Filter: mustParse(t, filter), Teams: teams, Clients: ids, Now: segNow})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != n {
			t.Errorf("%q for %v: %d matched, %d counted", filter, ids, len(page), n)
		}
		return n
	}
	both := []string{bk.deskA, bk.deskB}
	if n := count("", both, []uuid.UUID{ash.ID}); n != 1 {
		t.Errorf("ash alone: %d", n)
	}
	if n := count("", both, []uuid.UUID{ash.ID, fir.ID}); n != 2 {
		t.Errorf("ash and fir: %d", n)
	}
	if n := count("desk:"+bk.deskB, both, []uuid.UUID{ash.ID}); n != 0 {
		t.Errorf("ash on the other desk's filter: %d", n)
	}
	if n := count("", []string{fir.Team}, []uuid.UUID{ash.ID}); ash.Team != fir.Team && n != 0 {
		t.Errorf("ash outside the desks asked: %d", n)
	}
	if n := count("", both, []uuid.UUID{}); n != 0 {
		t.Errorf("no clients: %d", n)
	}
}

// What segment.Decide settles from a profile alone is what the store
// says, for every client of the book and filters of every profile term.
func testSegmentDecide(t *testing.T, s SegmentStore) {
	bk := newBook(t, s)
	ctx := t.Context()
	var clients []*store.Client
	for _, h := range bk.h {
		c, err := s.ClientByHandle(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	filters := []string{
		"tag:vip", "-tag:vip", "tag!=vip", "stage:active", "stage!=onboarding", "desk:" + bk.deskA, "broker:" + bk.b1,
		"horizon:medium", "-horizon:long", "risk>=7", "risk<5", "risk=9", "risk!=9", "risk:3",
		"tag:vip OR risk<3", "(tag:vip OR stage:dormant) -risk>8", "tag:vip trades.30d>=1", "-(tag:vip trades.30d>=1)",
		"tag:nothing trades.30d>=1", "tag:vip OR trades.30d>=1", "sentiment<0 OR -tag:nothing",
	}
	known := 0
	for _, text := range filters {
		f := mustParse(t, text)
		for _, c := range clients {
			m, k := segment.Decide(f, c)
			if !k {
				continue
			}
			known++
			n, err := s.CountClients(ctx, segment.Query{Filter: f, Clients: []uuid.UUID{c.ID}, Now: segNow})
			if err != nil {
				t.Fatal(err)
			}
			if m != (n == 1) {
				t.Errorf("%q on %s: decided %v, the store says %v", text, c.Handle, m, n == 1)
			}
		}
	}
	if known < len(filters)*len(clients)/2 {
		t.Errorf("only %d decided", known)
	}
}
