package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// socketReplica is a second BrokerSync replica on e's stores with a Socket
// Mode connection of its own (its own fake Slack end, so that the test
// decides which replica an envelope reaches).
func (e *env) socketReplica(t *testing.T) (*bslack.Handler, *slacktest.FakeSlack, *countingTimeline) {
	t.Helper()
	fs := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fs.Handler())
	t.Cleanup(srv.Close)
	fs.BaseURL = srv.URL
	fs.AddUser(e.broker, "jane", "America/Chicago", false, false)
	api := bslack.NewAPI("xoxb-test", srv.URL+"/api/", slack.OptionAppLevelToken("xapp-1-test"))
	st := e.backing
	tl := &countingTimeline{TimelineStore: st.timeline}
	b, err := bot.New(bot.Config{
		Catalogue: store.DefaultCatalogue(),
		Clients:   st.clients, Timeline: tl, Teams: st.teams, Links: st.links, Reminders: st.reminders,
		Directory: bslack.NewDirectory(api, time.Minute, logger()),
		Recorder:  &ingest.Recorder{Timeline: tl, Scorer: bottest.Scorer},
		Logger:    logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := bslack.New(bslack.Config{Bot: b, API: api, SigningSecret: secret, Once: st.once, Logger: logger(), AckBudget: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(5 * time.Second) })
	return h, fs, tl
}

// countingTimeline counts the writes of one replica.
type countingTimeline struct {
	store.TimelineStore
	writes atomic.Int64
}

func (c *countingTimeline) AppendEvents(ctx context.Context, events ...*store.Event) error {
	c.writes.Add(1)
	return c.TimelineStore.AppendEvents(ctx, events...)
}

// Two replicas connected over Socket Mode: Slack may deliver an event to
// one connection and, when the acknowledgement is late or lost, again to
// the other. Each replica acknowledges, and the message is stored once.
func TestSocketModeTwoReplicasStoreAnEventOnce(t *testing.T) {
	e := newEnv(t, options{})
	ch := "CSOCK" + strings.ToUpper(e.sfx)
	e.slack.AddMembers(ch, e.broker)
	e.command(e.broker, "/client", "link "+e.acme+" <#"+ch+">", "", nil)
	h2, fs2, tl2 := e.socketReplica(t)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go e.handler.SocketMode().Run(ctx)
	go h2.SocketMode().Run(ctx)

	send := func(fs *slacktest.FakeSlack, env map[string]any) {
		t.Helper()
		b, _ := json.Marshal(env)
		select {
		case fs.Socket <- b:
		case <-time.After(10 * time.Second):
			t.Fatal("socket mode client never connected")
		}
		select {
		case a := <-fs.Acks:
			if !strings.Contains(string(a), fmt.Sprint(env["envelope_id"])) {
				t.Errorf("ack %s for envelope %v", a, env["envelope_id"])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no ack for %s", b)
		}
	}
	for i, text := range []string{"Thanks, great fill", "Can you roll the May corn?"} {
		payload := map[string]any{
			"type": "event_callback", "event_id": fmt.Sprintf("EvR%d-%s", i, e.sfx),
			"event": map[string]any{"type": "message", "channel": ch, "user": "UCLIENT", "text": text, "ts": fmt.Sprintf("1767225600.00050%d", i)},
		}
		// The first delivery reaches one replica, the redelivery the other;
		// the second event the other way round.
		first, second := e.slack, fs2
		if i == 1 {
			first, second = fs2, e.slack
		}
		send(first, map[string]any{"type": "events_api", "envelope_id": fmt.Sprintf("env-%d-a", i), "retry_attempt": 0, "payload": payload})
		send(second, map[string]any{"type": "events_api", "envelope_id": fmt.Sprintf("env-%d-b", i), "retry_attempt": 1, "retry_reason": "timeout", "payload": payload})
	}
	chats := e.events(store.KindChat)
	if len(chats) != 2 {
		t.Fatalf("%d chat events stored from two events each delivered to both replicas, want 2: %+v", len(chats), chats)
	}
	// The second replica applied the event delivered to it first, and
	// left alone the one the first replica had applied.
	if n := tl2.writes.Load(); n != 1 {
		t.Errorf("the second replica wrote to the timeline %d times, want 1 (the event it received first)", n)
	}
	for i := range 2 {
		if st, err := e.backing.once.Claim(t.Context(), fmt.Sprintf("slack:event:EvR%d-%s", i, e.sfx), 0); err != nil || st != store.OnceDone {
			t.Errorf("event %d's key: %v, %v; want done", i, st, err)
		}
	}
}
