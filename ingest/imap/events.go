package imap

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/mail"
	"github.com/brokersync/brokersync/store"
)

// ClientFinder finds the client an address belongs to (store.ClientStore).
type ClientFinder interface {
	ClientByEmail(ctx context.Context, email string) (*store.Client, error)
}

// Desk knows the desk's own brokers, so that the direction and the broker of
// a mail are the same whichever mailbox it was read from: a mail from
// broker1 to a client, copied to broker2, is one outbound event by broker1.
type Desk struct {
	brokers map[string]string // address -> Slack id
	domains map[string]bool   // the desk's mail domains
}

// NewDesk learns the brokers from the configured mailboxes: each owner
// address is a broker (with its Slack id), and the owners' domains are the
// desk's domains.
func NewDesk(mailboxes []MailboxConfig) *Desk {
	d := &Desk{brokers: map[string]string{}, domains: map[string]bool{}}
	for _, m := range mailboxes {
		if m.Owner == "" {
			continue
		}
		d.brokers[m.Owner] = m.Broker
		d.domains[domain(m.Owner)] = true
	}
	return d
}

func domain(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// clientCache remembers, for the length of one pass, which client an
// address belongs to (uuid.Nil: none). A pass over a full mailbox sees the
// same few hundred addresses thousands of times.
type clientCache struct {
	finder ClientFinder
	mu     sync.Mutex
	ids    map[string]uuid.UUID
}

func newClientCache(f ClientFinder) *clientCache {
	return &clientCache{finder: f, ids: map[string]uuid.UUID{}}
}

func (c *clientCache) lookup(ctx context.Context, addr string) (uuid.UUID, error) {
	c.mu.Lock()
	id, ok := c.ids[addr]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	cl, err := c.finder.ClientByEmail(ctx, addr)
	switch store.ErrorCode(err) {
	case "":
		id = cl.ID
	case store.ENOTFOUND, store.EINVALID: // unknown or not an address a client can have
		id = uuid.Nil
	default:
		return uuid.Nil, err
	}
	c.mu.Lock()
	c.ids[addr] = id
	c.mu.Unlock()
	return id, nil
}

// eventsFor turns a parsed mail into one event per client among its From,
// To, Cc and Reply-To addresses (ingest.Email); none means the mail
// concerns no client.
func (in *Ingester) eventsFor(ctx context.Context, cache *clientCache, m *mail.Message, received time.Time) ([]*store.Event, error) {
	var clients []uuid.UUID
	seen := map[uuid.UUID]bool{}
	senderIsClient := false
	for i, list := range [][]mail.Address{m.From, m.To, m.Cc, m.ReplyTo} {
		for j, a := range list {
			id, err := cache.lookup(ctx, a.Email)
			if err != nil {
				return nil, err
			}
			if id == uuid.Nil {
				continue
			}
			if i == 0 && j == 0 {
				senderIsClient = true
			}
			if !seen[id] {
				seen[id] = true
				clients = append(clients, id)
			}
		}
	}
	if len(clients) == 0 {
		return nil, nil
	}

	sender := ""
	if len(m.From) > 0 {
		sender = m.From[0].Email
	}
	direction, actor, broker := in.direction(sender, senderIsClient, m)
	key := m.MessageID
	if key == "" {
		key = "sha256:" + m.ContentHash
	}
	return ingest.Email{
		Clients: clients, Key: key, At: eventTime(m, received), Actor: actor, Broker: broker,
		Excerpt: m.Excerpt, Truncated: m.Truncated,
		Attrs: store.EmailAttrs{
			Subject:     m.Subject,
			ThreadID:    m.ThreadID,
			From:        strings.Join(formatAddresses(m.From), ", "),
			To:          formatAddresses(m.To),
			Cc:          formatAddresses(m.Cc),
			Direction:   direction,
			Attachments: attachmentNames(m.Attachments),
			Mailbox:     in.cfg.Label(),
		},
	}.Events(), nil
}

// eventTime is when the mail was written: its Date; without one, when it
// entered the mail system (the earliest Received field), which is the
// same in every mailbox the mail reached; without that, the server's
// arrival time (INTERNALDATE), which may differ between mailboxes: the
// store then keeps the time of the copy recorded first.
func eventTime(m *mail.Message, received time.Time) time.Time {
	switch {
	case !m.Date.IsZero():
		return m.Date
	// A Received time after the arrival is a server's wrong clock.
	case !m.Received.IsZero() && (received.IsZero() || !m.Received.After(received.Add(24*time.Hour))):
		return m.Received
	case !received.IsZero():
		return received
	}
	return time.Now()
}

// direction says whether the desk wrote the mail (outbound) or received it,
// who acted (a broker for outbound, the sender for inbound) and which broker
// it concerns. A known broker's address wins over everything; a client's
// address is inbound even when the client shares the desk's domain; other
// addresses of the desk's domains are colleagues, hence outbound.
func (in *Ingester) direction(sender string, senderIsClient bool, m *mail.Message) (dir, actor, broker string) {
	if id, ok := in.desk.brokers[sender]; ok {
		return "outbound", id, id
	}
	if !senderIsClient && sender != "" && in.desk.domains[domain(sender)] {
		return "outbound", sender, sender
	}
	// Inbound: the broker is the first recipient the desk knows, else the
	// owner of the mailbox it was read from.
	for _, list := range [][]mail.Address{m.To, m.Cc} {
		for _, a := range list {
			if id, ok := in.desk.brokers[a.Email]; ok {
				return "inbound", sender, id
			}
		}
	}
	return "inbound", sender, in.cfg.Broker
}

func formatAddresses(as []mail.Address) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		if a.Name != "" && a.Name != a.Email {
			out[i] = a.Name + " <" + a.Email + ">"
		} else {
			out[i] = a.Email
		}
	}
	return out
}

func attachmentNames(as []mail.Attachment) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Filename
		if out[i] == "" {
			out[i] = "unnamed " + a.ContentType
		}
	}
	return out
}
