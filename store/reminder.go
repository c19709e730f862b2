package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ReminderState is where a reminder is in its life.
type ReminderState string

// Reminder states. A reminder is pending until it is due; a scheduler
// replica then claims it (holding a lease), posts it to Slack and records
// the message: posted. Done, snoozed (pending again at a later time) and
// cancelled are the broker's.
const (
	ReminderPending   ReminderState = "pending"
	ReminderClaimed   ReminderState = "claimed"
	ReminderPosted    ReminderState = "posted"
	ReminderDone      ReminderState = "done"
	ReminderSnoozed   ReminderState = "snoozed"
	ReminderCancelled ReminderState = "cancelled"
)

// ReminderStates lists every state.
var ReminderStates = []ReminderState{ReminderPending, ReminderClaimed, ReminderPosted, ReminderDone, ReminderSnoozed, ReminderCancelled}

// ReminderTextMax is the longest reminder text kept, in runes.
const ReminderTextMax = 2000

// Reminder is a follow-up a broker is to be reminded of at Due. It is a
// domain row, whatever runs it: the scheduler only moves it from pending to
// claimed to posted.
type Reminder struct {
	ID       uuid.UUID
	ClientID uuid.UUID
	Broker   string // Slack user id of the broker reminded
	Due      time.Time
	Text     string
	Source   string // "command" for /remind; a trigger's name otherwise
	// Key is a triggered follow-up's reason ("fill", "sentiment",
	// "market_move:corn:2026-12-10"): a client has at most one open
	// follow-up per key. "" for reminders a broker set.
	Key       string
	CreatedBy string // Slack user id
	State     ReminderState
	Channel   string // where it goes; "" is the broker's DM
	MessageTS string // the Slack message, once posted
	PostedAt  time.Time
	Attempts  int // how often a replica claimed it to post it

	// NextAt is when the scheduler next looks at the reminder: Due while
	// pending, the lease's end while claimed, a retry time after Slack
	// failed. LeaseOwner names the replica holding the claim.
	NextAt     time.Time
	LeaseOwner string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a reminder before it is created.
func (r *Reminder) Validate() error {
	if r.ClientID == uuid.Nil {
		return Invalid("client", "a reminder needs a client")
	}
	if strings.TrimSpace(r.Broker) == "" {
		return Invalid("broker", "a reminder needs a broker to remind")
	}
	if r.Due.IsZero() {
		return Invalid("due", "a reminder needs a due time")
	}
	if strings.TrimSpace(r.Text) == "" {
		return Invalid("text", "what should the reminder say?")
	}
	if n := len([]rune(r.Text)); n > ReminderTextMax {
		return Invalid("text", "is %d characters; at most %d", n, ReminderTextMax)
	}
	if r.Source == "" {
		return Invalid("source", "a reminder needs a source")
	}
	return nil
}

// Begin checks a reminder about to be created and sets what a new one
// starts with: an id if it has none, pending and due at its due time, no
// attempts, created now. Times are kept to the microsecond, as the stores
// keep them.
func (r *Reminder) Begin(now time.Time) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.ID == uuid.Nil {
		r.ID = uuid.New()
	}
	now = now.UTC().Truncate(time.Microsecond)
	r.Due = r.Due.UTC().Truncate(time.Microsecond)
	r.State, r.NextAt, r.Attempts, r.LeaseOwner, r.MessageTS = ReminderPending, r.Due, 0, "", ""
	r.CreatedAt, r.UpdatedAt = now, now
	return nil
}

// ReminderPost is the Slack message of a reminder, to record.
type ReminderPost struct {
	ID      uuid.UUID
	Channel string
	TS      string
	At      time.Time
}

// ReminderFilter narrows ListReminders.
type ReminderFilter struct {
	Broker    string          // "" for every broker
	ClientID  uuid.UUID       // uuid.Nil for every client
	Teams     []string        // reminders about clients of these desks; none for every desk
	States    []ReminderState // none means every state
	DueBefore time.Time       // zero for no bound
	Limit     int             // default 100
}

