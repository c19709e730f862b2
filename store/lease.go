package store

import (
	"context"
	"time"
)

// LeaseAction is what a lease log entry records.
type LeaseAction string

// The lease log's actions.
const (
	// LeaseAcquired: a free mailbox (never held, or released) was taken.
	LeaseAcquired LeaseAction = "acquire"
	// LeaseTakenOver: a mailbox whose holder stopped renewing (crashed, cut
	// off) was taken after its lease ran out; or a holder took its own
	// live lease again (PrevHolder is Holder): a replica restarted under
	// the same name, its earlier run fenced out by the new token.
	LeaseTakenOver LeaseAction = "takeover"
	// LeaseReleased: the holder gave the mailbox up.
	LeaseReleased LeaseAction = "release"
)

// MailboxLease is the right of one replica to read one IMAP mailbox folder.
type MailboxLease struct {
	Mailbox string // the folder's label, account/folder
	Holder  string // the replica holding it; "" once released
	// Token is the fencing token: it grows by one every time the mailbox
	// is acquired or taken over, never while one holder renews it. The
	// holder passes it with its checkpoint writes (Checkpoint.Fence), so a
	// holder that lost the mailbox without noticing cannot move the
	// checkpoint under its successor.
	Token     int64
	ExpiresAt time.Time
}

// LeaseLogEntry is one change of hands of a mailbox, kept durably.
type LeaseLogEntry struct {
	Mailbox string
	Holder  string
	Token   int64
	Action  LeaseAction
	At      time.Time
	// Previous holder and when its lease ran out (takeovers and
	// acquisitions after a release; zero for the first acquisition).
	PrevHolder    string
	PrevExpiresAt time.Time
}

// LeaseStore hands out mailbox leases and keeps track of the live replicas,
// so that each IMAP mailbox is read by exactly one replica at a time and the
// mailboxes are spread evenly over the replicas.
type LeaseStore interface {
	// AcquireLease gives mailbox to holder for ttl when it is free: never
	// held, released, or its lease expired; or held by holder itself,
	// which is taken over with a new token as from anyone else (whoever
	// holds the old token, an earlier run of a replica of that name, can
	// no longer renew it nor save checkpoints with it: holders renew with
	// RenewLease, never with AcquireLease). ok is false (and the lease the
	// current holder's) when another holder's lease is live. Every
	// acquisition and takeover gets a new, larger token and a lease log
	// entry.
	AcquireLease(ctx context.Context, mailbox, holder string, ttl time.Duration) (lease MailboxLease, ok bool, err error)
	// RenewLease extends holder's lease with token by ttl. ECONFLICT when
	// the lease is no longer holder's with that token (taken over,
	// released): the holder must stop reading at once.
	RenewLease(ctx context.Context, mailbox, holder string, token int64, ttl time.Duration) (MailboxLease, error)
	// ReleaseLease gives the mailbox up so that another replica takes it at
	// once. Releasing a lease one no longer holds does nothing.
	ReleaseLease(ctx context.Context, mailbox, holder string, token int64) error
	// Leases returns every mailbox's lease, expired and released ones too.
	Leases(ctx context.Context) ([]MailboxLease, error)
	// LeaseLog returns mailbox's changes of hands, oldest first (every
	// mailbox's when mailbox is "").
	LeaseLog(ctx context.Context, mailbox string) ([]LeaseLogEntry, error)

	// Heartbeat says replica is alive for ttl.
	Heartbeat(ctx context.Context, replica string, ttl time.Duration) error
	// LiveReplicas returns the replicas whose heartbeat has not run out,
	// sorted.
	LiveReplicas(ctx context.Context) ([]string, error)
	// Leave removes replica's heartbeat at once (a graceful stop).
	Leave(ctx context.Context, replica string) error
}

// MailboxLabel is the lease key of a checkpoint's folder: account/folder,
// as imap.MailboxConfig.Label shows it.
func MailboxLabel(account, folder string) string { return account + "/" + folder }

// ValidateLease checks the arguments of a lease call. EINVALID.
func ValidateLease(mailbox, holder string, ttl time.Duration) error {
	switch {
	case mailbox == "":
		return Invalid("mailbox", "a lease needs a mailbox")
	case holder == "":
		return Invalid("holder", "a lease needs a holder")
	case ttl <= 0:
		return Invalid("ttl", "a lease needs a positive duration, not %s", ttl)
	}
	return nil
}
