package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind is the kind of a timeline event.
type Kind string

// Event kinds.
const (
	KindEmail          Kind = "email"
	KindChat           Kind = "chat"
	KindCall           Kind = "call"
	KindMeeting        Kind = "meeting"
	KindOrder          Kind = "order"
	KindEvent          Kind = "event"
	KindNote           Kind = "note"
	KindFeedback       Kind = "feedback"
	KindRecommendation Kind = "recommendation"
	KindReminder       Kind = "reminder"
)

// Kinds lists every event kind.
var Kinds = []Kind{KindEmail, KindChat, KindCall, KindMeeting, KindOrder, KindEvent, KindNote, KindFeedback, KindRecommendation, KindReminder}

// ParseKind checks a kind name.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if err := oneOf("kind", k, Kinds...); err != nil {
		return "", err
	}
	return k, nil
}

// BodyMax is the most of a body kept on the timeline, in runes.
const BodyMax = 4000

// Event is one entry on a client's timeline. Its ID is derived from Source and
// SourceID, so the same email, message, call or order stored twice is one event.
//
// Once recorded, an event is never silently replaced: storing an id again
// with the same content (the same Fingerprint) is a repeat and changes
// nothing; storing it with other content is refused (EventConflict), unless
// the event names the version it revises in Replaces.
type Event struct {
	ID        uuid.UUID
	ClientID  uuid.UUID
	Time      time.Time // when it happened, per the source
	Kind      Kind
	Source    Source
	SourceID  string // the source's own id: Message-ID, Slack ts, order exec id, ...
	Actor     string // who: a broker's Slack id, a client's address
	Summary   string
	Body      string // excerpt, at most BodyMax runes
	Truncated bool   // Body was cut
	Sentiment *Sentiment
	Attrs     Attrs

	// Fingerprint identifies what the event says; Prepare sets it (see
	// Event.ContentFingerprint). TimelineStore.Event returns it; pages of
	// events may leave it empty.
	Fingerprint string `json:"-"`
	// Replaces is the Fingerprint of the stored version this event revises
	// (a Slack message edited or deleted after it was logged). Empty for a
	// new event: an id stored with other content is then a conflict.
	Replaces string `json:"-"`
}

// Sentiment is a score in [-1, 1] and its label.
type Sentiment struct {
	Score float64 `json:"score"`
	Label string  `json:"label"` // negative, neutral, positive
}

// String is how Slack, the web pages and the command line show a
// sentiment: the label, and for a polar label the score with its sign
// ("negative -0.62"). The score is the model's confidence signed by the
// label, so the two agree; a score stored by an earlier model that
// disagrees with its label (a neutral text's lean, "negative +0.02") is
// left out rather than shown beside a contradicting word.
func (s Sentiment) String() string {
	agrees := (s.Label == "positive" && s.Score > 0) || (s.Label == "negative" && s.Score < 0)
	if !agrees {
		return s.Label
	}
	return fmt.Sprintf("%s %+.2f", s.Label, s.Score)
}

// MeanSentimentBand is how far from 0 a mean of scores must be to be called
// positive or negative rather than neutral.
const MeanSentimentBand = 0.2

// DescribeMeanSentiment shows a mean of scores the same way everywhere:
// "positive +0.42", "neutral +0.05", "negative -0.31". Means within
// MeanSentimentBand of 0 are neutral, whichever way they lean.
func DescribeMeanSentiment(mean float64) string {
	word := "neutral"
	switch {
	case mean >= MeanSentimentBand:
		word = "positive"
	case mean <= -MeanSentimentBand:
		word = "negative"
	}
	if math.Abs(mean) < 0.005 {
		return word + " 0.00"
	}
	return fmt.Sprintf("%s %+.2f", word, mean)
}

// Attrs are the kind-specific attributes of an event. Only the member for the
// event's kind is set.
type Attrs struct {
	Email    *EmailAttrs       `json:"email,omitempty"`
	Call     *CallAttrs        `json:"call,omitempty"`
	Order    *OrderAttrs       `json:"order,omitempty"`
	Feedback *FeedbackAttrs    `json:"feedback,omitempty"`
	Chat     *ChatAttrs        `json:"chat,omitempty"`
	Change   []Change          `json:"change,omitempty"` // profile changes, for kind event
	Extra    map[string]string `json:"extra,omitempty"`
}

// EmailAttrs describe an email.
type EmailAttrs struct {
	Subject     string   `json:"subject"`
	ThreadID    string   `json:"thread_id,omitempty"`
	From        string   `json:"from"`
	To          []string `json:"to,omitempty"`
	Cc          []string `json:"cc,omitempty"`
	Direction   string   `json:"direction"` // inbound or outbound
	Attachments []string `json:"attachments,omitempty"`
	Mailbox     string   `json:"mailbox,omitempty"`
}

