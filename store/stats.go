package store

import (
	"context"
	"math"
	"slices"
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

// Value is the fill's notional, quantity × price × contract size, in the
// contract's currency, from the catalogue installed now. A fill whose
// commodity is not in the catalogue has no value ("").
func (f Fill) Value() (notional float64, currency string) {
	c, ok := CommodityByKey(f.Commodity)
	if !ok || f.Commodity == "" {
		return 0, ""
	}
	return c.Notional(f.Quantity, f.Price), c.Currency
}

// NotionalCurrency is the currency notional statistics are summed in:
// fills of contracts quoted in other currencies are counted as trades and
// contracts but add nothing to notional.
const NotionalCurrency = "USD"

// TradeStats summarise a client's actual trading.
type TradeStats struct {
	Trades30d, Trades90d, Trades365d       int     // executions
	Volume30d, Volume90d, Volume365d       float64 // contracts
	Notional30d, Notional90d, Notional365d float64 // in NotionalCurrency
	Commodities                            []string
	FirstFill, LastFill                    time.Time
}

// AssetClasses are the classes of the commodities traded, sorted.
func (st TradeStats) AssetClasses() []AssetClass { return ClassesOf(st.Commodities) }

// ClassesOf returns the asset classes of catalogue keys, sorted, each once;
// keys not in the catalogue are passed over.
func ClassesOf(keys []string) []AssetClass {
	seen := map[AssetClass]bool{}
	var out []AssetClass
	for _, k := range keys {
		if c, ok := CommodityByKey(k); ok && !seen[c.Class] {
			seen[c.Class] = true
			out = append(out, c.Class)
		}
	}
	slices.Sort(out)
	return out
}

// Contact is one real contact with a client: an email, chat, call,
// meeting or feedback event. Direction is "inbound" (the client reached
// the desk), "outbound" (the desk reached the client) or "both" (a
// conversation logged without a direction, such as a meeting).
type Contact struct {
	EventID   uuid.UUID
	ClientID  uuid.UUID
	At        time.Time
	Kind      Kind
	Direction string
}

// Contact directions.
const (
	Inbound  = "inbound"
	Outbound = "outbound"
	Both     = "both"
)

// Validate rejects contacts the statistics cannot count. EINVALID.
func (c Contact) Validate() error {
	switch {
	case c.EventID == uuid.Nil:
		return Invalid("event id", "a contact needs its event's id")
	case c.ClientID == uuid.Nil:
		return Invalid("client", "a contact needs a client")
	case c.At.IsZero():
		return Invalid("time", "a contact needs a time")
	case !ContactKinds[c.Kind]:
		return Invalid("kind", "%q is not a real contact (email, chat, call, meeting, feedback)", c.Kind)
	}
	return oneOf("direction", c.Direction, Inbound, Outbound, Both)
}

// ContactKinds are the kinds of event that are real contact with a client.
// Notes, profile changes, orders, recommendations and reminders are not.
var ContactKinds = map[Kind]bool{KindEmail: true, KindChat: true, KindCall: true, KindMeeting: true, KindFeedback: true}

// ContactOf says whether e is a real contact and in which direction.
// isDesk tells whether an actor is on a desk (a Slack message written by a
// broker is outbound, by anyone else inbound); nil counts such messages as
// inbound. A deleted chat message is no contact.
func ContactOf(e *Event, isDesk func(actor string) bool) (Contact, bool) {
	if !ContactKinds[e.Kind] {
		return Contact{}, false
	}
	c := Contact{EventID: e.ID, ClientID: e.ClientID, At: e.Time, Kind: e.Kind, Direction: Both}
	switch e.Kind {
	case KindEmail:
		if e.Attrs.Email != nil && (e.Attrs.Email.Direction == Inbound || e.Attrs.Email.Direction == Outbound) {
			c.Direction = e.Attrs.Email.Direction
		}
	case KindCall:
		if e.Attrs.Call != nil && (e.Attrs.Call.Direction == Inbound || e.Attrs.Call.Direction == Outbound) {
			c.Direction = e.Attrs.Call.Direction
		}
	case KindFeedback:
		c.Direction = Inbound
	case KindChat:
		if e.Attrs.Chat != nil && e.Attrs.Chat.Deleted {
			return Contact{}, false
		}
		if e.Source == "slack" {
			c.Direction = Inbound
			if isDesk != nil && isDesk(e.Actor) {
				c.Direction = Outbound
			}
		}
	}
	return c, true
}

// ContactStats are a client's last real contacts. A "both" contact counts
// in each direction. Zero times mean none.
type ContactStats struct {
	LastInbound, LastOutbound time.Time
	InboundKind, OutboundKind Kind
}

// Last is the latest contact in either direction.
func (c ContactStats) Last() time.Time {
	if c.LastInbound.After(c.LastOutbound) {
		return c.LastInbound
	}
	return c.LastOutbound
}

// ContactStore keeps each client's real contacts.
type ContactStore interface {
	// RecordContacts counts contacts once each by EventID; it reports how
	// many were new. EINVALID for a bad contact, and then nothing is stored.
	RecordContacts(ctx context.Context, cs ...Contact) (int, error)
	// ContactStats returns the last contacts at or before now.
	ContactStats(ctx context.Context, clientID uuid.UUID, now time.Time) (ContactStats, error)
}

// StatsReader reads a client's statistics as of now.
type StatsReader interface {
	TradeStats(ctx context.Context, clientID uuid.UUID, now time.Time) (TradeStats, error)
	ContactStats(ctx context.Context, clientID uuid.UUID, now time.Time) (ContactStats, error)
	SentimentStats(ctx context.Context, clientID uuid.UUID, now time.Time) (SentimentStats, error)
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
	Fills    []Fill
	Contacts []Contact
	Scores   []Score
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
	for _, s := range cc.Scores {
		if s.EventID == uuid.Nil || s.At.IsZero() || !(s.Score >= -1 && s.Score <= 1) {
			return Invalid("sentiment", "score %v of event %s is not a score in [-1, 1] at a time", s.Score, s.EventID)
		}
	}
	return nil
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
