package embedded_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/storetest"
)

func open(t *testing.T) *embedded.DB {
	t.Helper()
	db, err := embedded.Open(context.Background(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestClientStore(t *testing.T) {
	storetest.RunClientStoreTests(t, func(t *testing.T) store.ClientStore { return open(t) })
}

func TestSentimentStore(t *testing.T) {
	storetest.RunSentimentStoreTests(t, func(t *testing.T) store.SentimentStore { return open(t) })
}

// A client stored before a restart is there after it.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	db, err := embedded.Open(ctx, dir, store.DefaultCatalogue(), logger)
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain Co-op", Emails: []store.Email{{Kind: store.Work, Address: "Ops@AcmeGrain.com"}}}
	if err := db.CreateClient(ctx, c, "U1"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = embedded.Open(ctx, dir, store.DefaultCatalogue(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.ClientByEmail(ctx, "ops@acmegrain.com")
	if err != nil {
		t.Fatalf("after reopening %s: %v", filepath.Join(dir, embedded.FileName), err)
	}
	if got.ID != c.ID || got.Name != c.Name {
		t.Errorf("after reopening got %+v, want %+v", got, c)
	}
}

func TestTeamStoreContract(t *testing.T) {
	db := open(t)
	storetest.RunTeamStoreTests(t, func(*testing.T) storetest.TeamBackend { return db })
}
