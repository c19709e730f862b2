package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

func statsRecorder(t *testing.T) (*embedded.DB, *ingest.Recorder) {
	db, rec := newRecorder(t)
	rec.Subscribers = []ingest.Subscriber{ingest.ContactTracker{Contacts: db, Teams: db}, ingest.RecommendationTracker{Catalogue: store.DefaultCatalogue(), Store: db}}
	return db, rec
}

// Real contacts reach the last-contact statistics as they are recorded,
// with their direction; notes, orders and profile changes do not.
func TestRecorderKeepsLastContact(t *testing.T) {
	ctx := context.Background()
	db, rec := statsRecorder(t)
	if err := db.AddMember(ctx, store.Member{SlackID: "UBROKER1", Desk: "grain", Role: store.RoleBroker, AddedBy: "UADMIN"}); err != nil {
		t.Fatal(err)
	}
	client := uuid.New()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ev := func(id string, ago time.Duration, kind store.Kind, source store.Source, actor string, attrs store.Attrs) *store.Event {
		return &store.Event{ClientID: client, Time: now.Add(-ago), Kind: kind, Source: source, SourceID: id, Actor: actor, Summary: "about corn", Attrs: attrs}
	}
	check := func(what string, in, out time.Time, inKind, outKind store.Kind) {
		t.Helper()
		st, err := db.ContactStats(ctx, client, now)
		if err != nil {
			t.Fatal(err)
		}
		if !st.LastInbound.Equal(in) || !st.LastOutbound.Equal(out) || st.InboundKind != inKind || st.OutboundKind != outKind {
			t.Errorf("%s: %+v; want inbound %v %s, outbound %v %s", what, st, in, inKind, out, outKind)
		}
	}
	mail := ev("m1", 40*time.Hour, store.KindEmail, "imap", "cfo@acme.example", store.Attrs{Email: &store.EmailAttrs{Direction: "inbound"}})
	call := ev("c1", 30*time.Hour, store.KindCall, "calls", "UBROKER1", store.Attrs{Call: &store.CallAttrs{Direction: "outbound"}})
	if err := rec.Record(ctx, mail, call); err != nil {
		t.Fatal(err)
	}
	check("an email in, a call out", mail.Time, call.Time, store.KindEmail, store.KindCall)
	for _, e := range []*store.Event{
		ev("n1", time.Hour, store.KindNote, "command", "UBROKER1", store.Attrs{}),
		ev("o1", time.Hour, store.KindOrder, "orders", "acme", store.Attrs{}),
		ev("p1", time.Hour, store.KindEvent, "profile", "UBROKER1", store.Attrs{}),
		ev("r1", time.Hour, store.KindRecommendation, "command", "UBROKER1", store.Attrs{}),
	} {
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	check("after a note, an order, a profile change and a recommendation", mail.Time, call.Time, store.KindEmail, store.KindCall)
	brokerChat := ev("s1", 20*time.Hour, store.KindChat, "slack", "UBROKER1", store.Attrs{Chat: &store.ChatAttrs{Channel: "C1"}})
	clientChat := ev("s2", 10*time.Hour, store.KindChat, "slack", "UGUEST1", store.Attrs{Chat: &store.ChatAttrs{Channel: "C1"}})
	if err := rec.Record(ctx, brokerChat, clientChat); err != nil {
		t.Fatal(err)
	}
	check("a broker's and the client's Slack messages", clientChat.Time, brokerChat.Time, store.KindChat, store.KindChat)
	meeting := ev("l1", 5*time.Hour, store.KindMeeting, "command", "UBROKER1", store.Attrs{})
	if err := rec.Record(ctx, meeting); err != nil {
		t.Fatal(err)
	}
	check("a logged meeting", meeting.Time, meeting.Time, store.KindMeeting, store.KindMeeting)
	feedback := ev("f1", 2*time.Hour, store.KindFeedback, "command", "UBROKER1", store.Attrs{Feedback: &store.FeedbackAttrs{Rating: 4}})
	if err := rec.Record(ctx, feedback); err != nil {
		t.Fatal(err)
	}
	check("feedback", feedback.Time, meeting.Time, store.KindFeedback, store.KindMeeting)
}

// rebuild-stats recounts fills (with their notional), contacts and
// sentiment from the timeline: after the statistics are lost it gives them
// back as they were, running it twice changes nothing, and it resumes after
// a handle.
func TestRebuildStatsFromTimeline(t *testing.T) {
	ctx := context.Background()
	db, rec := statsRecorder(t)
	now := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	var clients []*store.Client
	for i := range 3 {
		c := storetest.SimpleClient(i)
		if err := db.CreateClient(ctx, c, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	in := &ingest.Intake{Catalogue: store.DefaultCatalogue(), Clients: db, Trades: db, Recorder: rec, Now: func() time.Time { return now }}
	num := func(v float64) *float64 { return &v }
	var orders []ingest.OrderEvent
	for i, c := range clients {
		for j := range 3 {
			orders = append(orders, ingest.OrderEvent{
				ID: c.Handle + "-" + string(rune('a'+j)), OrderID: c.Handle + "-o", ExecID: c.Handle + "-x" + string(rune('a'+j)),
				Client: c.Handle, Status: "partially_filled", Side: "buy", Contract: "CLF7",
				Quantity: num(10), CumQty: num(float64(j + 1)), LastQty: num(1), LastPx: num(70 + float64(i)),
				Time: now.Add(-time.Duration(j*20) * 24 * time.Hour).Format(time.RFC3339),
			})
		}
	}
	entries, err := in.PrepareOrders(ctx, orders)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Store(ctx, entries); err != nil {
		t.Fatal(err)
	}
	mail := &store.Event{ClientID: clients[1].ID, Time: now.Add(-48 * time.Hour), Kind: store.KindEmail, Source: "imap", SourceID: "<x@acme>", Actor: "client1@example.com",
		Summary: "thanks", Body: "Thanks, great fill on the crude this morning.", Attrs: store.Attrs{Email: &store.EmailAttrs{Direction: "inbound"}}}
	if err := rec.Record(ctx, mail); err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		ago  int
		text string
	}{{45, "Add to WTI before the OPEC meeting"}, {30, "Corn: buy the Dec/Mar spread"}, {10, "Reduce exposure before the holiday"}} {
		e := &store.Event{ClientID: clients[0].ID, Time: now.Add(-time.Duration(r.ago) * 24 * time.Hour), Kind: store.KindRecommendation,
			Source: store.SourceCommand, SourceID: "rec-" + string(rune('a'+i)), Actor: "UBROKER1", Summary: r.text}
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	type snapshot struct {
		trades    store.TradeStats
		contacts  store.ContactStats
		sentiment store.SentimentStats
		responds  store.Responsiveness
	}
	snap := func() []snapshot {
		var out []snapshot
		for _, c := range clients {
			tr, err1 := db.TradeStats(ctx, c.ID, now)
			co, err2 := db.ContactStats(ctx, c.ID, now)
			se, err3 := db.SentimentStats(ctx, c.ID, now)
			re, err4 := db.Responsiveness(ctx, c.ID)
			if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
				t.Fatal(err1, err2, err3, err4)
			}
			out = append(out, snapshot{tr, co, se, re})
		}
		return out
	}
	before := snap()
	// The WTI recommendation was followed by the fill five days later; the
	// corn one was not; the third names no commodity.
	if r := before[0].responds; r.Recommendations != 2 || r.Followed != 1 {
		t.Errorf("client 0's responsiveness as recorded: %+v", r)
	}
	if before[2].trades.Trades30d != 2 || before[2].trades.Notional30d != 2*72*1000 || before[1].contacts.LastInbound.IsZero() || before[1].sentiment.Count30d != 1 {
		t.Fatalf("statistics as recorded: %+v", before)
	}
	for _, c := range clients {
		if err := db.ReplaceClientStats(ctx, c.ID, store.ClientCounts{}); err != nil {
			t.Fatal(err)
		}
	}
	var done []string
	rb := &ingest.StatsRebuild{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: db.Timeline(), Teams: db, Stats: db,
		Progress: func(h string, _ store.ClientCounts) { done = append(done, h) }}
	for run := range 2 {
		done = nil
		n, err := rb.Run(ctx, "")
		if err != nil || n != 3 || len(done) != 3 {
			t.Fatalf("run %d: %d, %v (%v); want 3 clients", run+1, n, err, done)
		}
		if after := snap(); !equalSnapshots(before, after, func(a, b snapshot) bool {
			return a.trades.Trades365d == b.trades.Trades365d && a.trades.Notional365d == b.trades.Notional365d && a.trades.Volume30d == b.trades.Volume30d &&
				a.contacts == b.contacts && a.sentiment == b.sentiment && a.trades.LastFill.Equal(b.trades.LastFill) && a.responds == b.responds
		}) {
			t.Errorf("run %d: after rebuild %+v\nwant %+v", run+1, after, before)
		}
	}
	done = nil
	if n, err := rb.Run(ctx, clients[1].Handle); err != nil || n != 1 || len(done) != 1 || done[0] != clients[2].Handle {
		t.Errorf("resumed after %s: %d, %v, %v; want only %s", clients[1].Handle, n, err, done, clients[2].Handle)
	}
}

func equalSnapshots[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eq(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestRecommendationOf(t *testing.T) {
	client := uuid.New()
	for text, want := range map[string]string{
		"Buy WTI on the dip":                 "wti",
		"Roll the ZC hedge to March.":        "corn",
		"corn: sell the rally":               "corn",
		"Reduce exposure before the holiday": "",
	} {
		e := &store.Event{ID: uuid.New(), ClientID: client, Time: time.Now(), Kind: store.KindRecommendation, Summary: text}
		r, ok := ingest.RecommendationOf(e, store.DefaultCatalogue())
		if ok != (want != "") || r.Commodity != want {
			t.Errorf("%q: %q, %v; want %q", text, r.Commodity, ok, want)
		}
	}
	note := &store.Event{ID: uuid.New(), ClientID: client, Time: time.Now(), Kind: store.KindNote, Summary: "Buy WTI"}
	if _, ok := ingest.RecommendationOf(note, store.DefaultCatalogue()); ok {
		t.Error("a note counted as a recommendation")
	}
}
