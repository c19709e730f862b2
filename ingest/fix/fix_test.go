package fix_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/fix"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

type stores struct {
	pgURL    string // set: FIX session state in PostgreSQL
	clients  store.ClientStore
	trades   store.TradeStore
	timeline store.TimelineStore
}

func embeddedStores(t testing.TB) stores {
	db, err := embedded.Open(context.Background(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return stores{clients: db, trades: db, timeline: db.Timeline()}
}

func realStores(t testing.TB) stores {
	pg := backendtest.Postgres(t)
	return stores{pgURL: backendtest.PostgresURL(t), clients: pg, trades: pg, timeline: backendtest.Cassandra(t)}
}

// backends runs fn on the embedded store and on PostgreSQL + Cassandra.
func backends(t *testing.T, fn func(t *testing.T, s stores)) {
	t.Run("embedded", func(t *testing.T) { fn(t, embeddedStores(t)) })
	t.Run("postgres+cassandra", func(t *testing.T) { fn(t, realStores(t)) })
}

var seq atomic.Int64

// newClient creates a client with an account number of its own.
func newClient(t testing.TB, s stores) *store.Client {
	t.Helper()
	n := seq.Add(1)
	c := &store.Client{
		Handle: fmt.Sprintf("fixclient-%d-%d", time.Now().UnixNano()%1e6, n), Name: "FIX client",
		Accounts: []string{fmt.Sprintf("ACC%d%06d", n, time.Now().UnixNano()%1e6)},
	}
	if err := s.clients.CreateClient(context.Background(), c, "U0TEST"); err != nil {
		t.Fatal(err)
	}
	return c
}

// proxy is a loopback TCP relay that a test can cut, as a network would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) relay(c net.Conn) {
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	u, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, u)
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

// cut closes every connection going through the proxy.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// orderSystem is a quickfixgo acceptor that plays the order system's drop
// copy: it checks the Logon's credentials and sends ExecutionReports.
type orderSystem struct {
	t        testing.TB
	acceptor *quickfix.Acceptor
	id       quickfix.SessionID
	addr     string
	password string
	logons   atomic.Int32
	loggedOn chan struct{}
	storeMu  sync.Mutex
	store    quickfix.MessageStore
}

type omsStoreFactory struct{ o *orderSystem }

func (f omsStoreFactory) Create(id quickfix.SessionID) (quickfix.MessageStore, error) {
	s, err := quickfix.NewMemoryStoreFactory().Create(id)
	f.o.storeMu.Lock()
	f.o.store = s
	f.o.storeMu.Unlock()
	return s, err
}

// startOrderSystem listens on a loopback port (addr "" picks one). extra
// lines go to the settings' [DEFAULT] section (TLS, for one).
func startOrderSystem(t testing.TB, sender, target, addr, password string, resetOnLogon bool, extra ...string) *orderSystem {
	t.Helper()
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	_, port, _ := net.SplitHostPort(addr)
	reset := "N"
	if resetOnLogon {
		reset = "Y"
	}
	cfg := fmt.Sprintf(`[DEFAULT]
ConnectionType=acceptor
SocketAcceptHost=127.0.0.1
SocketAcceptPort=%s
HeartBtInt=30
ResetOnLogon=%s
%s
[SESSION]
BeginString=FIX.4.4
SenderCompID=%s
TargetCompID=%s
`, port, reset, strings.Join(extra, "\n"), sender, target)
	settings, err := quickfix.ParseSettings(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	o := &orderSystem{t: t, addr: addr, password: password, loggedOn: make(chan struct{}, 100),
		id: quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: sender, TargetCompID: target}}
	a, err := quickfix.NewAcceptor(o, omsStoreFactory{o}, settings, quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	o.acceptor = a
	t.Cleanup(o.stop)
	return o
}

func (o *orderSystem) stop() {
	if o.acceptor != nil {
		o.acceptor.Stop()
		o.acceptor = nil
	}
}

func (o *orderSystem) OnCreate(quickfix.SessionID) {}
func (o *orderSystem) OnLogon(quickfix.SessionID) {
	o.logons.Add(1)
	o.loggedOn <- struct{}{}
}
func (o *orderSystem) OnLogout(quickfix.SessionID)                       {}
func (o *orderSystem) ToAdmin(*quickfix.Message, quickfix.SessionID)     {}
func (o *orderSystem) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (o *orderSystem) FromApp(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}
func (o *orderSystem) FromAdmin(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	if t, _ := m.Header.GetString(35); t != "A" || o.password == "" {
		return nil
	}
	u, _ := m.Body.GetString(553)
	p, _ := m.Body.GetString(554)
	if u != "bsync" || p != o.password {
		return quickfix.RejectLogon{Text: "invalid username or password"}
	}
	return nil
}

func (o *orderSystem) waitLogon(t testing.TB) {
	t.Helper()
	select {
	case <-o.loggedOn:
	case <-time.After(20 * time.Second):
		t.Fatal("BrokerSync did not log on")
	}
}

// er is an ExecutionReport's fields, tag to value.
type er map[quickfix.Tag]string

func (o *orderSystem) send(t testing.TB, fields er) {
	t.Helper()
	m := quickfix.NewMessage()
	m.Header.SetString(35, "8")
	for tag, v := range fields {
		if tag == 43 || tag == 122 {
			m.Header.SetString(tag, v)
			continue
		}
		m.Body.SetString(tag, v)
	}
	if err := quickfix.SendToTarget(m, o.id); err != nil {
		t.Fatal(err)
	}
}

// fill returns a trade report of n contracts of December corn for account.
func fill(account, execID string, qty, cum float64, px string, now time.Time) er {
	status := "1"
	if cum == 100 {
		status = "2"
	}
	return er{
		17: execID, 37: "ORD-" + account, 11: "CL-" + account, 1: account, 150: "F", 39: status,
		54: "1", 55: "ZC", 200: "202612", 207: "CBOT", 38: "100", 14: fmt.Sprint(cum), 32: fmt.Sprint(qty),
		31: px, 6: px, 40: "2", 44: px, 59: "1", 60: now.UTC().Format("20060102-15:04:05.000"), 151: fmt.Sprint(100 - cum),
	}
}

// brokerSync runs our side of the session against port.
type brokerSync struct {
	client  *fix.Client
	metrics *fix.Metrics
	cancel  context.CancelFunc
	done    chan error
}

func sessionSettings(t testing.TB, sender, target string, port int, dir, password string, extra ...string) *quickfix.Settings {
	t.Helper()
	cfg := fmt.Sprintf(`[DEFAULT]
ConnectionType=initiator
HeartBtInt=30
ReconnectInterval=1
SocketConnectHost=127.0.0.1
SocketConnectPort=%d
%s
[SESSION]
BeginString=FIX.4.4
SenderCompID=%s
TargetCompID=%s
Username=bsync
Password=%s
`, port, strings.Join(extra, "\n"), sender, target, password)
	settings, err := fix.LoadSettings(strings.NewReader(cfg), dir)
	if err != nil {
		t.Fatal(err)
	}
	return settings
}

func startBrokerSync(t testing.TB, s stores, sender, target string, port int, dir, password string, retryFor time.Duration) *brokerSync {
	t.Helper()
	return startBrokerSyncWith(t, s, sessionSettings(t, sender, target, port, dir, password), retryFor)
}

// startBrokerSyncWith runs the drop-copy client on settings.
func startBrokerSyncWith(t testing.TB, s stores, settings *quickfix.Settings, retryFor time.Duration) *brokerSync {
	t.Helper()
	m := fix.NewMetrics(nil)
	c, err := fix.New(fix.Options{
		Settings:    settings,
		Intake:      &ingest.Intake{Catalogue: store.DefaultCatalogue(), Clients: s.clients, Trades: s.trades, Recorder: &ingest.Recorder{Timeline: s.timeline}},
		Metrics:     m,
		RetryFor:    retryFor,
		PostgresURL: s.pgURL,
		Logger:      testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &brokerSync{client: c, metrics: m, cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- c.Run(ctx) }()
	t.Cleanup(b.stop)
	return b
}

func (b *brokerSync) stop() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
		b.cancel = nil
	}
}

// counts reads a client's timeline and statistics.
type counts struct {
	events   int
	byStatus map[string]int
	trades   int
	volume   float64
}

func read(t testing.TB, s stores, c *store.Client) counts {
	t.Helper()
	ctx := context.Background()
	got := counts{byStatus: map[string]int{}}
	q := store.EventQuery{Limit: 1000}
	for {
		page, err := s.timeline.Events(ctx, c.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got.events++
			if e.Attrs.Order != nil {
				got.byStatus[e.Attrs.Order.Status]++
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	st, err := s.trades.TradeStats(ctx, c.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got.trades, got.volume = st.Trades30d, st.Volume30d
	return got
}

// waitFor polls until cond holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func compIDs(t testing.TB) (oms, bsync string) {
	n := seq.Add(1)
	return fmt.Sprintf("OMS%d_%d", n, time.Now().UnixNano()%1e6), fmt.Sprintf("BSYNC%d_%d", n, time.Now().UnixNano()%1e6)
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	var n int
	fmt.Sscan(p, &n)
	return n
}

func testLogger() *slog.Logger {
	if os.Getenv("FIX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
