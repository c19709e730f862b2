package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// SentimentStats is a client's rolling sentiment.
type SentimentStats struct {
	Mean30d  float64 // mean score of the last 30 days
	Count30d int
	Prior30d float64 // mean score of the 30 days before that
	Trend    float64 // Mean30d - Prior30d; negative means turning sour
}

// SentimentStore keeps per-client rolling sentiment.
type SentimentStore interface {
	// RecordSentiment adds a scored event once (by eventID) and returns the
	// client's statistics as of at.
	RecordSentiment(ctx context.Context, clientID, eventID uuid.UUID, at time.Time, score float64) (SentimentStats, bool, error)
	SentimentStats(ctx context.Context, clientID uuid.UUID, now time.Time) (SentimentStats, error)
}

// WithTrend sets Trend from the two means; with no scored event in either
// window there is no trend to speak of.
func (s SentimentStats) WithTrend(priorCount int) SentimentStats {
	s.Trend = 0
	if s.Count30d > 0 && priorCount > 0 {
		s.Trend = s.Mean30d - s.Prior30d
	}
	return s
}