// ReminderStore keeps reminders and hands due ones to one scheduler replica
// at a time.
type ReminderStore interface {
	// CreateReminder validates r, gives it an id (unless set), makes it
	// pending with NextAt = Due and stores it. EINVALID; ECONFLICT for an
	// id already used.
	CreateReminder(ctx context.Context, r *Reminder) error

	// Reminder returns one reminder. ENOTFOUND.
	Reminder(ctx context.Context, id uuid.UUID) (*Reminder, error)

	// ListReminders returns reminders matching f, earliest due first.
	ListReminders(ctx context.Context, f ReminderFilter) ([]*Reminder, error)

	// ClaimDueReminders claims up to limit reminders whose NextAt is at or
	// before now and that are pending, snoozed, or claimed by a replica
	// whose lease ran out. Each is made claimed by owner until now+lease,
	// with Attempts counted up, and returned. Concurrent callers never
	// claim the same reminder. Brokers take turns: every broker's earliest
	// due reminder is claimed before any broker's second, and so on, so that
	// a burst is spread over their channels (Slack paces each channel).
	ClaimDueReminders(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*Reminder, error)

	// ExtendReminderLease moves the lease owner holds on to until. ECONFLICT
	// when owner no longer holds it.
	ExtendReminderLease(ctx context.Context, id uuid.UUID, owner string, until time.Time) error

	// MarkReminderPosted records the Slack message of a reminder owner has
	// claimed: posted, with its channel and ts. ECONFLICT when owner no
	// longer holds the claim.
	MarkReminderPosted(ctx context.Context, id uuid.UUID, owner, channel, ts string, at time.Time) error

	// MarkRemindersPosted records several posts at once, as
	// MarkReminderPosted does each, in one write. It returns the ids it
	// recorded: those whose claim owner still held.
	MarkRemindersPosted(ctx context.Context, owner string, posts []ReminderPost) ([]uuid.UUID, error)

	// CancelReminder cancels a reminder not yet posted (pending, snoozed or
	// being posted) and returns it as it now is. ENOTFOUND; ECONFLICT when
	// it was posted, done or cancelled already.
	CancelReminder(ctx context.Context, id uuid.UUID, at time.Time) (*Reminder, error)

	// CloseReminder marks a reminder done (the broker's Done button, or a
	// call logged from it) and returns it as it now is: pending, snoozed
	// and posted reminders may be closed, and a claimed one (its post is
	// then not recorded). ENOTFOUND; ECONFLICT when it was done or
	// cancelled already.
	CloseReminder(ctx context.Context, id uuid.UUID, at time.Time) (*Reminder, error)

	// SnoozeReminder puts a reminder off until until: snoozed, due then,
	// to be posted afresh (attempts, channel and the recorded message
	// cleared: it goes where the broker's reminders go then). A
	// posted, pending or snoozed reminder may be snoozed. ENOTFOUND;
	// ECONFLICT when it is being posted right now, done or cancelled.
	SnoozeReminder(ctx context.Context, id uuid.UUID, until, at time.Time) (*Reminder, error)

	// ReassignReminder hands a reminder to another broker (a manager's
	// Reassign button): a pending or snoozed one keeps its time; a posted
	// one is pending again, due at once, to be posted to the new broker
	// (attempts, channel and the recorded message cleared). It returns the
	// reminder as it now is. ENOTFOUND; ECONFLICT when it is being posted
	// right now, done or cancelled.
	ReassignReminder(ctx context.Context, id uuid.UUID, broker string, at time.Time) (*Reminder, error)

	// FollowupSettings returns where a broker's reminders go and the
	// broker's working hours: DefaultFollowupSettings for a broker who
	// never set them.
	FollowupSettings(ctx context.Context, broker string) (*FollowupSettings, error)

	// SetFollowupSettings stores a broker's settings (UpdatedAt is set).
	// EINVALID.
	SetFollowupSettings(ctx context.Context, s *FollowupSettings) error

	// UpsertFollowup stores a triggered follow-up (r.Key set): a new one,
	// unless the client has an open one with the same key; that one is then
	// updated (text and due time, when it is pending or snoozed; left as it
	// is while it is being posted or posted) and returned, with created
	// false. Never two open follow-ups for one client and key. EINVALID;
	// ENOTFOUND for an unknown client.
	UpsertFollowup(ctx context.Context, r *Reminder) (got *Reminder, created bool, err error)

	// ResolveFollowups closes the client's open triggered follow-ups (Key
	// set) created before before: a real contact made them moot. It returns
	// those it closed. Milestones (keys "milestone:…") are left open: a
	// call does not move a first notice day.
	ResolveFollowups(ctx context.Context, clientID uuid.UUID, before, at time.Time) ([]*Reminder, error)

	// DeskFollowups returns a desk's triggered follow-up settings:
	// DefaultDeskFollowups for a desk that never changed them.
	DeskFollowups(ctx context.Context, desk string) (*DeskFollowups, error)

	// SetDeskFollowups stores a desk's settings (UpdatedAt is set). EINVALID.
	SetDeskFollowups(ctx context.Context, d *DeskFollowups) error

	// RetryReminder gives a claimed reminder back to be tried again at
	// retryAt (Slack failed or limited the rate). ECONFLICT when owner no
	// longer holds the claim.
	RetryReminder(ctx context.Context, id uuid.UUID, owner string, retryAt time.Time) error

	// PaceReminderChannels calls fn once with the pace of each of channels
	// (a zero pace, but for its Channel, for one never paced) while no other
	// caller can change them, and keeps what fn leaves in them. An error
	// from fn changes nothing and is returned. This is how scheduler
	// replicas share what Slack allows in a channel.
	PaceReminderChannels(ctx context.Context, channels []string, fn func(map[string]*ReminderPace) error) error
}

