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
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
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

// Subscribers hear of every stored event, the drop marks after the messages
// that caused them, again when an input is delivered again (so that a crash
// between the store and them loses nothing), and never of what was refused.
// A subscriber that fails fails the recording, so the sender delivers again.
func TestRecorderTellsSubscribers(t *testing.T) {
	ctx := context.Background()
	db, rec := newRecorder(t)
	var heard []string
	failing := false
	rec.Subscribers = []ingest.Subscriber{ingest.SubscriberFunc(func(_ context.Context, evs []*store.Event) error {
		if failing {
			return store.Unavailable("reminders", context.DeadlineExceeded)
		}
		for _, e := range evs {
			heard = append(heard, string(e.Kind)+":"+string(e.Attrs.Signal()))
		}
		return nil
	})}
	client := uuid.New()
	now := time.Now().UTC()
	day := 24 * time.Hour
	mail := func(id string, ago time.Duration, text string) *store.Event {
		return &store.Event{ClientID: client, Time: now.Add(-ago), Kind: store.KindEmail, Source: store.SourceEmail, SourceID: id, Summary: "re", Body: text}
	}
	for _, e := range []*store.Event{
		mail("a", 50*day, "Thanks, great fill on the crude this morning."),
		mail("b", 45*day, "Excellent work on the soybean hedge, really pleased."),
		mail("c", 40*day, "Thank you, perfect execution on the gold order."),
		mail("d", 9*day, "I'm not happy with the slippage on yesterday's gold stop. Call me."),
		mail("e", 5*day, "This is unacceptable, my order was never filled and nobody called."),
	} {
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	heard = nil
	last := mail("f", day, "Very disappointed, considering closing the account.")
	if err := rec.Record(ctx, last); err != nil {
		t.Fatal(err)
	}
	if want := []string{"email:", "event:sentiment_drop"}; strings.Join(heard, " ") != strings.Join(want, " ") {
		t.Errorf("heard %v, want %v", heard, want)
	}
	heard = nil
	again := *last
	if err := rec.Record(ctx, &again); err != nil || len(heard) != 1 {
		t.Errorf("a repeat: %v, heard %v; want the event again", err, heard)
	}
	heard = nil
	other := *last
	other.Body, other.Fingerprint = "Something else entirely.", ""
	if err := rec.Record(ctx, &other); store.ErrorCode(err) != store.ECONFLICT || len(heard) != 0 {
		t.Errorf("a refused event: %v, heard %v; want a conflict and nothing heard", err, heard)
	}
	failing = true
	note := &store.Event{ClientID: client, Time: now, Kind: store.KindNote, Source: store.SourceCommand, SourceID: "n1", Summary: "call back"}
	if err := rec.Record(ctx, note); store.ErrorCode(err) != store.EUNAVAILABLE {
		t.Errorf("a failing subscriber: %v, want the recording to fail", err)
	}
	if _, err := db.Timeline().Event(ctx, client, note.ID); err != nil {
		t.Errorf("the note is not stored: %v", err)
	}
}
