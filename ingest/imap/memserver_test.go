package imap_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/store"
)

// memStores are in-memory stand-ins for the client, timeline and checkpoint
// stores, for tests about IMAP and matching rather than storage.
type memStores struct {
	mu      sync.Mutex
	clients map[string]uuid.UUID
	events  map[uuid.UUID]*store.Event
	cps     map[string]store.Checkpoint
}

func newMemStores(clients map[string]uuid.UUID) *memStores {
	return &memStores{clients: clients, events: map[uuid.UUID]*store.Event{}, cps: map[string]store.Checkpoint{}}
}

func (m *memStores) ClientByEmail(_ context.Context, email string) (*store.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.clients[strings.ToLower(email)]; ok {
		return &store.Client{ID: id}, nil
	}
	return nil, store.Errorf(store.ENOTFOUND, "no client")
}

func (m *memStores) Record(_ context.Context, events ...*store.Event) error {
	for _, e := range events {
		if err := e.Prepare(); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range events {
		m.events[e.ID] = e
	}
	return nil
}

func (m *memStores) Checkpoint(_ context.Context, mailbox, folder string) (store.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.cps[mailbox+"\x00"+folder]
	if !ok {
		return cp, store.Errorf(store.ENOTFOUND, "no checkpoint")
	}
	return cp, nil
}

func (m *memStores) SaveCheckpoint(_ context.Context, cp store.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cps[cp.Mailbox+"\x00"+cp.Folder] = cp
	return nil
}

func (m *memStores) eventsOf(id uuid.UUID) []*store.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*store.Event
	for _, e := range m.events {
		if e.ClientID == id {
			out = append(out, e)
		}
	}
	return out
}

// memServer is go-imap's in-memory IMAP server with one user, "anna".
type memServer struct {
	addr string
	user *imapmemserver.User
}

// startMemServer serves plaintext, STARTTLS (when tlsConf is set and not
// implicit) or implicit TLS.
func startMemServer(t *testing.T, tlsConf *tls.Config, implicit bool, debug *lockedWriter) *memServer {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("anna", "s3cret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         goimap.CapSet{goimap.CapIMAP4rev1: {}},
		InsecureAuth: tlsConf == nil || implicit,
		Logger:       log.New(io.Discard, "", 0), // refused handshakes are expected here
	}
	if !implicit {
		opts.TLSConfig = tlsConf
	}
	if debug != nil {
		opts.DebugWriter = debug
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, tlsConf)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &memServer{addr: ln.Addr().String(), user: user}
}

// lockedWriter records what the server says and hears.
type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (s *memServer) append(t *testing.T, raw []byte) {
	t.Helper()
	if _, err := s.user.Append("INBOX", bytes.NewReader(raw), &goimap.AppendOptions{Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and localhost, and
// a client configuration that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imap.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost", "imap.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func memIngester(t *testing.T, srv *memServer, rawURL string, st *memStores, tune func(*imap.Options)) *imap.Ingester {
	t.Helper()
	cfg, err := imap.ParseMailboxURL(strings.ReplaceAll(rawURL, "ADDR", srv.addr))
	if err != nil {
		t.Fatal(err)
	}
	opts := imap.Options{Mailbox: cfg, Clients: st, Recorder: st, Checkpoints: st, Logger: quietLogger(),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	if tune != nil {
		tune(&opts)
	}
	in, err := imap.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestTLSModes(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	tom := uuid.New()
	mail := letter{id: "tls@x", from: "tom@reyesgrain.example", to: []string{"anna@meridian.example"}, subject: "Over TLS", body: "hi"}.raw()

	tests := []struct {
		name     string
		implicit bool
		url      string
		security imap.Security // forced: the test server is on loopback
		trust    *tls.Config
		wantErr  string
	}{
		{"implicit TLS", true, "imaps://anna:s3cret@ADDR/", imap.TLS, clientTLS, ""},
		{"STARTTLS", false, "imap://anna:s3cret@ADDR/", imap.StartTLS, clientTLS, ""},
		{"implicit TLS, untrusted certificate", true, "imaps://anna:s3cret@ADDR/", imap.TLS, nil, "certificate"},
		{"STARTTLS, untrusted certificate", false, "imap://anna:s3cret@ADDR/", imap.StartTLS, nil, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMemServer(t, serverTLS, tc.implicit, nil)
			srv.append(t, mail)
			st := newMemStores(map[string]uuid.UUID{"tom@reyesgrain.example": tom})
			in := memIngester(t, srv, tc.url, st, func(o *imap.Options) {
				o.Mailbox.Security = tc.security
				o.TLSConfig = tc.trust
			})
			err := in.Sync(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Sync: %v, want an error about %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(st.eventsOf(tom)); n != 1 {
				t.Fatalf("%d events, want 1", n)
			}
		})
	}
}

// imap:// to a server without STARTTLS fails before the password is sent.
func TestStartTLSRequired(t *testing.T) {
	var wire lockedWriter
	srv := startMemServer(t, nil, false, &wire)
	st := newMemStores(nil)
	in := memIngester(t, srv, "imap://anna:s3cret@ADDR/", st, func(o *imap.Options) { o.Mailbox.Security = imap.StartTLS })
	err := in.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Sync: %v, want a STARTTLS error", err)
	}
	if strings.Contains(wire.String(), "s3cret") {
		t.Fatalf("the password went over the wire in the clear:\n%s", wire.String())
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	srv := startMemServer(t, nil, false, nil)
	st := newMemStores(nil)
	in := memIngester(t, srv, "imap://anna:s3cret@ADDR/", st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	time.Sleep(200 * time.Millisecond) // idling by now
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// Wrong password, missing folder: Run keeps retrying with backoff and
// stays stoppable rather than returning (which would stop the server).
func TestRunRetriesFailures(t *testing.T) {
	srv := startMemServer(t, nil, false, nil)
	for _, u := range []string{"imap://anna:wrong@ADDR/", "imap://anna:s3cret@ADDR/NoSuchFolder"} {
		reg := prometheus.NewRegistry()
		in := memIngester(t, srv, u, newMemStores(nil), func(o *imap.Options) {
			o.Logger = slog.New(slog.DiscardHandler)
			o.Metrics = imap.NewMetrics(reg)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := in.Run(ctx)
		cancel()
		if err != nil {
			t.Errorf("%s: Run returned %v, want nil once ctx ends", u, err)
		}
		// Backoff from 10ms doubling to 50ms, with jitter: 5 to 20 tries.
		if n := metric(t, reg, "brokersync_imap_reconnects_total"); n < 3 || n > 30 {
			t.Errorf("%s: %v retries in 300ms, want a handful", u, n)
		}
	}
}
