package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunSentimentStoreTests checks a SentimentStore: rolling 30-day means, the
// trend against the 30 days before, and that an event counts once.
func RunSentimentStoreTests(t *testing.T, newStore func(t *testing.T) store.SentimentStore) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour

	t.Run("NoEvents", func(t *testing.T) {
		s := newStore(t)
		st, err := s.SentimentStats(ctx, uuid.New(), now)
		if err != nil {
			t.Fatal(err)
		}
		if st != (store.SentimentStats{}) {
			t.Errorf("stats of a client with no events = %+v, want zero", st)
		}
	})

	t.Run("RollingMeanAndTrend", func(t *testing.T) {
		s := newStore(t)
		client := uuid.New()
		// Happy 40-50 days ago, unhappy in the last two weeks.
		for i, ev := range []struct {
			ago   time.Duration
			score float64
		}{{50 * day, 0.8}, {45 * day, 0.6}, {40 * day, 0.7}, {14 * day, -0.4}, {7 * day, -0.6}, {1 * day, -0.5}, {61 * day, -1}} {
			_, first, err := s.RecordSentiment(ctx, client, uuid.New(), now.Add(-ev.ago), ev.score)
			if err != nil || !first {
				t.Fatalf("record %d: first=%v err=%v", i, first, err)
			}
		}
		st, err := s.SentimentStats(ctx, client, now)
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "Mean30d", st.Mean30d, -0.5)
		approx(t, "Prior30d", st.Prior30d, 0.7)
		approx(t, "Trend", st.Trend, -1.2)
		if st.Count30d != 3 {
			t.Errorf("Count30d = %d, want 3", st.Count30d)
		}
	})

	t.Run("EventCountsOnce", func(t *testing.T) {
		s := newStore(t)
		client, event := uuid.New(), uuid.New()
		for i := range 3 {
			st, first, err := s.RecordSentiment(ctx, client, event, now, -0.9)
			if err != nil {
				t.Fatal(err)
			}
			if first != (i == 0) {
				t.Errorf("record #%d: first = %v", i+1, first)
			}
			if st.Count30d != 1 {
				t.Errorf("record #%d: Count30d = %d, want 1", i+1, st.Count30d)
			}
		}
	})

	t.Run("ClientsAreSeparate", func(t *testing.T) {
		s := newStore(t)
		a, b := uuid.New(), uuid.New()
		if _, _, err := s.RecordSentiment(ctx, a, uuid.New(), now, 1); err != nil {
			t.Fatal(err)
		}
		st, err := s.SentimentStats(ctx, b, now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Count30d != 0 {
			t.Errorf("client b sees client a's events: %+v", st)
		}
	})
}

func approx(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}
