package embedded_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestKeyStore(t *testing.T) {
	db := open(t)
	storetest.RunKeyStoreTests(t, func(*testing.T) store.KeyStore { return db })
}

// The link key outlives a restart, so links made before it still open.
func TestKeySurvivesReopen(t *testing.T) {
	ctx, dir := context.Background(), t.TempDir()
	db, err := embedded.Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.Key(ctx, "web-links", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = embedded.Open(ctx, dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	again, err := db.Key(ctx, "web-links", []byte("second"))
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("after reopening: %q %v, want %q", again, err, first)
	}
}
