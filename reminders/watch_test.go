package reminders_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

type watchBackend interface {
	store.ClientStore
	segment.Store
	segment.MembershipStore
}

// Watched segments post one message per segment per minute at most,
// listing every entry and exit since the last one (none from before the
// watch); a message whose answer Slack lost is found in the channel, not
// posted again.
func TestSegmentWatchBatches(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t).(watchBackend)
			ctx := t.Context()
			fake := slacktest.NewFakeSlack()
			srv := httptest.NewServer(fake.Handler())
			defer srv.Close()
			fake.BaseURL = srv.URL
			base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
			now := base
			var mu sync.Mutex
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			w := &reminders.SegmentWatches{Store: db, Clients: db,
				Slack: reminders.NewSlackAPI(reminders.NewSlackClient("xoxb-test", srv.URL+"/api/")), Now: clock}

			ids := map[string]uuid.UUID{}
			for _, n := range []string{"ash", "birch", "cedar", "dogwood", "elm"} {
				c := &store.Client{Handle: n, Name: strings.ToUpper(n[:1]) + n[1:], Kind: store.Entity, Team: "energy", Stage: store.Active}
				if err := db.CreateClient(ctx, c, "UADMIN"); err != nil {
					t.Fatal(err)
				}
				ids[n] = c.ID
			}
			for _, s := range []string{"at-risk", "vips"} {
				if _, err := db.SaveSegment(ctx, segment.Saved{Name: s, Filter: "tag:" + s, UpdatedBy: "UADMIN", UpdatedAt: base}); err != nil {
					t.Fatal(err)
				}
			}
			change := func(seg string, entered, left []string) {
				t.Helper()
				var in, out []uuid.UUID
				for _, n := range entered {
					in = append(in, ids[n])
				}
				for _, n := range left {
					out = append(out, ids[n])
				}
				if _, err := db.ChangeMembership(ctx, seg, clock(), in, out); err != nil {
					t.Fatal(err)
				}
			}
			tick := func(want int) {
				t.Helper()
				n, err := w.Tick(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Errorf("tick posted %d messages, want %d", n, want)
				}
			}

			change("at-risk", []string{"ash"}, nil) // before the watch: never posted
			for _, s := range []string{"at-risk", "vips"} {
				if err := db.WatchSegment(ctx, segment.Watch{Segment: s, Channel: "C" + strings.ToUpper(s[:1]), WatchedBy: "UADMIN", At: base}); err != nil {
					t.Fatal(err)
				}
			}
			tick(0)
			change("at-risk", []string{"birch", "cedar"}, []string{"ash"})
			change("at-risk", []string{"dogwood"}, nil)
			change("vips", []string{"elm"}, nil)
			tick(2)
			tick(0)
			posted := fake.Posted()
			if len(posted) != 2 {
				t.Fatalf("%d messages, want one per segment: %+v", len(posted), posted)
			}
			byChannel := map[string]slacktest.Posted{}
			for _, p := range posted {
				byChannel[p.Channel] = p
			}
			ar := byChannel["CA"]
			if ar.Text != "Segment at-risk: 3 entered, 1 left" {
				t.Errorf("at-risk's message: %q", ar.Text)
			}
			for _, want := range []string{"Birch (`birch`)", "Cedar (`cedar`)", "Dogwood (`dogwood`)", "*Left*\\n• Ash (`ash`)"} {
				if !strings.Contains(ar.Blocks, want) {
					t.Errorf("at-risk's message does not list %s: %s", want, ar.Blocks)
				}
			}
			if v := byChannel["CV"]; v.Text != "Segment vips: 1 entered" || strings.Contains(v.Blocks, "Birch") {
				t.Errorf("vips' message: %q %s", v.Text, v.Blocks)
			}

			// Within the minute after a message, changes wait for the next.
			change("vips", nil, []string{"elm"})
			tick(0)
			if n := len(fake.Posted()); n != 2 {
				t.Errorf("%d messages within a minute of the last, want still 2", n)
			}
			// Slack takes the message but the answer is lost: the retry
			// finds it in the channel.
			advance(time.Minute)
			fake.LoseAnswers("chat.postMessage", 1)
			tick(0)
			advance(time.Minute)
			tick(1)
			tick(0)
			posted = fake.Posted()
			if len(posted) != 3 || posted[2].Text != "Segment vips: 1 left" {
				t.Errorf("after a lost answer: %d messages, last %q; want 3, the last once", len(posted), posted[len(posted)-1].Text)
			}

			// Unwatched: changes are no longer posted.
			if err := db.UnwatchSegment(ctx, "vips"); err != nil {
				t.Fatal(err)
			}
			change("vips", []string{"elm"}, nil)
			advance(time.Hour)
			tick(0)
		})
	}
}
