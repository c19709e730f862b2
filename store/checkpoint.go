package store

import (
	"context"
	"math"
	"time"
)

// Checkpoint is how far a mailbox folder has been ingested.
type Checkpoint struct {
	Mailbox       string // account, e.g. broker1@mail.example.com
	Folder        string // e.g. INBOX
	UIDValidity   uint32
	LastUID       uint32
	HighestModSeq uint64
	UpdatedAt     time.Time
	// Fence, when not zero, is the saver's mailbox lease token
	// (LeaseStore): the save is refused with ECONFLICT unless that lease
	// (of MailboxLabel(Mailbox, Folder)) is still held with this token. It
	// is not stored; reads return zero.
	Fence int64
}

// Validate checks a checkpoint before it is saved. EINVALID.
func (cp Checkpoint) Validate() error {
	switch {
	case cp.Mailbox == "":
		return Invalid("mailbox", "a checkpoint needs a mailbox")
	case cp.Folder == "":
		return Invalid("folder", "a checkpoint needs a folder")
	case cp.HighestModSeq > math.MaxInt64:
		return Invalid("highest modseq", "%d is beyond 2^63-1", cp.HighestModSeq)
	}
	return nil
}

// CheckpointStore keeps IMAP checkpoints. A checkpoint is saved only after
// the events of every message up to LastUID are stored.
type CheckpointStore interface {
	// Checkpoint returns the saved checkpoint. ENOTFOUND if none.
	Checkpoint(ctx context.Context, mailbox, folder string) (Checkpoint, error)
	// SaveCheckpoint saves cp unless it is older than the saved one within
	// the same UIDVALIDITY (then nothing changes). With cp.Fence set, it is
	// refused with ECONFLICT when the lease token is stale.
	SaveCheckpoint(ctx context.Context, cp Checkpoint) error
}

// StaleFence is the error of a checkpoint save whose lease token is no
// longer the mailbox's.
func StaleFence(cp Checkpoint, current int64) error {
	return Errorf(ECONFLICT, "checkpoint of %s refused: lease token %d is stale (the mailbox's is %d); another replica reads it now",
		MailboxLabel(cp.Mailbox, cp.Folder), cp.Fence, current)
}
