package ingest

import (
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Email is a mail as a transport hands it over: read and parsed
// (ingest/mail), matched to the clients among its addresses, its direction
// and broker decided (ingest/imap does all three).
type Email struct {
	Clients   []uuid.UUID // the clients it concerns: one event each
	Key       string      // the Message-ID, or "sha256:" and the content hash
	At        time.Time   // when it was written
	Actor     string      // who wrote it: the sender, or a broker's Slack id
	Broker    string      // the broker it concerns; "" when not known
	Excerpt   string      // the new text, quoted history left out
	Truncated bool        // Excerpt was cut short
	Attrs     store.EmailAttrs
}

// Events returns the mail's timeline events, one per client. Source ids
// are Key plus the client's id, so the same mail read from two mailboxes,
// or again after a UIDVALIDITY change, is one event per client.
func (m Email) Events() []*store.Event {
	summary := m.Attrs.Subject
	if summary == "" {
		summary = "(no subject)"
	}
	events := make([]*store.Event, len(m.Clients))
	for i, id := range m.Clients {
		a := m.Attrs // each event owns its attributes
		e := &store.Event{
			ClientID:  id,
			Time:      m.At,
			Kind:      store.KindEmail,
			Source:    store.SourceEmail,
			SourceID:  m.Key + "/" + id.String(),
			Actor:     m.Actor,
			Summary:   summary,
			Body:      m.Excerpt,
			Truncated: m.Truncated,
			Attrs:     store.Attrs{Email: &a},
		}
		if m.Broker != "" {
			e.Attrs.Extra = map[string]string{"broker": m.Broker}
		}
		events[i] = e
	}
	return events
}
