package store

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Recommendation is a broker's recommendation to a client in a commodity
// (logged with /log … recommendation), as counted in responsiveness.
type Recommendation struct {
	EventID   uuid.UUID
	ClientID  uuid.UUID
	At        time.Time
	Commodity string // catalogue key
}

// Validate rejects recommendations responsiveness cannot count. EINVALID.
func (r Recommendation) Validate() error {
	switch {
	case r.EventID == uuid.Nil:
		return Invalid("event id", "a recommendation needs its event's id")
	case r.ClientID == uuid.Nil:
		return Invalid("client", "a recommendation needs a client")
	case r.At.IsZero():
		return Invalid("time", "a recommendation needs a time")
	case r.Commodity == "":
		return Invalid("commodity", "a recommendation counts only in a commodity")
	}
	return nil
}

// FollowBusinessDays is how long after a recommendation an order in its
// commodity counts as following it.
const FollowBusinessDays = 5

// FollowDeadline is the end of a recommendation's window: the same time
// of day FollowBusinessDays business days (Monday to Friday, UTC) later.
func FollowDeadline(at time.Time) time.Time {
	t := at.UTC()
	for n := 0; n < FollowBusinessDays; {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return t
}

// Responsiveness is how a client answers the desk: whether it follows
// recommendations with orders, and how soon it replies.
type Responsiveness struct {
	// Recommendations are those decided: followed by a fill in their
	// commodity within FollowBusinessDays, or whose window has ended.
	Recommendations int
	Followed        int
	Pending         int       // windows still open
	PendingUntil    time.Time // when the first open window ends; zero for none
	// Replies counts the client's emails and chats that answered one of
	// the desk's; ReplyMedian is the median time from the desk's first
	// unanswered email or chat to the reply.
	Replies     int
	ReplyMedian time.Duration
}

// Share is the share of decided recommendations the client followed; ok is
// false when none is decided.
func (r Responsiveness) Share() (share float64, ok bool) {
	if r.Recommendations == 0 {
		return 0, false
	}
	return float64(r.Followed) / float64(r.Recommendations), true
}

// ComputeResponsiveness counts a client's responsiveness as of now from
// its recommendations, fills and contacts (email and chat are the ones
// that count for replies; others are skipped).
func ComputeResponsiveness(recs []Recommendation, fills []Fill, contacts []Contact, now time.Time) Responsiveness {
	var r Responsiveness
	for _, rec := range recs {
		deadline := FollowDeadline(rec.At)
		followed := slices.ContainsFunc(fills, func(f Fill) bool {
			return f.Commodity == rec.Commodity && f.At.After(rec.At) && !f.At.After(deadline) && !f.At.After(now)
		})
		switch {
		case followed:
			r.Recommendations++
			r.Followed++
		case !deadline.After(now):
			r.Recommendations++
		default:
			r.Pending++
			if r.PendingUntil.IsZero() || deadline.Before(r.PendingUntil) {
				r.PendingUntil = deadline
			}
		}
	}
	cs := slices.Clone(contacts)
	slices.SortFunc(cs, func(a, b Contact) int { return a.At.Compare(b.At) })
	var waiting time.Time
	var gaps []time.Duration
	for _, c := range cs {
		if c.Kind != KindEmail && c.Kind != KindChat || c.At.After(now) {
			continue
		}
		switch c.Direction {
		case Outbound:
			if waiting.IsZero() {
				waiting = c.At
			}
		case Inbound:
			if !waiting.IsZero() {
				gaps = append(gaps, c.At.Sub(waiting))
				waiting = time.Time{}
			}
		}
	}
	r.Replies = len(gaps)
	if n := len(gaps); n > 0 {
		slices.Sort(gaps)
		r.ReplyMedian = gaps[n/2]
		if n%2 == 0 {
			r.ReplyMedian = (gaps[n/2-1] + gaps[n/2]) / 2
		}
	}
	return r
}

// ResponsivenessStore keeps recommendations and each client's
// responsiveness, recounted whenever a recommendation, a fill or an email
// or chat of the client is recorded (RecordFills, RecordContacts), and by
// ReplaceClientStats.
type ResponsivenessStore interface {
	// RecordRecommendations records recommendations, each once (by event
	// id), and recounts their clients. It returns how many were new.
	// EINVALID.
	RecordRecommendations(ctx context.Context, rs ...Recommendation) (int, error)
	// Responsiveness returns a client's, as last counted.
	Responsiveness(ctx context.Context, clientID uuid.UUID) (Responsiveness, error)
	// RefreshResponsiveness recounts the clients with a recommendation
	// window that ended by now, and returns how many it recounted.
	RefreshResponsiveness(ctx context.Context, now time.Time) (int, error)
}

// ReplyClients are the clients of the contacts that may change a reply
// time (emails and chats with a direction), each once.
func ReplyClients(cs []Contact) []uuid.UUID {
	var out []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, c := range cs {
		if (c.Kind == KindEmail || c.Kind == KindChat) && (c.Direction == Inbound || c.Direction == Outbound) && !seen[c.ClientID] {
			seen[c.ClientID] = true
			out = append(out, c.ClientID)
		}
	}
	return out
}
