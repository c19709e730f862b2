package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

func TestEmbedded(t *testing.T) {
	st, _ := embeddedStores(t)
	runSuite(t, st)
}

// When the timeline is down, a command that exists to log fails and says so;
// a profile change is kept (the audit trail has it) and the answer says the
// timeline missed it.
func TestTimelineDown(t *testing.T) {
	st, tl := embeddedStores(t)
	h := newHarness(t, st)
	tl.FailWrites(store.Unavailable("timeline", errors.New("connection refused")))
	r := h.do(h.broker, "/note", h.acme+" hello")
	if r.Status != bot.Failed || !strings.Contains(r.Text, "not answering") || strings.Contains(r.Text, "refused") {
		t.Errorf("note with the timeline down: %v %q", r.Status, r.Text)
	}
	r = h.do(h.broker, "/client", "set "+h.acme+" risk=8")
	if r.Status != bot.OK || !strings.Contains(r.Text, "timeline could not be updated") || h.client(h.acme).Risk.Tolerance != 8 {
		t.Errorf("set with the timeline down: %v %q", r.Status, r.Text)
	}
	if err := h.bot.ChannelMessage(h.ctx, bot.Message{Channel: h.channel, TS: "1.2", Text: "x"}); err != nil {
		t.Errorf("unlinked channel: %v", err)
	}
	h.ok(h.broker, "/client", "link "+h.acme+" here")
	if err := h.bot.ChannelMessage(h.ctx, bot.Message{Channel: h.channel, TS: "1.2", Text: "x"}); !store.IsRetryable(err) {
		t.Errorf("a message that could not be stored must fail retryably: %v", err)
	}
}

func TestInternalErrorsAreNotShown(t *testing.T) {
	st, tl := embeddedStores(t)
	h := newHarness(t, st)
	tl.FailWrites(errors.New("pq: secret table xyz exploded"))
	r := h.do(h.broker, "/note", h.acme+" hello")
	if r.Status != bot.Failed || strings.Contains(r.Text, "xyz") || !strings.Contains(r.Text, "reference") {
		t.Errorf("internal error shown: %q", r.Text)
	}
}

// Every event the bot makes goes through the Recorder: its subscribers
// hear of each, and, the Recorder having no scorer here, none is scored by
// the bot itself.
func TestEventsGoThroughRecorder(t *testing.T) {
	st, _ := embeddedStores(t)
	h := newHarness(t, st)
	var (
		mu     sync.Mutex
		events []*store.Event
	)
	rec := &ingest.Recorder{Timeline: st.Timeline, Subscribers: []ingest.Subscriber{ingest.SubscriberFunc(func(_ context.Context, evs []*store.Event) error {
		mu.Lock()
		events = append(events, evs...)
		mu.Unlock()
		return nil
	})}}
	b, err := bot.New(bot.Config{Catalogue: store.DefaultCatalogue(), Clients: st.Clients, Timeline: st.Timeline, Teams: st.Teams, Links: st.Links, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"/log " + h.acme + " call happy client", "/note " + h.acme + " x", "/feedback " + h.acme + " 5 great", "/client set " + h.acme + " risk=6"} {
		name, text, _ := strings.Cut(line, " ")
		if r := b.Handle(h.ctx, bot.Request{User: h.broker, Command: name, Text: text}); r.Status != bot.OK {
			t.Fatalf("%s: %s", line, r.Text)
		}
	}
	kinds := []store.Kind{}
	for _, e := range events {
		kinds = append(kinds, e.Kind)
		if e.Sentiment != nil {
			t.Errorf("%s event scored by a bot without a scorer", e.Kind)
		}
	}
	if want := []store.Kind{store.KindCall, store.KindNote, store.KindFeedback, store.KindEvent}; !slices.Equal(kinds, want) {
		t.Errorf("recorded %v, want %v", kinds, want)
	}
	if _, err := bot.New(bot.Config{Catalogue: store.DefaultCatalogue(), Clients: st.Clients, Timeline: st.Timeline, Teams: st.Teams, Links: st.Links}); err == nil {
		t.Error("a bot without a Recorder was made: its events would skip sentiment and the rules")
	}
}
