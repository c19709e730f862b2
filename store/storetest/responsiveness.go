package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Responsiveness: recommendations followed by a fill in their commodity
// within five business days, the median time to reply to the desk's emails
// and chats, kept as they are recorded, recounted by a rebuild and when a
// window ends, and the responsive and reply.median terms over them.
func testSegmentResponsiveness(t *testing.T, s SegmentStore) {
	ctx := t.Context()
	sfx := randSuffix()
	desk := "resp-" + sfx
	ids := map[string]uuid.UUID{}
	for _, name := range []string{"keen", "slow", "quiet"} {
		c := &store.Client{Handle: name + "-" + sfx, Name: name, Kind: store.Entity, Team: desk, Broker: "UB", Stage: store.Active}
		if err := s.CreateClient(ctx, c, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	// Monday 5 October 2026, 10:00 UTC: a recommendation then may be
	// followed until Monday 12 October, 10:00.
	mon := time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	rec := func(who, commodity string, at time.Time) store.Recommendation {
		return store.Recommendation{EventID: uuid.New(), ClientID: ids[who], At: at, Commodity: commodity}
	}
	fill := func(who, commodity string, at time.Time) {
		t.Helper()
		if _, err := s.RecordFill(ctx, store.Fill{EventID: uuid.New(), ClientID: ids[who], At: at, Commodity: commodity, Contract: "X", Side: "buy", Quantity: 1, Price: 1}); err != nil {
			t.Fatal(err)
		}
	}
	contact := func(who string, at time.Time, kind store.Kind, dir string) {
		t.Helper()
		if _, err := s.RecordContacts(ctx, store.Contact{EventID: uuid.New(), ClientID: ids[who], At: at, Kind: kind, Direction: dir}); err != nil {
			t.Fatal(err)
		}
	}
	keenRecs := []store.Recommendation{rec("keen", "corn", mon), rec("keen", "wti", mon.Add(7*day)), rec("keen", "gold", mon.Add(14*day))}
	if n, err := s.RecordRecommendations(ctx, keenRecs...); err != nil || n != 3 {
		t.Fatalf("record: %d, %v", n, err)
	}
	// Recorded again: nothing new.
	if n, err := s.RecordRecommendations(ctx, keenRecs...); err != nil || n != 0 {
		t.Fatalf("record again: %d, %v", n, err)
	}
	fill("keen", "corn", mon.Add(4*day))  // Friday: followed
	fill("keen", "wti", mon.Add(9*day))   // Wednesday after: followed
	fill("keen", "corn", mon.Add(15*day)) // gold was recommended: not followed
	fill("slow", "corn", mon.Add(8*day))  // Tuesday after the Monday: too late
	if _, err := s.RecordRecommendations(ctx, rec("slow", "corn", mon), rec("slow", "corn", mon.Add(14*day))); err != nil {
		t.Fatal(err)
	}
	fill("slow", "wti", mon.Add(15*day)) // another commodity

	// Replies: 2 h, then 6 h from the first of two unanswered messages,
	// then 24 h; a call does not count.
	contact("keen", mon.Add(-time.Hour), store.KindEmail, store.Outbound)
	contact("keen", mon.Add(time.Hour), store.KindEmail, store.Inbound)
	contact("keen", mon.Add(day-time.Hour), store.KindChat, store.Outbound)
	contact("keen", mon.Add(day), store.KindEmail, store.Outbound)
	contact("keen", mon.Add(day+5*time.Hour), store.KindChat, store.Inbound)
	contact("keen", mon.Add(2*day), store.KindEmail, store.Outbound)
	contact("keen", mon.Add(2*day+time.Hour), store.KindCall, store.Inbound)
	contact("keen", mon.Add(3*day), store.KindEmail, store.Inbound)
	contact("slow", mon, store.KindEmail, store.Outbound)
	contact("slow", mon.Add(4*day), store.KindEmail, store.Inbound)
	contact("quiet", mon, store.KindEmail, store.Outbound)

	check := func(who string, recs, followed, replies int, median time.Duration) {
		t.Helper()
		r, err := s.Responsiveness(ctx, ids[who])
		if err != nil {
			t.Fatal(err)
		}
		if r.Recommendations != recs || r.Followed != followed || r.Replies != replies || r.ReplyMedian != median {
			t.Errorf("%s: %d of %d followed, %d replies in %v; want %d of %d, %d in %v",
				who, r.Followed, r.Recommendations, r.Replies, r.ReplyMedian, followed, recs, replies, median)
		}
	}
	check("keen", 3, 2, 3, 6*time.Hour)
	check("slow", 2, 0, 1, 4*day)
	check("quiet", 0, 0, 0, 0)

	bk := &book{s: s, sfx: sfx}
	now := time.Now()
	bk.expect(t, "desk:"+desk+" responsive<0.3", nil, now, "slow")
	bk.expect(t, "desk:"+desk+" responsive>=0.6", nil, now, "keen")
	bk.expect(t, "desk:"+desk+" -responsive<0.3", nil, now, "keen", "quiet")
	bk.expect(t, "desk:"+desk+" reply.median>1d", nil, now, "slow")
	bk.expect(t, "desk:"+desk+" reply.median<12h", nil, now, "keen")
	bk.expect(t, "desk:"+desk+" (reply.median>1h OR responsive>0.5)", nil, now, "keen", "slow")

	// A recommendation whose window is open is not counted until a fill
	// follows it or its window ends.
	open := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	if _, err := s.RecordRecommendations(ctx, rec("quiet", "corn", open)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Responsiveness(ctx, ids["quiet"]); err != nil || r.Pending != 1 || r.Recommendations != 0 || !r.PendingUntil.Equal(store.FollowDeadline(open)) {
		t.Errorf("quiet with an open recommendation: %+v, %v", r, err)
	}
	bk.expect(t, "desk:"+desk+" responsive<0.3", nil, now, "slow")
	if _, err := s.RefreshResponsiveness(ctx, open.Add(8*day)); err != nil {
		t.Fatal(err)
	}
	check("quiet", 1, 0, 0, 0)
	bk.expect(t, "desk:"+desk+" responsive<0.3", nil, now, "quiet", "slow")

	// A rebuild makes the counts exactly what the timeline says.
	if err := s.ReplaceClientStats(ctx, ids["keen"], store.ClientCounts{
		Recommendations: keenRecs[:1],
		Fills:           []store.Fill{{EventID: uuid.New(), ClientID: ids["keen"], At: mon.Add(4 * day), Commodity: "corn", Contract: "X", Side: "buy", Quantity: 1, Price: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	check("keen", 1, 1, 0, 0)
}