// ReminderPace is how soon a Slack channel may take the next reminder,
// shared by every scheduler replica.
type ReminderPace struct {
	Channel string
	// Next is when the next message may be posted at the earliest.
	Next time.Time
	// StrictUntil is until when Slack is known to hold the channel to its
	// rate with no burst (it answered 429 lately).
	StrictUntil time.Time
	// Last is when Slack last answered that it accepted a paced message
	// in the channel: the next may leave no sooner than a gap after it.
	Last time.Time
}

// SortReminders orders reminders earliest due first (a claim's RETURNING
// gives them in no particular order).
func SortReminders(rs []*Reminder) {
	slices.SortFunc(rs, func(a, b *Reminder) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
}

// FollowupSettings are a broker's: where reminders go and the working
// hours triggered follow-ups wait for, in the broker's own time zone, on
// working days (Monday to Friday).
type FollowupSettings struct {
	Broker    string
	Channel   string // Slack channel id; "" for the broker's DM
	DayStart  int    // minutes after midnight; default 08:00
	DayEnd    int    // minutes after midnight, after DayStart; default 18:00
	UpdatedAt time.Time
}

// DefaultFollowupSettings are a broker's until changed: the DM, Monday to
// Friday 08:00-18:00.
func DefaultFollowupSettings(broker string) *FollowupSettings {
	return &FollowupSettings{Broker: broker, DayStart: 8 * 60, DayEnd: 18 * 60}
}

// Validate checks settings before they are stored.
func (s *FollowupSettings) Validate() error {
	if strings.TrimSpace(s.Broker) == "" {
		return Invalid("broker", "settings need a broker")
	}
	if s.DayStart < 0 || s.DayEnd > 24*60 || s.DayStart >= s.DayEnd {
		return Invalid("hours", "working hours must start before they end, within one day")
	}
	return nil
}

// Hours are the working hours as written: "08:00-18:00".
func (s *FollowupSettings) Hours() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.DayStart/60, s.DayStart%60, s.DayEnd/60, s.DayEnd%60)
}

// DeskFollowups are a desk's triggered follow-ups: how long after a fill
// (0: none), and whether market moves, sentiment and cadence raise them.
type DeskFollowups struct {
	Desk        string
	AfterFill   time.Duration // whole minutes
	MarketMoves bool
	Sentiment   bool
	Cadence     bool
	UpdatedBy   string
	UpdatedAt   time.Time
}

// DefaultDeskFollowups are a desk's until changed: 24 hours after a fill,
// and every other trigger on.
func DefaultDeskFollowups(desk string) *DeskFollowups {
	return &DeskFollowups{Desk: desk, AfterFill: 24 * time.Hour, MarketMoves: true, Sentiment: true, Cadence: true}
}

// Validate checks desk settings before they are stored.
func (d *DeskFollowups) Validate() error {
	if strings.TrimSpace(d.Desk) == "" {
		return Invalid("desk", "settings need a desk")
	}
	if d.AfterFill < 0 || d.AfterFill > 90*24*time.Hour || d.AfterFill%time.Minute != 0 {
		return Invalid("followup-after-fill", "must be whole minutes between 0 (none) and 90 days")
	}
	return nil
}
