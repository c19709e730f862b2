package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks"
)

// A short run against an in-process server on an embedded store: the tool
// sends, redelivers, and verifies what the server stored.
func TestLoadRunVerifies(t *testing.T) {
	dir := t.TempDir()
	db, err := embedded.Open(context.Background(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := chi.NewRouter()
	webhooks.NewInbound(webhooks.InboundConfig{
		Catalogue: store.DefaultCatalogue(),
		Secret:    "s3cret", Clients: db, Trades: db, Recorder: &ingest.Recorder{Timeline: db.Timeline()},
	}).Mount(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	for _, batch := range []string{"1", "25"} {
		var out bytes.Buffer
		err := run(t.Context(), []string{"-url", srv.URL, "-secret", "s3cret", "-data-dir", dir, "-postgres-url", "", "-cassandra-hosts", "",
			"-rate", "400", "-duration", "500ms", "-batch", batch, "-clients", "3", "-redeliver", "0.2"}, &out)
		if err != nil {
			t.Fatalf("batch %s: %v\n%s", batch, err, &out)
		}
		t.Logf("batch %s:\n%s", batch, &out)
		for _, want := range []string{"events/s", "p99", "0 lost, 0 duplicated", "verified"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("batch %s: output lacks %q:\n%s", batch, want, &out)
			}
		}
	}
}

func TestLoadRunRefusesWithoutSecret(t *testing.T) {
	err := run(t.Context(), []string{"-secret", "", "-data-dir", t.TempDir()}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "BROKERSYNC_WEBHOOK_SECRET") {
		t.Errorf("run without a secret: %v", err)
	}
}
