package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// rebuild-stats gives back statistics that were lost, from the timeline,
// the same on every run, and resumes after a handle.
func TestRebuildStatsCommand(t *testing.T) {
	getenv := env(t)
	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.csv")
	if err := os.WriteFile(clients, []byte(goodCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, getenv, "", "import", "clients", "--team", "grain-desk", "--broker", "U0JANE", clients); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	year := at.Year()%10 + 1
	orders := filepath.Join(dir, "orders.csv")
	csv := "id,client,status,side,contract,quantity,last_qty,last_px,time\n" +
		fmt.Sprintf("E-1,acme-grain,filled,buy,CLZ%d,2,2,70,%s\n", year, at.Format(time.RFC3339)) +
		fmt.Sprintf("E-2,acme-grain,partially_filled,sell,CLZ%d,5,1,71.5,%s\n", year, at.Add(time.Hour).Format(time.RFC3339))
	if err := os.WriteFile(orders, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, getenv, "", "import", "orders", orders); err != nil {
		t.Fatalf("import orders: %q %v", out, err)
	}
	const want = 2*70*1000 + 1*71.5*1000
	notional := func(wipe bool) float64 {
		t.Helper()
		db, err := embedded.Open(t.Context(), getenv("BROKERSYNC_DATA_DIR"), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		c, err := db.ClientByHandle(t.Context(), "acme-grain")
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.TradeStats(t.Context(), c.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if wipe {
			if err := db.ReplaceClientStats(t.Context(), c.ID, store.ClientCounts{}); err != nil {
				t.Fatal(err)
			}
		}
		return st.Notional30d
	}
	if got := notional(true); got != want {
		t.Fatalf("notional as imported = %v, want %v", got, want)
	}
	if got := notional(false); got != 0 {
		t.Fatalf("notional after wiping = %v, want 0", got)
	}
	for run := range 2 {
		out, err := runCmd(t, getenv, "", "rebuild-stats")
		if err != nil || !strings.HasPrefix(out, "rebuilt the statistics of 2 clients in ") {
			t.Fatalf("run %d: %q %v", run+1, out, err)
		}
		if got := notional(false); got != want {
			t.Errorf("run %d: notional = %v, want %v", run+1, got, want)
		}
	}
	if out, err := runCmd(t, getenv, "", "rebuild-stats", "--after", "acme-grain"); err != nil || !strings.HasPrefix(out, "rebuilt the statistics of 1 client in ") {
		t.Errorf("--after acme-grain: %q %v", out, err)
	}
	if _, err := runCmd(t, getenv, "", "rebuild-stats", "everything"); err == nil || exitCode(err) != 2 {
		t.Errorf("an unknown argument: %v, want a usage error", err)
	}
}
