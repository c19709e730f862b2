package store

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"
)

// Fill is one execution of a client's order, as counted in trading
// statistics. EventID is the timeline event's id, which makes recording it
// idempotent.
type Fill struct {
	EventID   uuid.UUID
	ClientID  uuid.UUID
	At        time.Time
	Commodity string // catalogue key, "" when the contract is not in the catalogue
	Contract  string
	Side      string
	Quantity  float64 // contracts filled by this execution
	Price     float64
}

// Validate rejects fills the statistics cannot count. EINVALID.
func (f Fill) Validate() error {
	switch {
	case f.EventID == uuid.Nil:
		return Invalid("event id", "a fill needs its event's id")
	case f.ClientID == uuid.Nil:
		return Invalid("client", "a fill needs a client")
	case f.At.IsZero():
		return Invalid("time", "a fill needs a time")
	case f.Side != "buy" && f.Side != "sell":
		return Invalid("side", "%q is not buy or sell", f.Side)
	case !(f.Quantity > 0) || math.IsInf(f.Quantity, 0):
		return Invalid("quantity", "%v is not a positive number of contracts", f.Quantity)
	case math.IsNaN(f.Price) || math.IsInf(f.Price, 0):
		return Invalid("price", "%v is not a price", f.Price)
	}
	return nil
}

// TradeStats summarise a client's actual trading.
type TradeStats struct {
	Trades30d, Trades90d, Trades365d int     // executions
	Volume30d, Volume90d, Volume365d float64 // contracts
	Commodities                      []string
	FirstFill, LastFill              time.Time
}

// TradeStore keeps per-client trading statistics.
type TradeStore interface {
	// RecordFill counts a fill once: recording the same EventID again
	// reports first=false and changes nothing.
	RecordFill(ctx context.Context, f Fill) (first bool, err error)
	// RecordFills is RecordFill for many fills in one round trip (imports
	// and webhook batches): first[i] says whether fills[i] was new.
	RecordFills(ctx context.Context, fills []Fill) (first []bool, err error)
	// TradeStats returns a client's statistics as of now.
	TradeStats(ctx context.Context, clientID uuid.UUID, now time.Time) (TradeStats, error)
	// ClientsTrading returns the clients with a fill in commodity (a
	// catalogue key) after since, each once.
	ClientsTrading(ctx context.Context, commodity string, since time.Time) ([]uuid.UUID, error)
}

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

// Checkpoint is how far a mailbox folder has been ingested.
type Checkpoint struct {
	Mailbox       string // account, e.g. broker1@mail.example.com
	Folder        string // e.g. INBOX
	UIDValidity   uint32
	LastUID       uint32
	HighestModSeq uint64
	UpdatedAt     time.Time
}

// Validate checks a checkpoint before it is saved. EINVALID.
func (cp Checkpoint) Validate() error {
	switch {
	case cp.Mailbox == "":
		return Invalid("mailbox", "a checkpoint needs a mailbox")
	case cp.Folder == "":
		return Invalid("folder", "a checkpoint needs a folder")
	case cp.HighestModSeq > math.MaxInt64:
		return Invalid("highest modseq", "%d is beyond 2^63-1", cp.HighestModSeq)
	}
	return nil
}

// CheckpointStore keeps IMAP checkpoints. A checkpoint is saved only after
// the events of every message up to LastUID are stored.
type CheckpointStore interface {
	// Checkpoint returns the saved checkpoint. ENOTFOUND if none.
	Checkpoint(ctx context.Context, mailbox, folder string) (Checkpoint, error)
	SaveCheckpoint(ctx context.Context, cp Checkpoint) error
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
