package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/brokersync/brokersync/store"
)

// session is one connection with the folder selected read-only.
type session struct {
	in        *Ingester
	c         *imapclient.Client
	wake      chan struct{} // the server announced new mail (EXISTS)
	idle      bool
	condstore bool
	cp        store.Checkpoint // saved position, owned by the pass in progress
	fence     int64            // the mailbox lease token checkpoint saves carry; 0 without a lease
	// modseq is a HIGHESTMODSEQ of the folder all of whose messages are
	// stored once the current pass ends; see examine and list.
	modseq uint64
}

// errConnClosed reports a connection the server closed (BYE, network).
var errConnClosed = errors.New("connection closed")

// commandTimeout bounds one command (EXAMINE, a FETCH batch, ending IDLE).
// go-imap waits for the start of a reply without a deadline, so a server
// that stops answering on a live TCP connection would otherwise hold the
// ingester forever; dead peers are caught sooner by TCP keepalive.
const commandTimeout = 2 * time.Minute

// guard runs fn, closing the connection if it has not returned within
// commandTimeout, which makes fn fail and the session reconnect.
func (s *session) guard(fn func() error) error {
	t := time.AfterFunc(commandTimeout, func() {
		s.in.log.Warn("IMAP server not answering; closing the connection", slog.Duration("after", commandTimeout))
		s.c.Close()
	})
	defer t.Stop()
	return fn()
}

// session connects, examines the folder and ingests: once, or, with follow,
// until ctx ends or the connection fails. progressed reports that a pass
// completed, which resets Run's backoff.
func (in *Ingester) session(ctx context.Context, follow bool, fence int64) (progressed bool, err error) {
	wake := make(chan struct{}, 1)
	c, release, err := in.connect(ctx, wake)
	if err != nil {
		return false, err
	}
	defer release()
	in.signedIn()

	caps := c.Caps()
	s := &session{
		in:        in,
		c:         c,
		wake:      wake,
		idle:      caps.Has(goimap.CapIdle) && !in.cfg.NoIdle,
		condstore: caps.Has(goimap.CapCondStore),
		fence:     fence,
	}
	if err := s.loadCheckpoint(ctx); err != nil {
		return false, err
	}
	label := in.cfg.Label()
	in.metrics.connected.WithLabelValues(label).Set(1)
	defer in.metrics.connected.WithLabelValues(label).Set(0)
	in.log.Debug("connected", slog.Bool("idle", s.idle), slog.Bool("condstore", s.condstore))

	for {
		if err := s.pass(ctx); err != nil {
			return progressed, err
		}
		progressed = true
		if !follow {
			// A polite goodbye; the folder was only examined, so there is
			// nothing to expunge or save on the server side.
			return true, s.guard(c.Logout().Wait)
		}
		if err := s.waitForMail(ctx); err != nil {
			return true, err
		}
	}
}

func (s *session) loadCheckpoint(ctx context.Context) error {
	in := s.in
	cp, err := in.opts.Checkpoints.Checkpoint(ctx, in.cfg.Account, in.cfg.Folder)
	switch store.ErrorCode(err) {
	case "":
	case store.ENOTFOUND:
		cp = store.Checkpoint{Mailbox: in.cfg.Account, Folder: in.cfg.Folder}
	default:
		return fmt.Errorf("load checkpoint: %w", err)
	}
	cp.Fence = s.fence
	s.cp = cp
	return nil
}

