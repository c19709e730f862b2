package storetest

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunCheckpointStoreTests runs the IMAP checkpoint contract against one
// backend. newStore is called once per subtest and may hand out the same
// store each time: subtests use their own random mailbox names. The suite
// does not close the store.
func RunCheckpointStoreTests(t *testing.T, newStore func(t *testing.T) store.CheckpointStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.CheckpointStore)
	}{
		{"MissingIsNotFound", testCheckpointMissing},
		{"RoundTripsExtremes", testCheckpointExtremes},
		{"AdvancesAndKeepsFoldersApart", testCheckpointAdvances},
		{"NeverMovesBackwards", testCheckpointNeverBackwards},
		{"NewUIDValidityResets", testCheckpointUIDValidity},
		{"ConcurrentSavesKeepTheFurthest", testCheckpointConcurrent},
		{"RejectsInvalid", testCheckpointInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func checkpointMailbox() string { return "storetest-" + uuid.NewString() + "@mail.example.com" }

func saveCheckpoint(t *testing.T, s store.CheckpointStore, cp store.Checkpoint) {
	t.Helper()
	if err := s.SaveCheckpoint(context.Background(), cp); err != nil {
		t.Fatalf("SaveCheckpoint(%+v): %v", cp, err)
	}
}

func loadCheckpoint(t *testing.T, s store.CheckpointStore, mailbox, folder string) store.Checkpoint {
	t.Helper()
	cp, err := s.Checkpoint(context.Background(), mailbox, folder)
	if err != nil {
		t.Fatalf("Checkpoint(%s, %s): %v", mailbox, folder, err)
	}
	return cp
}

// sameCheckpointPosition compares what the ingester resumes from, not UpdatedAt.
func sameCheckpointPosition(a, b store.Checkpoint) bool {
	return a.Mailbox == b.Mailbox && a.Folder == b.Folder && a.UIDValidity == b.UIDValidity &&
		a.LastUID == b.LastUID && a.HighestModSeq == b.HighestModSeq
}

func testCheckpointMissing(t *testing.T, s store.CheckpointStore) {
	_, err := s.Checkpoint(context.Background(), checkpointMailbox(), "INBOX")
	if store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("Checkpoint of a new mailbox: got %v, want ENOTFOUND", err)
	}
}

func testCheckpointExtremes(t *testing.T, s store.CheckpointStore) {
	mb := checkpointMailbox()
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	// The largest values IMAP allows: 32-bit UIDs, 63-bit mod-sequences
	// (RFC 7162), and a folder name with non-ASCII letters.
	want := store.Checkpoint{Mailbox: mb, Folder: "Archiv/Geschäft", UIDValidity: math.MaxUint32,
		LastUID: math.MaxUint32, HighestModSeq: math.MaxInt64, UpdatedAt: at}
	saveCheckpoint(t, s, want)
	got := loadCheckpoint(t, s, mb, want.Folder)
	if !sameCheckpointPosition(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !got.UpdatedAt.Equal(at) {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, at)
	}
}

func testCheckpointAdvances(t *testing.T, s store.CheckpointStore) {
	mb := checkpointMailbox()
	before := time.Now().Add(-time.Second)
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 7, LastUID: 10})
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "Sent", UIDValidity: 9, LastUID: 3, HighestModSeq: 44})
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 7, LastUID: 250, HighestModSeq: 900})

	inbox := loadCheckpoint(t, s, mb, "INBOX")
	if want := (store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 7, LastUID: 250, HighestModSeq: 900}); !sameCheckpointPosition(inbox, want) {
		t.Errorf("INBOX: got %+v, want %+v", inbox, want)
	}
	if inbox.UpdatedAt.Before(before) {
		t.Errorf("UpdatedAt %v was not set by the store", inbox.UpdatedAt)
	}
	sent := loadCheckpoint(t, s, mb, "Sent")
	if want := (store.Checkpoint{Mailbox: mb, Folder: "Sent", UIDValidity: 9, LastUID: 3, HighestModSeq: 44}); !sameCheckpointPosition(sent, want) {
		t.Errorf("Sent: got %+v, want %+v", sent, want)
	}
	if _, err := s.Checkpoint(context.Background(), mb, "Drafts"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("another folder of the same mailbox: got %v, want ENOTFOUND", err)
	}
	if _, err := s.Checkpoint(context.Background(), checkpointMailbox(), "INBOX"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("the same folder of another mailbox: got %v, want ENOTFOUND", err)
	}
}

func testCheckpointNeverBackwards(t *testing.T, s store.CheckpointStore) {
	mb := checkpointMailbox()
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 5, LastUID: 100, HighestModSeq: 10})
	// A slower replica reports an older position of the same numbering.
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 5, LastUID: 40, HighestModSeq: 3})
	if got := loadCheckpoint(t, s, mb, "INBOX"); got.LastUID != 100 || got.HighestModSeq != 10 {
		t.Fatalf("after saving an older position: LastUID %d modseq %d, want 100 and 10", got.LastUID, got.HighestModSeq)
	}
	// The same UID with a newer mod-sequence (flags changed) is progress.
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 5, LastUID: 100, HighestModSeq: 12})
	if got := loadCheckpoint(t, s, mb, "INBOX"); got.HighestModSeq != 12 {
		t.Fatalf("HighestModSeq = %d, want 12", got.HighestModSeq)
	}
}

func testCheckpointUIDValidity(t *testing.T, s store.CheckpointStore) {
	mb := checkpointMailbox()
	saveCheckpoint(t, s, store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 5, LastUID: 100, HighestModSeq: 80})
	// The folder was recreated: the new numbering starts low again.
	want := store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 6, LastUID: 2, HighestModSeq: 4}
	saveCheckpoint(t, s, want)
	if got := loadCheckpoint(t, s, mb, "INBOX"); !sameCheckpointPosition(got, want) {
		t.Fatalf("after a UIDVALIDITY change: got %+v, want %+v", got, want)
	}
}

func testCheckpointConcurrent(t *testing.T, s store.CheckpointStore) {
	mb := checkpointMailbox()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			errs <- s.SaveCheckpoint(context.Background(), store.Checkpoint{Mailbox: mb, Folder: "INBOX", UIDValidity: 1, LastUID: uint32(i + 1)})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent SaveCheckpoint: %v", err)
		}
	}
	if got := loadCheckpoint(t, s, mb, "INBOX"); got.LastUID != 40 {
		t.Fatalf("after 40 concurrent saves LastUID = %d, want 40", got.LastUID)
	}
}

func testCheckpointInvalid(t *testing.T, s store.CheckpointStore) {
	mb := checkpointMailbox()
	for _, cp := range []store.Checkpoint{
		{Folder: "INBOX", UIDValidity: 1, LastUID: 1},
		{Mailbox: mb, UIDValidity: 1, LastUID: 1},
		{Mailbox: mb, Folder: "INBOX", UIDValidity: 1, LastUID: 1, HighestModSeq: math.MaxInt64 + 1},
	} {
		if err := s.SaveCheckpoint(context.Background(), cp); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("SaveCheckpoint(%+v): got %v, want EINVALID", cp, err)
		}
	}
	if _, err := s.Checkpoint(context.Background(), mb, "INBOX"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("an invalid checkpoint was stored: %v", err)
	}
}
