// Package imap ingests mail from IMAP folders onto client timelines.
//
// An Ingester follows one folder of one account: it reads every message
// after its checkpoint, turns each into one email event per client among
// the From, To and Cc addresses, stores the events, and only then moves the
// checkpoint past them. It never changes anything on the server: folders are
// opened with EXAMINE and bodies fetched with BODY.PEEK[], so \Seen and every
// other flag stay as the broker left them. Event ids come from the
// Message-ID, so a re-read (after a crash, a UIDVALIDITY change, or in a
// second mailbox) overwrites the same events instead of adding new ones.
package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"time"

	"github.com/brokersync/brokersync/ingest/mail"
	"github.com/brokersync/brokersync/store"
)

// Recorder stores events on the timeline (ingest.Recorder): idempotent by
// event id, scoring sentiment on the way.
type Recorder interface {
	Record(ctx context.Context, events ...*store.Event) error
}

// Options configure an Ingester. Mailbox, Clients, Recorder and Checkpoints
// are required.
type Options struct {
	Mailbox     MailboxConfig
	Clients     ClientFinder
	Recorder    Recorder
	Checkpoints store.CheckpointStore
	// Desk tells the desk's brokers from everyone else; share one made by
	// NewDesk from every configured mailbox. Default: this mailbox only.
	Desk    *Desk
	Metrics *Metrics // default: unregistered
	Logger  *slog.Logger
	// TLSConfig for imaps:// and STARTTLS, e.g. with the CA of a private
	// server. ServerName is set from the URL when empty.
	TLSConfig *tls.Config
	// BatchSize is the number of messages per UID FETCH and per checkpoint
	// (default 200); BatchBytes bounds a batch's bodies (default 16 MiB).
	// The bodies of up to three batches are in memory at once (being
	// fetched, queued, being parsed); parsed ones keep only their events.
	BatchSize  int
	BatchBytes int64
	// MaxSize: larger messages are skipped without being downloaded
	// (default mail.DefaultMaxSize, 25 MiB).
	MaxSize int64
	// PollInterval is how often the folder is checked when the server
	// offers no IDLE, and how often IDLE is interrupted to check anyway, in
	// case a notification was lost or the folder was recreated under the
	// open session, which Dovecot does not announce (default 30s).
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting after an
	// error (defaults 1s and 5m); the wait doubles, with jitter, while
	// sessions keep failing.
	MinBackoff, MaxBackoff time.Duration
	// Parsers is the number of messages parsed at once (default GOMAXPROCS).
	Parsers int
	// StoreConcurrency is the number of batches whose events are being
	// stored at once (default 4); checkpoints still advance in order.
	StoreConcurrency int
	// AuthRetry is how long a mailbox whose OAuth2 sign-in was refused for
	// good (credentials refused, consent revoked) waits before trying again
	// (default 1h); a change to its credential files (the secret, the
	// certificate, the key), checked every CredentialsPoll (default 30s),
	// ends the wait at once.
	AuthRetry       time.Duration
	CredentialsPoll time.Duration
	// HTTPClient makes the token requests (default: a client with a 30s
	// timeout).
	HTTPClient *http.Client
}

// Ingester ingests one folder. Run it with Run; it is not restartable while
// running, but a new Ingester for the same folder resumes from the
// checkpoint.
type Ingester struct {
	cfg     MailboxConfig
	opts    Options
	desk    *Desk
	metrics *Metrics
	log     *slog.Logger
	tokens  *tokens // OAuth2 mailboxes only
	mech    string  // the SASL mechanism of the last sign-in
	// stopped is the reason the mailbox's sign-in was refused for good,
	// while it waits to try again; only Run's goroutine touches it.
	stopped string

	// afterStore, when set (by tests only), runs after a batch's events are
	// stored and before its checkpoint is saved; an error stops the pass
	// there, as a crash would.
	afterStore func(lastUID uint32) error
}

// New checks the options and returns an Ingester.
func New(opts Options) (*Ingester, error) {
	switch {
	case opts.Mailbox.Addr == "" || opts.Mailbox.Folder == "" || opts.Mailbox.Account == "":
		return nil, errors.New("imap: a mailbox (from ParseMailboxURL or Mailboxes) is required")
	case opts.Clients == nil || opts.Recorder == nil || opts.Checkpoints == nil:
		return nil, errors.New("imap: Clients, Recorder and Checkpoints are required")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 16 << 20
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = mail.DefaultMaxSize
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Minute, opts.MinBackoff)
	}
	if opts.Parsers <= 0 {
		opts.Parsers = runtime.GOMAXPROCS(0)
	}
	if opts.StoreConcurrency <= 0 {
		opts.StoreConcurrency = 4
	}
	if opts.AuthRetry <= 0 {
		opts.AuthRetry = time.Hour
	}
	if opts.CredentialsPoll <= 0 {
		opts.CredentialsPoll = 30 * time.Second
	}
	in := &Ingester{cfg: opts.Mailbox, opts: opts, desk: opts.Desk, metrics: opts.Metrics, log: opts.Logger}
	if in.desk == nil {
		in.desk = NewDesk([]MailboxConfig{opts.Mailbox})
	}
	if in.metrics == nil {
		in.metrics = NewMetrics(nil)
	}
	if in.log == nil {
		in.log = discardLogger()
	}
	in.log = in.log.With(slog.String("component", "imap"), slog.String("mailbox", in.cfg.Label()))
	if in.cfg.OAuth != nil {
		in.tokens = newTokens(in.cfg.OAuth, opts.HTTPClient)
	}
	return in, nil
}

