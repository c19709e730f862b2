package ingest_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// A milestone is one event per occurrence: recorded again, with the same
// words or others (a catch-up retried after a crash, late the second
// time), it stays as first recorded.
func TestMilestoneIsOneEventPerOccurrence(t *testing.T) {
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := &ingest.Recorder{Timeline: db.Timeline()}
	client := uuid.New()
	key := "milestone:anniversary:" + client.String() + ":2026-12-14"
	at := time.Date(2026, 12, 11, 14, 0, 0, 0, time.UTC)
	m := ingest.Milestone{Client: client, Kind: "anniversary", Key: key, At: at, Text: "Milestone: 5th anniversary", Extra: map[string]string{"date": "2026-12-14"}}
	if err := ingest.RecordMilestone(t.Context(), rec, m); err != nil {
		t.Fatal(err)
	}
	again := m
	again.At, again.Text, again.Extra = at.Add(time.Hour), "Milestone: Late: 5th anniversary", map[string]string{"late": "true"}
	for _, x := range []ingest.Milestone{m, again} {
		if err := ingest.RecordMilestone(t.Context(), rec, x); err != nil {
			t.Fatal(err)
		}
	}
	page, err := db.Timeline().Events(t.Context(), client, store.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("%d events; want 1", len(page.Events))
	}
	e := page.Events[0]
	if e.ID != store.EventID(store.SourceMilestone, key) || e.Kind != store.KindEvent || e.Attrs.Signal() != store.SignalMilestone ||
		e.Attrs.Extra["milestone"] != "anniversary" || e.Attrs.Extra["occurrence"] != key || e.Attrs.Extra["date"] != "2026-12-14" ||
		e.Summary != "Milestone: 5th anniversary" || e.Actor != ingest.MilestoneActor {
		t.Fatalf("event %+v", e)
	}
}
