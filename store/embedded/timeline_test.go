package embedded_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

// The contract subtests share one database, as clients share one in
// production; they isolate themselves by random client ids.
func TestTimelineContract(t *testing.T) {
	db := open(t)
	tl := db.Timeline()
	storetest.RunTimelineTests(t, func(t *testing.T) store.TimelineStore { return tl })
}

// Events written before a restart are read back after it.
func TestTimelineSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	db, err := embedded.Open(ctx, dir, store.DefaultCatalogue(), logger)
	if err != nil {
		t.Fatal(err)
	}
	e := &store.Event{ClientID: uuid.New(), Time: time.Date(2025, 4, 1, 9, 30, 0, 0, time.UTC), Kind: store.KindCall,
		Source: "calls", SourceID: "call-1", Summary: "call about Dec corn", Attrs: store.Attrs{Call: &store.CallAttrs{Direction: "inbound", Duration: time.Minute}}}
	if err := db.Timeline().AppendEvents(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = embedded.Open(ctx, dir, store.DefaultCatalogue(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Timeline().Event(ctx, e.ClientID, store.EventID("calls", "call-1"))
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if got.Summary != e.Summary || got.Attrs.Call == nil || got.Attrs.Call.Duration != time.Minute {
		t.Errorf("after reopening got %+v", got)
	}
}
