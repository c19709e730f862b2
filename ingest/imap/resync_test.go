package imap_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest/imap"
)

// A folder deleted and recreated with the same mail gets a new UIDVALIDITY
// and new UIDs; the running ingester reads it all again and the timeline
// gets nothing twice, including mail without a Message-ID.
func TestUIDValidityChangeDuplicatesNothing(t *testing.T) {
	d := needDovecot(t)
	forEachBackend(t, func(t *testing.T, b *backend) {
		u := uniq()
		addr := "tom." + u + "@reyesgrain.example"
		client := newClient(t, b.clients, addr)
		c := d.login(t, d.users[0])
		folder := d.folder(t, c)
		var mails [][]byte
		for i := range 6 {
			l := letter{id: fmt.Sprintf("v%d-%s@reyesgrain.example", i, u), from: addr, to: []string{"desk@meridian.example"},
				subject: fmt.Sprintf("Hedge question %d", i), body: "What does a bull call spread cost me?"}
			if i == 2 {
				l.id = ""
			}
			if i == 4 {
				l.attach = "statement.pdf"
			}
			mails = append(mails, l.raw())
		}
		appendMail(t, c, folder, mails)
		cfg := d.mailbox(t, d.users[0], folder, "")
		in, reg := newIngester(t, b, cfg, func(o *imap.Options) { o.PollInterval = time.Second })
		runInBackground(t, in)
		eventually(t, 15*time.Second, "first ingest never finished", func() bool { return checkpoint(t, b, cfg).LastUID == 6 })
		before := eventIDs(t, b, client.ID)
		v1 := checkpoint(t, b, cfg).UIDValidity

		if err := c.Delete(folder).Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Create(folder, nil).Wait(); err != nil {
			t.Fatal(err)
		}
		reversed := slices.Clone(mails)
		slices.Reverse(reversed)
		newMail := letter{id: "new-" + u + "@reyesgrain.example", from: addr, to: []string{"desk@meridian.example"}, subject: "One more", body: "And soybeans?"}
		appendMail(t, c, folder, append(reversed, newMail.raw()))
		v2 := uidValidity(t, c, folder)
		if v2 == v1 {
			t.Fatalf("recreating the folder kept UIDVALIDITY %d; the test needs a change", v1)
		}

		eventually(t, 20*time.Second, "the recreated folder was never ingested", func() bool {
			cp := checkpoint(t, b, cfg)
			return cp.UIDValidity == v2 && cp.LastUID == 7
		})
		after := eventIDs(t, b, client.ID)
		if len(after) != 7 || !isSubset(before, after) {
			t.Errorf("events before: %d, after the resync: %d (want the same 6 plus 1 new)", len(before), len(after))
		}
		t.Logf("%s: sessions restarted %v times", b.name, metric(t, reg, "brokersync_imap_reconnects_total"))
	})
}

func eventIDs(t testing.TB, b *backend, clientID uuid.UUID) []uuid.UUID {
	var ids []uuid.UUID
	for _, e := range timeline(t, b.timeline, clientID) {
		ids = append(ids, e.ID)
	}
	return ids
}

func isSubset(small, big []uuid.UUID) bool {
	for _, id := range small {
		if !slices.Contains(big, id) {
			return false
		}
	}
	return true
}

// proxy sits between the ingester and Dovecot: it counts what the server
// sends and can cut every connection, as a network failure would.
type proxy struct {
	ln         net.Listener
	target     string
	mu         sync.Mutex
	conns      []net.Conn
	fromServer atomic.Int64
}

func startProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(countingWriter{client, &p.fromServer}, server); client.Close() }()
		}
	}()
	return p
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A lost connection is retried, and mail that arrived meanwhile is read.
func TestReconnectsAfterConnectionLoss(t *testing.T) {
	d := needDovecot(t)
	b := openEmbedded(t, t.TempDir())
	u := uniq()
	addr := "tom." + u + "@reyesgrain.example"
	client := newClient(t, b.clients, addr)
	c := d.login(t, d.users[0])
	folder := d.folder(t, c)
	p := startProxy(t, d.addr)
	cfg := d.mailbox(t, d.users[0], folder, "")
	cfg.Addr = p.addr()
	in, reg := newIngester(t, b, cfg, nil)
	runInBackground(t, in)

	appendMail(t, c, folder, [][]byte{letter{id: "r1-" + u + "@x", from: addr, to: []string{"desk@meridian.example"}, subject: "First", body: "one"}.raw()})
	eventually(t, 10*time.Second, "first mail never arrived", func() bool { return len(timeline(t, b.timeline, client.ID)) == 1 })
	p.cut()
	appendMail(t, c, folder, [][]byte{letter{id: "r2-" + u + "@x", from: addr, to: []string{"desk@meridian.example"}, subject: "Second", body: "two"}.raw()})
	eventually(t, 10*time.Second, "mail after the cut never arrived", func() bool { return len(timeline(t, b.timeline, client.ID)) == 2 })
	if n := metric(t, reg, "brokersync_imap_reconnects_total"); n < 1 {
		t.Errorf("reconnects_total = %v, want at least 1", n)
	}
}

// A message over the size limit is skipped without being downloaded, and
// the checkpoint moves past it.
func TestOversizedMailSkippedUnread(t *testing.T) {
	d := needDovecot(t)
	b := openEmbedded(t, t.TempDir())
	u := uniq()
	addr := "tom." + u + "@reyesgrain.example"
	client := newClient(t, b.clients, addr)
	c := d.login(t, d.users[0])
	folder := d.folder(t, c)
	mk := func(n, pad int) []byte {
		return letter{id: fmt.Sprintf("s%d-%s@x", n, u), from: addr, to: []string{"desk@meridian.example"},
			subject: fmt.Sprintf("Statement %d", n), body: "Monthly statement attached.", padBytes: pad}.raw()
	}
	appendMail(t, c, folder, [][]byte{mk(1, 0), mk(2, 4<<20), mk(3, 0)})
	p := startProxy(t, d.addr)
	cfg := d.mailbox(t, d.users[0], folder, "")
	cfg.Addr = p.addr()
	in, reg := newIngester(t, b, cfg, func(o *imap.Options) { o.MaxSize = 1 << 20 })
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(timeline(t, b.timeline, client.ID)); n != 2 {
		t.Errorf("%d events, want the 2 small mails", n)
	}
	if got := metric(t, reg, "brokersync_imap_skipped_total", "reason", "too_large"); got != 1 {
		t.Errorf("skipped_total{reason=too_large} = %v, want 1", got)
	}
	if cp := checkpoint(t, b, cfg); cp.LastUID != 3 {
		t.Errorf("checkpoint at UID %d, want 3", cp.LastUID)
	}
	if n := p.fromServer.Load(); n > 1<<20 {
		t.Errorf("the server sent %d bytes: the 4 MiB mail was downloaded", n)
	}
}

// Without IDLE (idle=off, as for servers or proxies that drop idle
// connections) the folder is polled.
func TestPollsWithoutIdle(t *testing.T) {
	d := needDovecot(t)
	b := openEmbedded(t, t.TempDir())
	u := uniq()
	addr := "tom." + u + "@reyesgrain.example"
	client := newClient(t, b.clients, addr)
	c := d.login(t, d.users[0])
	folder := d.folder(t, c)
	in, _ := newIngester(t, b, d.mailbox(t, d.users[0], folder, "idle=off"), func(o *imap.Options) { o.PollInterval = 300 * time.Millisecond })
	runInBackground(t, in)
	time.Sleep(500 * time.Millisecond) // let the first pass find nothing
	appendMail(t, c, folder, [][]byte{letter{id: "p1-" + u + "@x", from: addr, to: []string{"desk@meridian.example"}, subject: "Polled", body: "hi"}.raw()})
	eventually(t, 10*time.Second, "polled mail never arrived", func() bool { return len(timeline(t, b.timeline, client.ID)) == 1 })
}
