package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// A FIX drop copy bursting fills while BrokerSync is killed with SIGKILL and
// restarted, on the embedded store: every fill stored once.
func TestFIXCrashLosesNothingEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test takes tens of seconds")
	}
	dir := t.TempDir()
	db, err := embedded.Open(context.Background(), dir, store.DefaultCatalogue(), backendtest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fixCrashTest(t, map[string]string{"BROKERSYNC_DATA_DIR": dir}, db, db, db.Timeline())
}

// The same on PostgreSQL and Cassandra.
func TestFIXCrashLosesNothingOnBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test takes tens of seconds")
	}
	pg, tl := backendtest.Postgres(t), backendtest.Cassandra(t)
	cas := backendtest.CassandraConfig(t)
	fixCrashTest(t, map[string]string{
		"BROKERSYNC_DATA_DIR":              t.TempDir(),
		"BROKERSYNC_POSTGRES_URL":          backendtest.PostgresURL(t),
		"BROKERSYNC_CASSANDRA_HOSTS":       strings.Join(cas.Hosts, ","),
		"BROKERSYNC_CASSANDRA_KEYSPACE":    cas.Keyspace,
		"BROKERSYNC_CASSANDRA_CONSISTENCY": cas.Consistency,
		"BROKERSYNC_CASSANDRA_REPLICATION": cas.Replication,
	}, pg, pg, tl)
}

// dropCopyAcceptor plays the order system's drop-copy acceptor.
type dropCopyAcceptor struct {
	logons chan struct{}
}

func (a *dropCopyAcceptor) OnCreate(quickfix.SessionID)                       {}
func (a *dropCopyAcceptor) OnLogon(quickfix.SessionID)                        { a.logons <- struct{}{} }
func (a *dropCopyAcceptor) OnLogout(quickfix.SessionID)                       {}
func (a *dropCopyAcceptor) ToAdmin(*quickfix.Message, quickfix.SessionID)     {}
func (a *dropCopyAcceptor) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (a *dropCopyAcceptor) FromAdmin(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}
func (a *dropCopyAcceptor) FromApp(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}

func fixCrashTest(t *testing.T, settings map[string]string, clients store.ClientStore, trades store.TradeStore, timeline store.TimelineStore) {
	ctx := context.Background()
	n := time.Now().UnixNano() % 1e9
	account := fmt.Sprintf("FIXCRASH%d", n)
	c := &store.Client{Handle: fmt.Sprintf("fix-crash-%d", n), Name: "FIX crash", Accounts: []string{account}}
	if err := clients.CreateClient(ctx, c, "U0TEST"); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	oms, bsync := fmt.Sprintf("OMS%d", n), fmt.Sprintf("BSYNC%d", n)
	acc, err := quickfix.ParseSettings(strings.NewReader(fmt.Sprintf(
		"[DEFAULT]\nConnectionType=acceptor\nSocketAcceptHost=127.0.0.1\nSocketAcceptPort=%d\nHeartBtInt=30\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=%s\nTargetCompID=%s\n", port, oms, bsync)))
	if err != nil {
		t.Fatal(err)
	}
	app := &dropCopyAcceptor{logons: make(chan struct{}, 100)}
	acceptor, err := quickfix.NewAcceptor(app, quickfix.NewMemoryStoreFactory(), acc, quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatal(err)
	}
	if err := acceptor.Start(); err != nil {
		t.Fatal(err)
	}
	defer acceptor.Stop()
	sid := quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: oms, TargetCompID: bsync}

	fixFile := filepath.Join(t.TempDir(), "dropcopy.cfg")
	if err := os.WriteFile(fixFile, []byte(fmt.Sprintf(
		"[DEFAULT]\nConnectionType=initiator\nHeartBtInt=30\nReconnectInterval=1\nSocketConnectHost=127.0.0.1\nSocketConnectPort=%d\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=%s\nTargetCompID=%s\n", port, bsync, oms)), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"BROKERSYNC_LOG_LEVEL": "warn", "BROKERSYNC_FIX_SETTINGS": fixFile}
	maps.Copy(all, settings)
	server := newServed(t, buildServer(t, t.TempDir()), all)
	waitLogon := func() {
		t.Helper()
		select {
		case <-app.logons:
		case <-time.After(time.Minute):
			t.Fatalf("BrokerSync did not log on:\n%s", tail(server.logPath))
		}
	}
	server.start()
	waitLogon()

	const fills, kills = 3000, 3
	now := time.Now().UTC().Format("20060102-15:04:05.000")
	sent := make(chan int, fills)
	go func() {
		for i := range fills {
			m := quickfix.NewMessage()
			m.Header.SetString(35, "8")
			for tag, v := range map[quickfix.Tag]string{
				17: fmt.Sprintf("%s-X%d", account, i), 37: fmt.Sprintf("O%d", i), 1: account, 150: "F", 39: "2",
				54: "1", 55: "ZC", 200: "202612", 38: "1", 14: "1", 32: "1", 31: "452.25", 6: "452.25", 60: now,
			} {
				m.Body.SetString(tag, v)
			}
			if err := quickfix.SendToTarget(m, sid); err != nil {
				t.Error(err)
				return
			}
			sent <- i
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond) // a burst, not one write
			}
		}
		close(sent)
	}()
	for k := range kills {
		// Kill while reports are arriving: after a random share of the burst.
		target := (k*fills)/kills + rand.IntN(fills/kills/2)
		for i := range sent {
			if i >= target {
				break
			}
		}
		server.kill()
		server.start()
		waitLogon()
	}
	for range sent {
	}
	count := func() (int, float64, int) {
		st, err := trades.TradeStats(ctx, c.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		// Orders only: the first fill also makes the client active, by rule.
		q := store.EventQuery{Limit: 1000, Kinds: []store.Kind{store.KindOrder}}
		for {
			page, err := timeline.Events(ctx, c.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			events += len(page.Events)
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		return st.Trades30d, st.Volume30d, events
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		tr, _, _ := count()
		if tr >= fills {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d fills stored after the burst:\n%s", tr, fills, tail(server.logPath))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	tr, vol, events := count()
	t.Logf("%d fills sent, %d kills: %d trades, %v contracts, %d events", fills, kills, tr, vol, events)
	if tr != fills || vol != fills || events != fills {
		t.Fatalf("lost or doubled: %d trades, %v contracts, %d events; want %d each", tr, vol, events, fills)
	}
}
