package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

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