// CallAttrs describe a phone call.
type CallAttrs struct {
	Direction string        `json:"direction"` // inbound or outbound
	Duration  time.Duration `json:"duration"`
	From      string        `json:"from,omitempty"` // E.164
	To        string        `json:"to,omitempty"`
}

// OrderAttrs describe an order event.
type OrderAttrs struct {
	OrderID   string  `json:"order_id"`
	ExecID    string  `json:"exec_id,omitempty"`
	Status    string  `json:"status"` // placed, partially_filled, filled, cancelled, rejected
	Commodity string  `json:"commodity,omitempty"`
	Contract  string  `json:"contract,omitempty"` // e.g. ZCZ6
	Side      string  `json:"side"`               // buy or sell
	Quantity  float64 `json:"quantity"`           // contracts
	Filled    float64 `json:"filled,omitempty"`   // cumulative filled contracts
	Price     float64 `json:"price,omitempty"`
	Currency  string  `json:"currency,omitempty"`
	OrderType string  `json:"order_type,omitempty"`
	Notes     string  `json:"notes,omitempty"` // broker notes
}

// FeedbackAttrs carry an optional 1-5 rating.
type FeedbackAttrs struct {
	Rating int `json:"rating,omitempty"`
}

// ChatAttrs describe a chat message.
type ChatAttrs struct {
	Channel string `json:"channel,omitempty"`
	Edited  bool   `json:"edited,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
}

// eventNamespace scopes event ids; changing it would duplicate every event.
var eventNamespace = uuid.MustParse("6f1c7a52-8e3b-4d0a-9c55-2b7f0e1d4a93")

// EventID derives an event's id from its source and the source's id.
func EventID(source Source, sourceID string) uuid.UUID {
	return uuid.NewSHA1(eventNamespace, []byte(string(source)+"\x00"+sourceID))
}

// Excerpt cuts s to at most max runes on a word boundary where possible and
// reports whether it cut.
func Excerpt(s string, max int) (string, bool) {
	if utf8.RuneCountInString(s) <= max {
		return s, false
	}
	runes := []rune(s)[:max]
	cut := string(runes)
	if i := strings.LastIndexAny(cut, " \n\t"); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…", true
}

// Prepare fills in the derived parts of e (ID, excerpt) and checks it.
func (e *Event) Prepare() error {
	if e.ClientID == uuid.Nil {
		return Invalid("client", "an event needs a client")
	}
	if err := oneOf("kind", e.Kind, Kinds...); err != nil {
		return err
	}
	if e.Source == "" || e.SourceID == "" {
		return Invalid("source", "an event needs a source and a source id")
	}
	if e.Time.IsZero() {
		return Invalid("time", "an event needs a time")
	}
	if e.ID == uuid.Nil {
		e.ID = EventID(e.Source, e.SourceID)
	}
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	if !utf8.ValidString(e.Body) {
		e.Body = strings.ToValidUTF8(e.Body, "\uFFFD")
	}
	if !utf8.ValidString(e.Summary) {
		e.Summary = strings.ToValidUTF8(e.Summary, "\uFFFD")
	}
	if body, cut := Excerpt(e.Body, BodyMax); cut {
		e.Body, e.Truncated = body, true
	}
	if s := e.Sentiment; s != nil && (s.Score < -1 || s.Score > 1) {
		return Invalid("sentiment", "%v is outside [-1, 1]", s.Score)
	}
	fp, err := e.ContentFingerprint()
	if err != nil {
		return err
	}
	e.Fingerprint = fp
	return nil
}

// ContentFingerprint is a digest of what the event says: its client, kind,
// source and source id, actor, summary, body and typed attributes. It leaves
// out what may differ between two deliveries of the same thing: the time (an
// event keeps the time it was first recorded with), the sentiment (scored
// by BrokerSync, not said by anyone), annotations in Attrs.Extra (who logged
// it, why a client was told of a market move) and the mailbox a mail was
// read from (the same mail arrives in several). Call it on a prepared event.
func (e *Event) ContentFingerprint() (string, error) {
	attrs := e.Attrs
	attrs.Extra = nil
	if attrs.Email != nil {
		email := *attrs.Email
		email.Mailbox = ""
		attrs.Email = &email
	}
	a, err := json.Marshal(attrs)
	if err != nil {
		return "", Invalid("attrs", "cannot be encoded: %v", err)
	}
	h := sha256.New()
	for _, part := range []string{e.ClientID.String(), string(e.Kind), string(e.Source), e.SourceID, e.Actor, e.Summary, e.Body, string(a)} {
		// Length-prefixed, so that no two different events hash alike by
		// moving text from one part to the next.
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return "v1:" + hex.EncodeToString(h.Sum(nil)), nil
}

// EventRef names a refused event: its id, and the source's own id that
// the sender knows it by.
type EventRef struct {
	ID       uuid.UUID
	SourceID string
}

// EventConflict is the error of an append that met ids already recorded
// with other content (or a revision of a version that is no longer the
// stored one). The stores write nothing of such an append. Its code is
// ECONFLICT.
type EventConflict struct {
	Events []EventRef // the refused events, in the order given
}

func (c *EventConflict) Error() string { return c.Unwrap().Error() }

// Unwrap gives the conflict as an *Error, so ErrorCode and ErrorMessage
// read it like any other.
func (c *EventConflict) Unwrap() error {
	msg := "nothing was stored"
	if n := len(c.Events); n > 0 {
		r := c.Events[0]
		msg = fmt.Sprintf("%q is already recorded with other content; the first record stands", r.SourceID)
		if n > 1 {
			msg += fmt.Sprintf(" (and %d more)", n-1)
		}
	}
	return &Error{Code: ECONFLICT, Field: "id", Message: msg}
}

// Refs returns the references of events, for an EventConflict.
func Refs(events ...*Event) []EventRef {
	out := make([]EventRef, len(events))
	for i, e := range events {
		out[i] = EventRef{ID: e.ID, SourceID: e.SourceID}
	}
	return out
}

// Repeat tells how an event whose id is stored already relates to the
// stored version, given that version's client and fingerprint.
type Repeat int

// How an incoming event relates to the stored one.
const (
	RepeatSame     Repeat = iota // the same content: nothing to write
	RepeatRevision               // a revision of the stored version: replace it
	RepeatConflict               // other content: refuse
)

// Against compares a prepared event with the stored version of its id.
func (e *Event) Against(client uuid.UUID, fingerprint string) Repeat {
	switch {
	case client != e.ClientID:
		return RepeatConflict
	case fingerprint == e.Fingerprint:
		return RepeatSame
	case e.Replaces != "" && fingerprint == e.Replaces:
		return RepeatRevision
	}
	return RepeatConflict
}

// TimelineStore keeps each client's timeline.
type TimelineStore interface {
	// AppendEvents stores events, each prepared with Prepare. An event whose
	// id is stored already with the same content (Event.Against) is a
	// repeat: it keeps its first time and content, and nothing changes, so
	// retries never duplicate. One with other content is refused: the call
	// then stores nothing and returns an *EventConflict naming every such
	// event; a revision (Event.Replaces) replaces the stored version it
	// names and keeps its time. On any other error, retry the whole call.
	// EINVALID, ECONFLICT, EUNAVAILABLE.
	AppendEvents(ctx context.Context, events ...*Event) error

	// Events returns a page of a client's events, newest first; events with
	// the same time are ordered by id, descending (byte order). An empty
	// client yields an empty page. EINVALID for a malformed cursor.
	Events(ctx context.Context, clientID uuid.UUID, q EventQuery) (EventPage, error)

	// Event returns one event. ENOTFOUND.
	Event(ctx context.Context, clientID, id uuid.UUID) (*Event, error)

	// DayCounts returns what a client's timeline holds on each UTC day
	// that lies wholly within [since, until) (a zero bound is none; see
	// WholeDays), per kind, ordered by day then kind; days and kinds
	// without events are left out. They are the counts of the events that
	// Events returns for those days (CountEvents), kept by the store as
	// events are appended: a repeat counts once, a revision replaces its
	// version's part, and an append cut off half-way never leaves them
	// wrong. EUNAVAILABLE.
	DayCounts(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]DayCount, error)

	Ping(ctx context.Context) error
	Close() error
}

// EventQuery selects and pages events.
type EventQuery struct {
	Kinds  []Kind    // none means all
	Since  time.Time // inclusive; zero means no lower bound
	Until  time.Time // exclusive; zero means no upper bound
	Limit  int       // default 50, at most 1000
	Cursor string    // from EventPage.Next
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events []*Event
	Next   string // empty on the last page
}

// PageLimit returns the effective page size for a requested limit.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}

// String is a one-line description of an event, for logs and plain-text output.
func (e *Event) String() string {
	return fmt.Sprintf("%s %s %s", e.Time.Format(time.RFC3339), e.Kind, e.Summary)
}

// ChangeEvent is the timeline entry for a profile change ("risk 4 -> 7"). Its
// source id is the profile version, so recording it twice is one event.
func ChangeEvent(c *Client, changes []Change, actor string) *Event {
	parts := make([]string, len(changes))
	for i, ch := range changes {
		parts[i] = ch.String()
	}
	return &Event{
		ClientID: c.ID,
		Time:     c.UpdatedAt,
		Kind:     KindEvent,
		Source:   SourceProfile,
		SourceID: fmt.Sprintf("%s/v%d", c.ID, c.Version),
		Actor:    actor,
		Summary:  "profile changed: " + strings.Join(parts, "; "),
		Attrs:    Attrs{Change: changes},
	}
}
