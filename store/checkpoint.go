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
	SaveCheckpoint(ctx context.Context, cp Checkpoint) error
}
