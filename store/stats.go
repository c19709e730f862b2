package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// StatsReader reads a client's statistics as of now.
type StatsReader interface {
	TradeStats(ctx context.Context, clientID uuid.UUID, now time.Time) (TradeStats, error)
	ContactStats(ctx context.Context, clientID uuid.UUID, now time.Time) (ContactStats, error)
	SentimentStats(ctx context.Context, clientID uuid.UUID, now time.Time) (SentimentStats, error)
	// Responsiveness is as last counted (see ResponsivenessStore).
	Responsiveness(ctx context.Context, clientID uuid.UUID) (Responsiveness, error)
}

// Score is one scored event in a client's rolling sentiment.
type Score struct {
	EventID uuid.UUID
	At      time.Time
	Score   float64
}

// ClientCounts is everything the statistics count about one client, as
// recounted from its timeline.
type ClientCounts struct {
	Fills           []Fill
	Contacts        []Contact
	Scores          []Score
	Recommendations []Recommendation
}

// StatsRebuilder replaces what the statistics count about a client.
type StatsRebuilder interface {
	// ReplaceClientStats makes the client's fills, contacts and scores
	// exactly those given, in one transaction. EINVALID for a bad item or
	// one of another client, and then nothing changes.
	ReplaceClientStats(ctx context.Context, clientID uuid.UUID, counts ClientCounts) error
}

// Validate checks counts before they replace a client's.
func (cc ClientCounts) Validate(clientID uuid.UUID) error {
	for _, f := range cc.Fills {
		if err := f.Validate(); err != nil {
			return err
		}
		if f.ClientID != clientID {
			return Invalid("client", "fill %s is another client's", f.EventID)
		}
	}
	for _, c := range cc.Contacts {
		if err := c.Validate(); err != nil {
			return err
		}
		if c.ClientID != clientID {
			return Invalid("client", "contact %s is another client's", c.EventID)
		}
	}
	for _, r := range cc.Recommendations {
		if err := r.Validate(); err != nil {
			return err
		}
		if r.ClientID != clientID {
			return Invalid("client", "recommendation %s is another client's", r.EventID)
		}
	}
	return CheckScores(cc.Scores)
}
