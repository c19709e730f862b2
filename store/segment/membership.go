package segment

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Member is a client recorded in a saved segment.
type Member struct {
	ClientID uuid.UUID
	Since    time.Time
}

// Change is a client entering or leaving a saved segment, as recorded.
// Changes are kept first and put on the client's timeline after (Recorded),
// so that a change is neither lost nor doubled by a crash between the two.
type Change struct {
	Seq      int64 // increasing across the store; with the segment and client it names the change's timeline event
	Segment  string
	ClientID uuid.UUID
	Entered  bool // false: the client left
	At       time.Time
}

// Watch sends a saved segment's entries and exits to a Slack channel.
type Watch struct {
	Segment   string
	Channel   string
	WatchedBy string
	At        time.Time
}

// WatchPost is one message of a watched segment: the changes since the
// previous one, fixed before it is posted so that a post retried after a
// crash says the same thing and is found in the channel rather than posted
// twice.
type WatchPost struct {
	ID        uuid.UUID
	Segment   string
	Channel   string
	Changes   []Change // in order
	CreatedAt time.Time
	Attempts  int // how often it was claimed to be posted, this time included
}

// IDMatcher finds the ids of every client a filter matches in one query
// (Limit and After are ignored): what a sweep over the whole book needs,
// where paging through full rows would run the filter once per page.
type IDMatcher interface {
	MatchClientIDs(ctx context.Context, q Query) ([]uuid.UUID, error)
}

// MembershipStore keeps who is in each saved segment, the changes, and the
// watches that post them. Deleting a segment deletes its members, changes
// and watch.
type MembershipStore interface {
	// SegmentMembers lists the clients recorded in a saved segment; with only
	// set, just those of them.
	SegmentMembers(ctx context.Context, segment string, only []uuid.UUID) ([]Member, error)
	// ChangeMembership records, in one transaction, the clients that
	// entered (made members since at) and left a saved segment, each with
	// a change queued for its timeline event. A client in already (for
	// entered) or out already (for left) is skipped, so two sweeps at once
	// record each change once. It returns the changes made. ENOTFOUND for
	// a segment that is not saved.
	ChangeMembership(ctx context.Context, segment string, at time.Time, entered, left []uuid.UUID) ([]Change, error)
	// UnrecordedChanges returns up to limit changes whose timeline event
	// is not recorded yet, oldest first.
	UnrecordedChanges(ctx context.Context, limit int) ([]Change, error)
	// MarkChangesRecorded notes that the changes' events are on the
	// timeline.
	MarkChangesRecorded(ctx context.Context, seqs ...int64) error

	// WatchSegment posts a saved segment's changes from now on to a
	// channel (replacing the channel of a watch it has). ENOTFOUND.
	WatchSegment(ctx context.Context, w Watch) error
	// UnwatchSegment stops that; posts queued already are still posted.
	// ENOTFOUND when the segment is not watched.
	UnwatchSegment(ctx context.Context, segment string) error
	// Watches lists the watched segments by name.
	Watches(ctx context.Context) ([]Watch, error)
	// ClaimWatchPosts first queues, for each watched segment with changes
	// since its last post and no post queued in the interval before at,
	// one post of those changes (at most maxChanges), then claims every
	// queued post not posted and not claimed by someone else until at,
	// until at+lease. However many replicas call it, a segment gets at
	// most one post per interval.
	ClaimWatchPosts(ctx context.Context, at time.Time, interval, lease time.Duration, maxChanges int) ([]WatchPost, error)
	// MarkWatchPosted records a post's Slack message.
	MarkWatchPosted(ctx context.Context, id uuid.UUID, ts string, at time.Time) error
	// RetryWatchPost gives a claimed post back, to be claimed again from at.
	RetryWatchPost(ctx context.Context, id uuid.UUID, at time.Time) error
}
