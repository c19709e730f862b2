package store

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ClientStore keeps client profiles and their audit trail. Every method that
// changes a profile records who made the change; changes are all-or-nothing.
type ClientStore interface {
	// CreateClient validates c, gives it an id and stores it, with one audit
	// entry (handle: "" -> handle) by actor. EINVALID for a bad field,
	// ECONFLICT for a handle, email, phone or account number that another
	// client has.
	CreateClient(ctx context.Context, c *Client, actor string) error

	// ImportClients creates all of cs or none of them. Errors as CreateClient;
	// an error about one client names it.
	ImportClients(ctx context.Context, cs []*Client, actor string) error

	// Client, ClientByHandle, ClientByEmail, ClientByPhone and
	// ClientByAccount return ENOTFOUND when nothing matches, malformed input
	// included. Emails, phones and account numbers are normalised before
	// lookup.
	Client(ctx context.Context, id uuid.UUID) (*Client, error)
	ClientByHandle(ctx context.Context, handle string) (*Client, error)
	ClientByEmail(ctx context.Context, email string) (*Client, error)
	ClientByPhone(ctx context.Context, phone string) (*Client, error)
	ClientByAccount(ctx context.Context, account string) (*Client, error)

	// FindClients searches by name, company or handle (case-insensitive
	// substring) within the filter's scope, ordered by handle.
	FindClients(ctx context.Context, f ClientFilter) ([]*Client, error)

	// AllClients yields every client ordered by handle (for export).
	AllClients(ctx context.Context) iter.Seq2[*Client, error]

	// UpdateClient loads the client, applies change, validates and stores the
	// result with one audit entry per changed field, atomically. It returns the
	// new profile and the changes; no changes means nothing was written.
	// ENOTFOUND, EINVALID, ECONFLICT; errors from change are returned as is.
	UpdateClient(ctx context.Context, id uuid.UUID, actor string, change func(*Client) error) (*Client, []Change, error)

	// AuditTrail returns a client's audit entries, newest first.
	AuditTrail(ctx context.Context, id uuid.UUID, limit int) ([]AuditEntry, error)

	// Ping reports whether the store can be reached (EUNAVAILABLE if not).
	Ping(ctx context.Context) error
	Close() error
}

// ClientFilter narrows FindClients.
type ClientFilter struct {
	Text   string   // substring of name, company or handle; empty matches all
	Teams  []string // only clients of these desks; nil means every desk, empty means none
	Broker string   // only this broker's clients
	Tag    string
	Limit  int // default 50
	Offset int
}

// AuditEntry is one changed field.
type AuditEntry struct {
	ClientID uuid.UUID
	At       time.Time
	Actor    string
	Change
}

// TagClient adds and removes tags in one audited change.
func TagClient(ctx context.Context, s ClientStore, id uuid.UUID, actor string, add, remove []string) (*Client, []Change, error) {
	return s.UpdateClient(ctx, id, actor, Retag(add, remove))
}

// Retag is the change that adds and removes tags, for UpdateClient.
func Retag(add, remove []string) func(*Client) error {
	return func(c *Client) error {
		drop := map[string]bool{}
		for _, t := range remove {
			n, err := NormalizeTag(t)
			if err != nil {
				return err
			}
			drop[n] = true
		}
		var tags []string
		for _, t := range c.Tags {
			if !drop[t] {
				tags = append(tags, t)
			}
		}
		for _, t := range add {
			n, err := NormalizeTag(t)
			if err != nil {
				return err
			}
			tags = append(tags, n)
		}
		c.Tags = dedupe(tags)
		return nil
	}
}

// ResolveClient finds a client by what a broker typed: an id, an email
// address, a phone number, a handle or an account number. The form does not
// always tell which (ACC-0042 is a well-formed handle, 3125550001 also an
// account number), so each kind the reference could be is tried in turn.
func ResolveClient(ctx context.Context, s ClientStore, ref string) (*Client, error) {
	return ResolveVisibleClient(ctx, s, ref, nil)
}

// ResolveVisibleClient is ResolveClient for someone who may see only some
// clients: a client visible rejects is passed over as if it did not exist,
// so that a reference another desk's client answers (its handle) still finds
// the visible client it also names (as an account number), and the answer
// tells nothing about clients the caller may not see. A nil visible sees
// every client.
func ResolveVisibleClient(ctx context.Context, s ClientStore, ref string, visible func(*Client) bool) (*Client, error) {
	ref = strings.TrimSpace(ref)
	var tries []func(context.Context, string) (*Client, error)
	if id, err := uuid.Parse(ref); err == nil {
		tries = append(tries, func(ctx context.Context, _ string) (*Client, error) { return s.Client(ctx, id) })
	} else if strings.ContainsRune(ref, '@') {
		tries = append(tries, s.ClientByEmail)
	} else {
		// ClientByPhone and ClientByAccount answer ENOTFOUND for what is not
		// a phone or account number without asking the database;
		// ClientByHandle would ask, so a malformed handle is not looked up.
		if len(ref) > 0 && (ref[0] == '+' || ref[0] >= '0' && ref[0] <= '9') {
			tries = append(tries, s.ClientByPhone)
		}
		if _, err := NormalizeHandle(ref); err == nil {
			tries = append(tries, s.ClientByHandle)
		}
		tries = append(tries, s.ClientByAccount)
	}
	for _, try := range tries {
		c, err := try(ctx, ref)
		if ErrorCode(err) == ENOTFOUND || err == nil && visible != nil && !visible(c) {
			continue
		}
		return c, err
	}
	return nil, Errorf(ENOTFOUND, "no client with the handle, email, phone or account number %q", ref)
}
