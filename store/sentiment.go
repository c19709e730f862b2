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

// SentimentStore keeps every scored event of a client, so that its rolling
// sentiment is a function of what was said, whatever the order it arrived in.
type SentimentStore interface {
	// RecordScores adds scored events of one client, each once (by
	// EventID): recording one again changes nothing. EINVALID.
	RecordScores(ctx context.Context, clientID uuid.UUID, scores ...Score) error
	// Scores returns the client's scored events with since <= At < until,
	// in the order of At, then EventID.
	Scores(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]Score, error)
	// SentimentStats returns the client's statistics as of now.
	SentimentStats(ctx context.Context, clientID uuid.UUID, now time.Time) (SentimentStats, error)
}

// CheckScores validates scores for RecordScores.
func CheckScores(scores []Score) error {
	for _, s := range scores {
		if s.EventID == uuid.Nil || s.At.IsZero() || !(s.Score >= -1 && s.Score <= 1) {
			return Invalid("sentiment", "score %v of event %s is not a score in [-1, 1] at a time", s.Score, s.EventID)
		}
	}
	return nil
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
