package embedded_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestCheckpointStore(t *testing.T) {
	db := open(t)
	storetest.RunCheckpointStoreTests(t, func(*testing.T) store.CheckpointStore { return db })
}

// A checkpoint is what makes a restart resume instead of re-reading a
// mailbox, so it must survive closing and reopening the file.
func TestCheckpointSurvivesReopen(t *testing.T) {
	ctx, dir := context.Background(), t.TempDir()
	db, err := embedded.Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := store.Checkpoint{Mailbox: "broker1@mail.example.com", Folder: "INBOX", UIDValidity: 3, LastUID: 77, HighestModSeq: 91}
	if err := db.SaveCheckpoint(ctx, want); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = embedded.Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Checkpoint(ctx, want.Mailbox, want.Folder)
	if err != nil {
		t.Fatal(err)
	}
	if got.UIDValidity != want.UIDValidity || got.LastUID != want.LastUID || got.HighestModSeq != want.HighestModSeq {
		t.Fatalf("after reopening: got %+v, want %+v", got, want)
	}
}

func TestLeaseStore(t *testing.T) {
	db := open(t)
	storetest.RunLeaseStoreTests(t, func(*testing.T) storetest.LeaseStore { return db })
}
