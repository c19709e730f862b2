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
			if err := s.RecordScores(ctx, client, store.Score{EventID: uuid.New(), At: now.Add(-ev.ago), Score: ev.score}); err != nil {
				t.Fatalf("record %d: %v", i, err)
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
			// Again alone, and again within a batch.
			if err := s.RecordScores(ctx, client, store.Score{EventID: event, At: now, Score: -0.9}, store.Score{EventID: event, At: now, Score: -0.9}); err != nil {
				t.Fatal(err)
			}
			st, err := s.SentimentStats(ctx, client, now)
			if err != nil {
				t.Fatal(err)
			}
			if st.Count30d != 1 {
				t.Errorf("record #%d: Count30d = %d, want 1", i+1, st.Count30d)
			}
		}
	})

	t.Run("Scores", func(t *testing.T) { runScoresTests(t, newStore) })

	t.Run("ClientsAreSeparate", func(t *testing.T) {
		s := newStore(t)
		a, b := uuid.New(), uuid.New()
		if err := s.RecordScores(ctx, a, store.Score{EventID: uuid.New(), At: now, Score: 1}); err != nil {
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

// Scores come back in time order, then by event id, within [since, until);
// a bad score is refused with the batch it came in.
func runScoresTests(t *testing.T, newStore func(t *testing.T) store.SentimentStore) {
	ctx := context.Background()
	s := newStore(t)
	client := uuid.New()
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	a := uuid.MustParse("00000000-0000-4000-8000-00000000000a")
	b := uuid.MustParse("ffffffff-0000-4000-8000-00000000000b")
	c := uuid.MustParse("10000000-0000-4000-8000-00000000000c")
	if err := s.RecordScores(ctx, client,
		store.Score{EventID: b, At: at, Score: -0.5},
		store.Score{EventID: c, At: at.Add(-time.Hour), Score: 0.25},
		store.Score{EventID: a, At: at, Score: 0.5},
		store.Score{EventID: uuid.New(), At: at.Add(time.Hour), Score: 1},
	); err != nil {
		t.Fatal(err)
	}
	got, err := s.Scores(ctx, client, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Score{{EventID: c, At: at.Add(-time.Hour), Score: 0.25}, {EventID: a, At: at, Score: 0.5}, {EventID: b, At: at, Score: -0.5}}
	if len(got) != len(want) {
		t.Fatalf("scores %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].EventID != want[i].EventID || !got[i].At.Equal(want[i].At) || math.Abs(got[i].Score-want[i].Score) > 1e-6 {
			t.Errorf("score %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	err = s.RecordScores(ctx, client, store.Score{EventID: uuid.New(), At: at, Score: 0.1}, store.Score{EventID: uuid.New(), At: at, Score: 3})
	if store.ErrorCode(err) != store.EINVALID {
		t.Errorf("a score of 3: %v, want EINVALID", err)
	}
	if got, _ := s.Scores(ctx, client, at, at.Add(time.Second)); len(got) != 2 {
		t.Errorf("after a refused batch the client has %d scores at that time, want the 2 before", len(got))
	}
}

func approx(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}
