package ingest_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// A client who was happy and turns unhappy gets one "sentiment dropped"
// entry on the timeline, and recording the same messages again changes
// nothing.
func TestRecorderMarksSentimentDrop(t *testing.T) {
	ctx := context.Background()
	db, rec := newRecorder(t)
	client := uuid.New()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	msg := func(id string, ago time.Duration, text string) *store.Event {
		return &store.Event{ClientID: client, Time: now.Add(-ago), Kind: store.KindEmail, Source: "imap", SourceID: id, Summary: "re: fills", Body: text}
	}
	day := 24 * time.Hour
	history := []*store.Event{
		msg("a", 50*day, "Thanks, great fill on the crude this morning."),
		msg("b", 45*day, "Excellent work on the soybean hedge, really pleased."),
		msg("c", 40*day, "Thank you, perfect execution on the gold order."),
		msg("d", 9*day, "I'm not happy with the slippage on yesterday's gold stop. Call me."),
		msg("e", 5*day, "This is unacceptable, my order was never filled and nobody called."),
		msg("f", 1*day, "Haven't heard from you in weeks. I am very disappointed and considering closing the account."),
	}
	for round := range 2 {
		for _, e := range history {
			ev := *e
			if err := rec.Record(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Sentiment == nil {
				t.Fatalf("email %s was not scored", e.SourceID)
			}
		}
		page, err := db.Timeline().Events(ctx, client, store.EventQuery{Kinds: []store.Kind{store.KindEvent}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 || !strings.HasPrefix(page.Events[0].Summary, "sentiment dropped") {
			t.Fatalf("round %d: drop events %v, want one", round+1, page.Events)
		}
	}
	st, err := db.SentimentStats(ctx, client, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Count30d != 3 || st.Mean30d >= 0 || st.Trend > -0.4 {
		t.Errorf("stats %+v: want three negative messages in 30 days, falling", st)
	}
}

// Internal notes are not the client's words: they are stored unscored.
func TestRecorderDoesNotScoreNotes(t *testing.T) {
	ctx := context.Background()
	db, rec := newRecorder(t)
	e := &store.Event{ClientID: uuid.New(), Time: time.Now(), Kind: store.KindNote, Source: "command", SourceID: "n1", Summary: "Terrible week for them, be gentle"}
	if err := rec.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.Sentiment != nil {
		t.Errorf("a note was scored: %+v", e.Sentiment)
	}
	if _, err := db.Timeline().Event(ctx, e.ClientID, e.ID); err != nil {
		t.Errorf("the note was not stored: %v", err)
	}
	if st, err := db.SentimentStats(ctx, e.ClientID, time.Now()); err != nil || st.Count30d != 0 {
		t.Errorf("a note counts in the client's sentiment: %+v %v", st, err)
	}
}

func newRecorder(t *testing.T) (*embedded.DB, *ingest.Recorder) {
	t.Helper()
	db, err := embedded.Open(t.Context(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	model, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	return db, &ingest.Recorder{Timeline: db.Timeline(), Scorer: model, Sentiment: db}
}
