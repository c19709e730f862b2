package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DigestFrequency is how often a manager's digest is posted.
type DigestFrequency string

// Digest frequencies: daily at the subscription's time, or weekly on
// Mondays at that time, in the subscriber's time zone.
const (
	DigestDaily  DigestFrequency = "daily"
	DigestWeekly DigestFrequency = "weekly"
)

// DigestSubscription is a manager's standing order for a desk's digest in a
// channel. Its owner, desk and channel name it: subscribing again changes
// the owner's own subscription and nobody else's, so no one but its owner
// ever changes how often it comes.
type DigestSubscription struct {
	ID        uuid.UUID
	Owner     string // Slack id of the manager (or admin) who subscribed
	Desk      string
	Channel   string // Slack channel id
	Frequency DigestFrequency
	At        int    // minutes after local midnight the digest is posted
	TimeZone  string // IANA name, the owner's when they subscribed
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a subscription before it is stored and normalises its desk.
func (s *DigestSubscription) Validate() error {
	if strings.TrimSpace(s.Owner) == "" {
		return Invalid("owner", "a digest subscription needs its subscriber")
	}
	d, err := NormalizeHandle(s.Desk)
	if err != nil {
		return Invalid("desk", "%q is not a desk name", s.Desk)
	}
	s.Desk = d
	if strings.TrimSpace(s.Channel) == "" {
		return Invalid("channel", "a digest needs a channel to go to")
	}
	if err := oneOf("frequency", s.Frequency, DigestDaily, DigestWeekly); err != nil {
		return err
	}
	if s.At < 0 || s.At >= 24*60 {
		return Invalid("time", "must be a time of day, 00:00 to 23:59")
	}
	if _, ok := Location(s.TimeZone); !ok && s.TimeZone != "" {
		return Invalid("time zone", "%q is not a time zone", s.TimeZone)
	}
	return nil
}

// Clock is the subscription's time of day as written: "08:00".
func (s *DigestSubscription) Clock() string { return fmt.Sprintf("%02d:%02d", s.At/60, s.At%60) }

// Loc is the subscription's time zone; UTC when none was known.
func (s *DigestSubscription) Loc() *time.Location {
	if loc, ok := Location(s.TimeZone); ok {
		return loc
	}
	return time.UTC
}

// DigestFilter narrows DigestSubscriptions.
type DigestFilter struct {
	Owner string   // "" for every owner
	Desks []string // none for every desk
}

// DigestRunState is where one period's digest is.
type DigestRunState string

// A period's digest is claimed by one replica (a lease) while it is built
// and posted, then posted, with its message recorded.
const (
	DigestClaimed DigestRunState = "claimed"
	DigestPosted  DigestRunState = "posted"
)

// DigestRun is one period's digest of a subscription: its once-key is
// (Subscription, Period).
type DigestRun struct {
	Subscription uuid.UUID
	Period       string    // "daily:2027-03-14", "weekly:2027-03-15"
	Due          time.Time // when it was to be posted
	State        DigestRunState
	LeaseOwner   string
	LeaseUntil   time.Time
	Attempts     int // claims so far, this one included
	Channel      string
	MessageTS    string
	PostedAt     time.Time
}

// DigestStore keeps digest subscriptions and the once-keys of their posts.
type DigestStore interface {
	// SaveDigestSubscription stores s, keyed by its owner, desk and channel:
	// a new subscription (created; ID and CreatedAt set) or the owner's
	// existing one for that desk and channel, whose frequency, time and
	// zone it replaces (ID and CreatedAt as stored). UpdatedAt is set.
	// EINVALID.
	SaveDigestSubscription(ctx context.Context, s *DigestSubscription) (created bool, err error)

	// DeleteDigestSubscriptions removes owner's subscriptions, for one desk
	// and one channel when they are given ("" for any), and returns those
	// it removed; with them go the records of their posts.
	DeleteDigestSubscriptions(ctx context.Context, owner, desk, channel string) ([]*DigestSubscription, error)

	// DigestSubscriptions lists the subscriptions f matches, by desk, then
	// owner, then channel.
	DigestSubscriptions(ctx context.Context, f DigestFilter) ([]*DigestSubscription, error)

	// ClaimDigestRun claims the period's digest of subscription sub for
	// owner until now+lease: when it was never claimed (Attempts 1) or was
	// claimed by a replica whose lease ran out and never recorded a post
	// (Attempts counted up). claimed is false, and the run as stored is
	// returned, when it is posted or another claim's lease is live.
	// Concurrent callers never both claim. ENOTFOUND for an unknown
	// subscription.
	ClaimDigestRun(ctx context.Context, sub uuid.UUID, period string, due time.Time, owner string, now time.Time, lease time.Duration) (run *DigestRun, claimed bool, err error)

	// MarkDigestPosted records the message of a period owner has claimed.
	// ECONFLICT when owner no longer holds the claim.
	MarkDigestPosted(ctx context.Context, sub uuid.UUID, period, owner, channel, ts string, at time.Time) error

	// RetryDigestRun gives a claim back, to be claimed again from retryAt
	// (Slack failed). ECONFLICT when owner no longer holds it.
	RetryDigestRun(ctx context.Context, sub uuid.UUID, period, owner string, retryAt time.Time) error

	// DigestRuns lists a subscription's runs, latest period first, at most limit (default 100).
	DigestRuns(ctx context.Context, sub uuid.UUID, limit int) ([]*DigestRun, error)
}

// SortDigestSubscriptions orders subscriptions by desk, owner and channel.
func SortDigestSubscriptions(ss []*DigestSubscription) {
	slices.SortFunc(ss, func(a, b *DigestSubscription) int {
		return cmp.Or(strings.Compare(a.Desk, b.Desk), strings.Compare(a.Owner, b.Owner), strings.Compare(a.Channel, b.Channel))
	})
}

// DigestPeriod is one period of a subscription: the digest of [From, To)
// is due at To.
type DigestPeriod struct {
	Key      string // the once-key's period part: "daily:2027-03-14", "weekly:2027-03-15"
	From, To time.Time
}

// PeriodAt returns the latest period of s due at or before now. Days are
// calendar days in the subscriber's zone, so a daylight-saving change
// keeps 08:00 at 08:00 (that day is 23 or 25 hours long); a time the
// clocks skip (02:30 on the spring change) is the time after the skip.
// Weekly digests come on Mondays.
func (s *DigestSubscription) PeriodAt(now time.Time) DigestPeriod {
	local := now.In(s.Loc())
	y, m, d := local.Date()
	step := 1
	if s.Frequency == DigestWeekly {
		d -= (int(local.Weekday()) + 6) % 7 // back to Monday
		step = 7
	}
	p := s.period(y, m, d, step)
	if p.To.After(now) {
		p = s.period(y, m, d-step, step)
	}
	return p
}

// Previous is the period before p.
func (s *DigestSubscription) Previous(p DigestPeriod) DigestPeriod {
	return s.PeriodAt(p.To.Add(-time.Second))
}

// Next is when s's next digest after now is due.
func (s *DigestSubscription) Next(now time.Time) time.Time {
	p := s.PeriodAt(now)
	y, m, d := p.To.In(s.Loc()).Date()
	if s.Frequency == DigestWeekly {
		return s.period(y, m, d+7, 7).To
	}
	return s.period(y, m, d+1, 1).To
}

// period is the period of step days that ends on the day y-m-d.
func (s *DigestSubscription) period(y int, m time.Month, d, step int) DigestPeriod {
	loc := s.Loc()
	at := func(d int) time.Time { return time.Date(y, m, d, s.At/60, s.At%60, 0, 0, loc) }
	day := time.Date(y, m, d, 12, 0, 0, 0, loc) // the date, normalised
	return DigestPeriod{Key: string(s.Frequency) + ":" + day.Format(time.DateOnly), From: at(d - step), To: at(d)}
}

// DigestEventIndex keeps the events a digest reads (fills, real contacts and
// signals), so that a desk's period is one query rather than one timeline
// read per client. Events are kept as recorded; the timeline stays the
// record.
type DigestEventIndex interface {
	// IndexDigestEvents keeps events, once each by id: an id kept already
	// is left as it is. EINVALID for an event without an id, client or time.
	IndexDigestEvents(ctx context.Context, events []*Event) error
	// DigestEvents returns the kept events of [from, to) of the clients now
	// on desk, oldest first.
	DigestEvents(ctx context.Context, desk string, from, to time.Time) ([]*Event, error)
}

// CheckIndexable rejects events the index cannot keep.
func CheckIndexable(events []*Event) error {
	for _, e := range events {
		if e.ID == uuid.Nil || e.ClientID == uuid.Nil || e.Time.IsZero() {
			return Invalid("event", "an indexed event needs an id, a client and a time")
		}
	}
	return nil
}