// Mailbox returns the folder this ingester follows.
func (in *Ingester) Mailbox() MailboxConfig { return in.cfg }

// Run ingests until ctx ends, then returns nil. New mail is noticed through
// IDLE where the server offers it, else by polling. Errors (server down,
// folder missing, store unavailable) are logged and retried on a new
// connection after a growing, jittered wait; nothing is lost meanwhile,
// since the checkpoint only moves after the events are stored. An OAuth2
// sign-in refused for good (an AuthError that is Permanent) is not retried
// in that loop: it is logged once and the mailbox waits for its credential
// files to change, or AuthRetry.
func (in *Ingester) Run(ctx context.Context) error { return in.run(ctx, 0) }

// ErrLeaseLost is returned by RunFenced when a checkpoint save was refused
// because the mailbox's lease changed hands.
var ErrLeaseLost = errors.New("imap: the mailbox lease was lost")

// RunFenced is Run for the holder of the mailbox's lease (store.LeaseStore,
// see Pool): every checkpoint save carries the lease's fencing token, and
// once the store refuses one (another replica took the mailbox over) it
// stops and returns ErrLeaseLost, leaving the checkpoint to the new holder.
func (in *Ingester) RunFenced(ctx context.Context, token int64) error {
	if token <= 0 {
		return errors.New("imap: RunFenced needs a lease token")
	}
	return in.run(ctx, token)
}

func (in *Ingester) run(ctx context.Context, fence int64) error {
	wait := in.opts.MinBackoff
	label := in.cfg.Label()
	for {
		progressed, err := in.session(ctx, true, fence)
		if ctx.Err() != nil {
			in.log.Info("imap ingester stopped")
			return nil
		}
		if errors.Is(err, ErrLeaseLost) {
			in.log.Warn("imap ingester stopped: another replica holds the mailbox now", slog.Any("err", err))
			return err
		}
		if progressed {
			wait = in.opts.MinBackoff
		}
		var ae *AuthError
		if errors.As(err, &ae) {
			in.metrics.authFailures.WithLabelValues(label, ae.Reason).Inc()
		}
		if ae != nil && ae.Permanent {
			// Retrying soon cannot help: someone has to change something
			// at the provider or in the credentials. One line says so;
			// the mailbox waits for its credential files to change, or
			// an hour, whichever comes first.
			if in.stopped != ae.Reason {
				in.log.Error("mailbox stopped: sign-in refused; trying again when its credential files change or in "+in.opts.AuthRetry.String(),
					slog.String("reason", ae.Reason), slog.String("err", ae.Error()))
			} else {
				in.log.Debug("sign-in still refused", slog.String("reason", ae.Reason), slog.String("err", ae.Error()))
			}
			in.stopped = ae.Reason
			in.metrics.authStopped.WithLabelValues(label).Set(1)
			if !in.waitForCredentials(ctx) {
				in.log.Info("imap ingester stopped")
				return nil
			}
			wait = in.opts.MinBackoff
			continue
		}
		// Equal jitter: never less than half the wait, so a dead server is
		// not hammered, and spread so that many mailboxes of one server do
		// not reconnect in step.
		d := wait/2 + rand.N(wait/2+1)
		in.metrics.reconnects.WithLabelValues(label).Inc()
		in.log.Warn("imap session failed; reconnecting", slog.Any("err", err), slog.Duration("in", d))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			in.log.Info("imap ingester stopped")
			return nil
		case <-t.C:
		}
		wait = min(2*wait, in.opts.MaxBackoff)
	}
}

// signedIn ends a stop for refused credentials.
func (in *Ingester) signedIn() {
	if in.stopped != "" {
		in.log.Info("mailbox signed in again; ingesting")
		in.metrics.authStopped.WithLabelValues(in.cfg.Label()).Set(0)
		in.stopped = ""
	}
}

// waitForCredentials waits AuthRetry, or until the mailbox's credential
// files change; false when ctx ended first.
func (in *Ingester) waitForCredentials(ctx context.Context) bool {
	retry := time.NewTimer(in.opts.AuthRetry)
	defer retry.Stop()
	poll := time.NewTicker(in.opts.CredentialsPoll)
	defer poll.Stop()
	if in.tokens == nil { // no credential files to watch
		poll.Stop()
	} else {
		in.tokens.credentialsChanged() // the files as they were when refused
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-retry.C:
			return true
		case <-poll.C:
			if in.tokens.credentialsChanged() {
				in.log.Info("credential files changed; signing in again")
				in.tokens.invalidate(nil)
				return true
			}
		}
	}
}

// Sync connects, ingests everything after the checkpoint and returns: one
// pass, no waiting for new mail. It serves tests, benchmarks and one-off
// catch-up runs.
func (in *Ingester) Sync(ctx context.Context) error {
	_, err := in.session(ctx, false, 0)
	return err
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