// examine (re)opens the folder read-only and reconciles the checkpoint
// with it. It runs before every pass, not once per connection: a folder
// deleted and recreated under an open session keeps serving the old one on
// some servers (Dovecot), and only a fresh EXAMINE shows the new
// UIDVALIDITY. It reports whether the folder may hold mail after the
// checkpoint.
func (s *session) examine() (news bool, err error) {
	in := s.in
	// EXAMINE, never SELECT: the server must not clear \Recent or let a
	// stray command change anything in the folder.
	var sel *goimap.SelectData
	err = s.guard(func() (err error) {
		sel, err = s.c.Select(in.cfg.Folder, &goimap.SelectOptions{ReadOnly: true, CondStore: s.condstore}).Wait()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("examine %s: %w", in.cfg.Folder, err)
	}
	if s.cp.UIDValidity != sel.UIDValidity {
		if s.cp.UIDValidity != 0 {
			// The server renumbered the folder (recreated, restored,
			// migrated): the old UIDs mean nothing. Read it all again;
			// event ids come from Message-IDs, so this rewrites the same
			// events rather than adding new ones.
			in.log.Warn("UIDVALIDITY changed; reading the whole folder again",
				slog.Uint64("old", uint64(s.cp.UIDValidity)), slog.Uint64("new", uint64(sel.UIDValidity)),
				slog.Uint64("old_last_uid", uint64(s.cp.LastUID)))
		}
		s.cp = store.Checkpoint{Mailbox: in.cfg.Account, Folder: in.cfg.Folder, UIDValidity: sel.UIDValidity, Fence: s.fence}
	}
	// Observed before listing: once the pass has stored everything the
	// listing returns, every message of the folder at this mod-sequence is
	// on the timeline.
	s.modseq = sel.HighestModSeq
	switch {
	case sel.UIDNext != 0 && uint32(sel.UIDNext) <= s.cp.LastUID+1:
		return false, nil // new mail would have a UID >= UIDNEXT
	case s.condstore && sel.HighestModSeq != 0 && sel.HighestModSeq == s.cp.HighestModSeq:
		return false, nil // nothing at all changed since the checkpoint
	}
	return true, nil
}

// waitForMail returns when new mail may have arrived: the server said so
// during IDLE, or PollInterval passed (the only way without IDLE, and a
// safety net with it in case a notification was lost on the way).
func (s *session) waitForMail(ctx context.Context) error {
	t := time.NewTimer(s.in.opts.PollInterval)
	defer t.Stop()
	if !s.idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.c.Closed():
			return errConnClosed
		case <-s.wake:
		case <-t.C:
		}
		return nil
	}
	idle, err := s.c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err() // the connection is closed by connect's AfterFunc
	case <-s.c.Closed():
		return errConnClosed
	case <-s.wake:
	case <-t.C:
	}
	err = s.guard(func() error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
	if err != nil {
		return fmt.Errorf("end idle: %w", err)
	}
	return nil
}

// connect dials, secures and logs in. The connection is closed when ctx
// ends, which unblocks whatever command is waiting on the server, or when
// release is called.
func (in *Ingester) connect(ctx context.Context, wake chan<- struct{}) (c *imapclient.Client, release func(), err error) {
	opts := &imapclient.Options{
		TLSConfig: in.tlsConfig(),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Runs on the client's reader goroutine: never block it.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	// Keepalive probes find a peer that vanished (NAT timeout, dead host)
	// within a minute, even in the middle of a long IDLE.
	dialer := &net.Dialer{Timeout: 30 * time.Second,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}}
	var conn net.Conn
	if in.cfg.Security == TLS {
		tc := opts.TLSConfig.Clone()
		tc.NextProtos = []string{"imap"}
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tc}).DialContext(ctx, "tcp", in.cfg.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", in.cfg.Addr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", in.cfg.Addr, err)
	}
	// Closing the socket is the one way to interrupt go-imap's blocking
	// calls; it also makes shutdown prompt in the middle of a FETCH.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	closeConn := func() {
		stop()
		conn.Close()
	}

	if in.cfg.Security == StartTLS {
		// Refused by servers that do not offer STARTTLS: no fallback to
		// sending the password in the clear.
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			closeConn()
			return nil, nil, fmt.Errorf("STARTTLS with %s: %w", in.cfg.Addr, err)
		}
	} else {
		c = imapclient.New(conn, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		closeConn()
		return nil, nil, fmt.Errorf("greeting from %s: %w", in.cfg.Addr, err)
	}
	if in.cfg.OAuth != nil {
		if in.mech, err = in.signIn(ctx, c); err != nil {
			closeConn()
			return nil, nil, err
		}
	} else if err := c.Login(in.cfg.Username, in.cfg.Password).Wait(); err != nil {
		closeConn()
		if refused(err) {
			return nil, nil, fmt.Errorf("log in to %s as %s: the server refused the user name or password: %w", in.cfg.Addr, in.cfg.Username, err)
		}
		return nil, nil, fmt.Errorf("log in to %s as %s: %w", in.cfg.Addr, in.cfg.Username, err)
	}
	return c, func() { c.Close(); closeConn() }, nil
}

func (in *Ingester) tlsConfig() *tls.Config {
	tc := &tls.Config{}
	if in.opts.TLSConfig != nil {
		tc = in.opts.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = in.cfg.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return tc
}
