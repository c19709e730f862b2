package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// serve sweeps for milestones as it starts: an anniversary two days ahead
// is raised for the client's broker and put on the timeline; serve started
// again raises nothing more.
func TestServeRaisesMilestonesOnce(t *testing.T) {
	dir := t.TempDir()
	db, err := embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	soon := store.DateOf(time.Now().UTC().AddDate(0, 0, 2))
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain Co-op", Broker: "U0JANE", Team: "grain-desk",
		Onboarded: reminders.Anniversary(soon, soon.Year-3)}
	if err := db.CreateClient(t.Context(), c, "U0JANE"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for range 2 {
		addr := freeAddr(t)
		getenv := env(t, "BROKERSYNC_DATA_DIR", dir, "BROKERSYNC_HTTP_ADDR", addr)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
		}
		time.Sleep(time.Second) // the first sweep runs at start
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}
	}

	db, err = embedded.Open(t.Context(), dir, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.ListReminders(t.Context(), store.ReminderFilter{ClientID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Source != reminders.SourceMilestone || !strings.Contains(rs[0].Text, "3rd anniversary as a client") {
		t.Fatalf("reminders %+v; want one anniversary", rs)
	}
	page, err := db.Timeline().Events(t.Context(), c.ID, store.EventQuery{Kinds: []store.Kind{store.KindEvent}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range page.Events {
		if e.Source == store.SourceMilestone && e.Attrs.Signal() == store.SignalMilestone {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d milestone events on the timeline; want 1: %+v", n, page.Events)
	}
}
