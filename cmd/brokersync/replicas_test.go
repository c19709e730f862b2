package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
)

// mailServer is the real Dovecot of the test run: its address, users and
// password (scripts/services.sh).
type mailServer struct {
	addr     string
	users    []string
	password string
}

func needMailServer(t *testing.T) mailServer {
	t.Helper()
	m := mailServer{addr: testenv.IMAPAddr(t), password: os.Getenv("BROKERSYNC_TEST_IMAP_PASSWORD"),
		users: strings.Split(os.Getenv("BROKERSYNC_TEST_IMAP_USERS"), ",")}
	if m.password == "" || m.users[0] == "" {
		t.Fatal("BROKERSYNC_TEST_IMAP_USERS and BROKERSYNC_TEST_IMAP_PASSWORD must be set with BROKERSYNC_TEST_IMAP_ADDR")
	}
	return m
}

// mailFolder is a folder of the test's own in a user's mailbox, with a
// session of the test's that appends to it, as mail arriving would.
type mailFolder struct {
	t      *testing.T
	cfg    imap.MailboxConfig
	url    string
	from   string // the client who writes
	client *store.Client

	mu   *sync.Mutex // the session's: one command at a time
	conn *imapclient.Client
	sent []string // subjects, in UID order
}

// session logs user in; it is closed at the end of the test.
func (m mailServer) session(t *testing.T, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(m.addr, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", m.addr, err)
	}
	if err := c.Login(user, m.password).Wait(); err != nil {
		c.Close()
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// folder creates a folder through the session (deleted at the end) whose
// mail comes from a new client of the desk's on cs.
func (m mailServer) folder(t *testing.T, conn *imapclient.Client, mu *sync.Mutex, user string, cs store.ClientStore, desk, broker string) *mailFolder {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	name := "bsrepl-" + hex.EncodeToString(b)
	mu.Lock()
	err := conn.Create(name, nil).Wait()
	mu.Unlock()
	if err != nil {
		t.Fatalf("create folder %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Delete(name).Wait() })
	raw := fmt.Sprintf("imap://%s:%s@%s/%s", url.PathEscape(user), url.PathEscape(m.password), m.addr, url.PathEscape(name))
	cfg, err := imap.ParseMailboxURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	f := &mailFolder{t: t, cfg: cfg, url: raw, from: "trader." + name + "@reyesgrain.example", mu: mu, conn: conn}
	f.client = &store.Client{Handle: "c-" + name, Name: "Trader " + name, Team: desk, Broker: broker,
		Emails: []store.Email{{Kind: store.Work, Address: f.from}}}
	if err := cs.CreateClient(t.Context(), f.client, "replicatest"); err != nil {
		t.Fatal(err)
	}
	return f
}

// send appends one mail from the folder's client; its subject names it.
func (f *mailFolder) send() {
	f.t.Helper()
	subject := fmt.Sprintf("Order %s-%d", f.cfg.Folder, len(f.sent)+1)
	raw := []byte(fmt.Sprintf("From: %s\r\nTo: desk@meridian.example\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@reyesgrain.example>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nSell 5 July corn.\r\n", f.from, subject, time.Now().Format(time.RFC1123Z), strings.ReplaceAll(subject, " ", "-")))
	f.mu.Lock()
	defer f.mu.Unlock()
	cmd := f.conn.Append(f.cfg.Folder, int64(len(raw)), &goimap.AppendOptions{Time: time.Now()})
	if _, err := cmd.Write(raw); err != nil {
		f.t.Errorf("append: %v", err)
		return
	}
	if err := cmd.Close(); err != nil {
		f.t.Errorf("append: %v", err)
		return
	}
	if _, err := cmd.Wait(); err != nil {
		f.t.Errorf("append to %s: %v", f.cfg.Folder, err)
		return
	}
	f.sent = append(f.sent, subject)
}

// readUpTo reports whether the folder's checkpoint in cs is at its last
// mail sent.
func (f *mailFolder) readUpTo(ctx context.Context, cs store.CheckpointStore) bool {
	cp, err := cs.Checkpoint(ctx, f.cfg.Account, f.cfg.Folder)
	return err == nil && int(cp.LastUID) == len(f.sent)
}

// A served replica killed with SIGKILL and started again reads new mail at
// once: under its lasting name (by default the host name and its HTTP
// port) it takes back the mailbox lease its killed run still holds, with a
// new token, instead of waiting for it to run out (15 s).
func TestServeRestartReadsMailAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the server")
	}
	m := needMailServer(t)
	pg := backendtest.Postgres(t)
	var mu sync.Mutex
	f := m.folder(t, m.session(t, m.users[0]), &mu, m.users[0], pg, "", "")
	f.send()
	srv := newServed(t, buildServer(t, t.TempDir()), map[string]string{
		"BROKERSYNC_LOG_LEVEL": "warn", "BROKERSYNC_DATA_DIR": t.TempDir(),
		"BROKERSYNC_POSTGRES_URL": backendtest.PostgresURL(t), "BROKERSYNC_IMAP_URL": f.url,
	})
	srv.start()
	waitFor(t, 30*time.Second, "the first mail read", func() bool { return f.readUpTo(t.Context(), pg) })
	srv.kill()
	f.send()
	srv.start()
	began := time.Now()
	waitFor(t, 30*time.Second, "the second mail read after the restart", func() bool { return f.readUpTo(t.Context(), pg) })
	took := time.Since(began)
	t.Logf("the restarted server read the new mail %v after it answered", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the restarted server read the new mail %v after it answered, want within 5 s (its killed run's lease lasts 15 s)\n%s", took, tail(srv.logPath))
	}
	log, err := pg.LeaseLog(t.Context(), f.cfg.Label())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(log); n != 2 || log[1].Action != store.LeaseTakenOver || log[1].Holder != log[0].Holder || !log[1].At.Before(log[1].PrevExpiresAt) {
		t.Errorf("lease log %+v: want an acquisition, then the same replica taking its live lease back", log)
	}
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The replica's name: BROKERSYNC_REPLICA_ID, else the host name and the
// HTTP port, the same for every run on that host and port.
func TestReplicaName(t *testing.T) {
	load := func(kv ...string) Config {
		t.Helper()
		c, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, env(t, kv...))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	host, _ := os.Hostname()
	if got := load("BROKERSYNC_HTTP_ADDR", "0.0.0.0:8080").Replica(); got != host+":8080" {
		t.Errorf("default replica name %q, want %q", got, host+":8080")
	}
	if got := load("BROKERSYNC_REPLICA_ID", "brokersync-2").Replica(); got != "brokersync-2" {
		t.Errorf("BROKERSYNC_REPLICA_ID brokersync-2 gave %q", got)
	}
	if a, b := load("BROKERSYNC_HTTP_ADDR", "127.0.0.1:0").Replica(), load("BROKERSYNC_HTTP_ADDR", "127.0.0.1:0").Replica(); a == b {
		t.Errorf("a random port gave the same name twice: %q", a)
	}
	if _, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, env(t, "BROKERSYNC_REPLICA_ID", "two words")); err == nil ||
		!strings.Contains(err.Error(), "BROKERSYNC_REPLICA_ID") {
		t.Errorf("a name with a space: %v, want an error naming BROKERSYNC_REPLICA_ID", err)
	}
}
