package segment

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Query asks for the clients a filter matches.
type Query struct {
	Filter *Filter // resolved (see Resolve); nil or empty matches every client
	// Teams are the desks whose clients the viewer may see: nil for every
	// desk (admins only), empty for none. Always applied, whatever the
	// filter says.
	Teams []string
	Now   time.Time // fixes relative terms
	// Clients, when not nil, are the only clients looked at (the ones
	// whose events just arrived, or the one a rule asks about); empty
	// matches none.
	Clients []uuid.UUID
	After   string // only handles after this one
	Limit   int    // at most this many (default 50, at most 1000)
}

// Matcher finds the clients a filter matches.
type Matcher interface {
	// MatchClients returns matching clients in handle order.
	MatchClients(ctx context.Context, q Query) ([]*store.Client, error)
	// CountClients counts every matching client (Limit and After are ignored).
	CountClients(ctx context.Context, q Query) (int, error)
}

// DefaultLimit and MaxLimit bound a page of MatchClients.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// PageLimit is the page size for a requested limit.
func PageLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// All yields every client q matches, in handle order, a page at a time.
func All(ctx context.Context, m Matcher, q Query) iter.Seq2[*store.Client, error] {
	return func(yield func(*store.Client, error) bool) {
		q.Limit = MaxLimit
		for {
			page, err := m.MatchClients(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			if len(page) < q.Limit {
				return
			}
			q.After = page[len(page)-1].Handle
		}
	}
}

// Saved is a saved segment: a name for a filter, evaluated live.
type Saved struct {
	Name      string
	Filter    string
	CreatedBy string
	CreatedAt time.Time
	UpdatedBy string
	UpdatedAt time.Time
}

// Validate checks a segment before it is saved: its name, and that its
// filter parses against cat. EINVALID.
func (s *Saved) Validate(cat *store.Catalogue) error {
	n, err := NormalizeName(s.Name)
	if err != nil {
		return store.Invalid("name", "%s", err.Error())
	}
	s.Name = n
	s.Filter = strings.TrimSpace(s.Filter)
	if s.Filter == "" {
		return store.Invalid("filter", "required: a segment needs a filter, e.g. asset:energy risk>=7")
	}
	if _, err := Parse(s.Filter, cat); err != nil {
		return store.Invalid("filter", "%s", err.Error())
	}
	return nil
}

// Store keeps saved segments.
type Store interface {
	// SaveSegment creates the segment or replaces its filter (keeping
	// who created it and when). EINVALID.
	SaveSegment(ctx context.Context, s Saved) (Saved, error)
	// Segment returns a saved segment. ENOTFOUND.
	Segment(ctx context.Context, name string) (Saved, error)
	// Segments lists saved segments by name.
	Segments(ctx context.Context) ([]Saved, error)
	// DeleteSegment deletes one. ENOTFOUND.
	DeleteSegment(ctx context.Context, name string) error
}
