package store

import (
	"context"
	"fmt"
	"time"
)

// OnceRetention is how long a OnceStore remembers that a key's work was
// done. Slack retries an event for a few minutes; webhook senders for a day
// or two.
const OnceRetention = 7 * 24 * time.Hour

// DefaultOnceLease is how long a claim holds off other claims of its key
// when the caller names no lease: longer than the work it guards may take
// (a Slack event is given 10 s), shorter than the minute after which Slack
// retries a failed delivery, so that after a crash the retry applies it.
const DefaultOnceLease = 30 * time.Second

// OnceState is what a claim found.
type OnceState int

// The states of a key.
const (
	// OnceClaimed: this claim holds the key's lease. The caller does the
	// work, then calls Done when it succeeded, or Release when it failed.
	// A key never seen, released, whose lease ran out (its holder crashed)
	// or done longer than OnceRetention ago is claimed.
	OnceClaimed OnceState = iota
	// OnceBusy: another claim holds a live lease; its work may still be
	// under way. The sender should deliver again later.
	OnceBusy
	// OnceDone: the work was done; the delivery is a duplicate.
	OnceDone
)

func (s OnceState) String() string {
	switch s {
	case OnceClaimed:
		return "claimed"
	case OnceBusy:
		return "busy"
	case OnceDone:
		return "done"
	}
	return fmt.Sprintf("OnceState(%d)", int(s))
}

// OnceStore remembers deliveries that a sender may retry (a Slack event,
// command or interaction) so that each is applied once and none is lost.
// A key is claimed for a lease, and is done only once the caller says its
// work succeeded: a crash between the two leaves a lease that runs out, and
// the sender's next retry does the work. The work itself must be safe to do
// twice (a lease can run out while a slow holder still works).
type OnceStore interface {
	// Claim takes key for lease (DefaultOnceLease when lease <= 0) unless a
	// live lease or a done mark holds it, and reports which. Of concurrent
	// claims of a free key exactly one gets OnceClaimed. EINVALID for an
	// empty key.
	Claim(ctx context.Context, key string, lease time.Duration) (OnceState, error)
	// Done marks key's work done, whoever holds the lease: later claims
	// get OnceDone for OnceRetention. EINVALID for an empty key.
	Done(ctx context.Context, key string) error
	// Release gives up a lease whose work failed, so that the sender's retry
	// is applied at once. It never forgets a done key, and releasing a key
	// that is not claimed does nothing.
	Release(ctx context.Context, key string) error
}
