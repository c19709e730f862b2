package fix_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/fix"
	"github.com/brokersync/brokersync/store"
)

// check fix logs on, says which report is waiting and for which client, and
// stores nothing; serve then stores what check saw, once.
func TestCheckStoresNothing(t *testing.T) {
	s := embeddedStores(t)
	c := newClient(t, s)
	acct := c.Accounts[0]
	oms, bs := compIDs(t)
	o := startOrderSystem(t, oms, bs, "", "s3cret", false)
	dir := t.TempDir()
	now := time.Now().UTC()
	for i := range 3 {
		o.send(t, fill(acct, fmt.Sprintf("%s-C-%d", acct, i), 1, float64(i+1), "452", now))
	}
	var out bytes.Buffer
	err := fix.Check(context.Background(), fix.Options{
		Settings: sessionSettings(t, bs, oms, port(o.addr), dir, "s3cret"),
		Intake:   &ingest.Intake{Catalogue: store.DefaultCatalogue(), Clients: s.clients, Trades: s.trades},
		Logger:   testLogger(),
	}, &out, 20*time.Second)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "logged on") || !strings.Contains(out.String(), "would be stored for "+c.Handle) {
		t.Errorf("check said:\n%s", out.String())
	}
	if got := read(t, s, c); got.events != 0 || got.trades != 0 {
		t.Fatalf("check stored %d events, %d trades", got.events, got.trades)
	}
	startBrokerSync(t, s, bs, oms, port(o.addr), dir, "s3cret", 0)
	waitFor(t, "3 fills", func() bool { return read(t, s, c).trades == 3 })
	time.Sleep(300 * time.Millisecond)
	if got := read(t, s, c); got.events != 3 || got.trades != 3 {
		t.Fatalf("%d events, %d trades after check then serve; want 3", got.events, got.trades)
	}
}

// Wrong credentials: check fails with the order system's reason.
func TestCheckWrongPassword(t *testing.T) {
	s := embeddedStores(t)
	oms, bs := compIDs(t)
	o := startOrderSystem(t, oms, bs, "", "s3cret", false)
	var out bytes.Buffer
	err := fix.Check(context.Background(), fix.Options{
		Settings: sessionSettings(t, bs, oms, port(o.addr), t.TempDir(), "wrong"),
		Intake:   &ingest.Intake{Catalogue: store.DefaultCatalogue(), Clients: s.clients, Trades: s.trades},
		Logger:   testLogger(),
	}, &out, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "invalid username or password") {
		t.Fatalf("check with a wrong password: %v\n%s", err, out.String())
	}
}

// Nothing waiting, and nobody listening.
func TestCheckQuietAndUnreachable(t *testing.T) {
	s := embeddedStores(t)
	oms, bs := compIDs(t)
	o := startOrderSystem(t, oms, bs, "", "", false)
	var out bytes.Buffer
	in := &ingest.Intake{Catalogue: store.DefaultCatalogue(), Clients: s.clients, Trades: s.trades}
	if err := fix.Check(context.Background(), fix.Options{Settings: sessionSettings(t, bs, oms, port(o.addr), t.TempDir(), ""), Intake: in}, &out, 20*time.Second); err != nil {
		t.Fatalf("check: %v", err)
	}
	if !strings.Contains(out.String(), "no ExecutionReport waiting") {
		t.Errorf("check said:\n%s", out.String())
	}
	o.stop()
	err := fix.Check(context.Background(), fix.Options{Settings: sessionSettings(t, bs, oms, port(o.addr), t.TempDir(), ""), Intake: in}, &out, 3*time.Second)
	if err == nil || !strings.Contains(err.Error(), "no logon within") {
		t.Fatalf("check of a closed port: %v", err)
	}
}
