package fix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/config"
	"github.com/quickfixgo/quickfix/store/file"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Session settings of our own, beside quickfix's.
const (
	settingUsername     = "Username"     // sent as 553 on Logon
	settingPassword     = "Password"     // sent as 554 on Logon
	settingPasswordFile = "PasswordFile" // a file holding the password (takes precedence)
)

// LoadSettings reads session settings in the quickfix format. Every session
// must be a FIX.4.4 initiator. A session without FileStorePath keeps its
// sequence numbers and messages under dataDir/fix.
func LoadSettings(r io.Reader, dataDir string) (*quickfix.Settings, error) {
	s, err := quickfix.ParseSettings(r)
	if err != nil {
		return nil, err
	}
	if len(s.SessionSettings()) == 0 {
		return nil, errors.New("no [SESSION] section")
	}
	global := s.GlobalSettings()
	for id, ss := range s.SessionSettings() {
		if id.BeginString != quickfix.BeginStringFIX44 {
			return nil, fmt.Errorf("session %s: BeginString must be FIX.4.4", id)
		}
		if ct, _ := ss.Setting(config.SocketConnectHost); ct == "" {
			return nil, fmt.Errorf("session %s: SocketConnectHost is required (BrokerSync initiates the drop-copy session)", id)
		}
		if !ss.HasSetting(config.FileStorePath) {
			if dataDir == "" {
				return nil, fmt.Errorf("session %s: FileStorePath is required when there is no data directory", id)
			}
			// Session settings overlay the global ones: this is a default.
			global.Set(config.FileStorePath, filepath.Join(dataDir, "fix"))
		}
		if !ss.HasSetting(config.ReconnectInterval) {
			global.Set(config.ReconnectInterval, "5")
		}
	}
	return s, nil
}

// LoadSettingsFile is LoadSettings of a file.
func LoadSettingsFile(path, dataDir string) (*quickfix.Settings, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := LoadSettings(f, dataDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Metrics count what the drop-copy sessions did.
type Metrics struct {
	Reports  *prometheus.CounterVec // by result
	LoggedOn prometheus.Gauge
}

// Results of an ExecutionReport, as counted.
const (
	ResultStored        = "stored"
	ResultDuplicate     = "duplicate"      // its ExecID was stored before: nothing changed
	ResultUnknownClient = "unknown_client" // no client has the Account
	ResultInvalid       = "invalid"        // a field BrokerSync cannot read
	ResultSkipped       = "skipped"        // not an order event (pending, status, correction)
)

// NewMetrics registers the metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_fix_execution_reports_total",
			Help: "ExecutionReports received on FIX drop-copy sessions, by result.",
		}, []string{"result"}),
		LoggedOn: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "brokersync_fix_sessions_logged_on",
			Help: "FIX drop-copy sessions currently logged on.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Reports, m.LoggedOn)
	}
	return m
}

// Options configure a drop-copy Client.
type Options struct {
	Settings *quickfix.Settings // from LoadSettings
	Intake   *ingest.Intake     // where order events go, as from the webhook
	Logger   *slog.Logger
	Metrics  *Metrics // optional
	// RetryFor is how long a report whose store fails is retried before it
	// is left unacknowledged (default 30s): the order system resends it.
	RetryFor time.Duration
	// MessageLog writes every FIX message to the log at debug level.
	MessageLog bool
	// DryRun stores nothing: an ExecutionReport is matched to its client,
	// reported to Watch and left unacknowledged (the connection is dropped),
	// so that the order system resends it to the real session.
	DryRun bool
}

// Client is BrokerSync's side of drop-copy sessions.
type Client struct {
	opts      Options
	initiator *quickfix.Initiator
	ctx       context.Context
	cancel    context.CancelFunc

	mu     sync.Mutex
	stores map[quickfix.SessionID]*ackStore
	events chan Event
}

// Event is what a session reports to watchers (brokersync check fix).
type Event struct {
	Session string
	What    string // "logon", "logout", "report", "reject"
	Text    string
	Kind    Kind
	Result  string
	Seq     int
	ExecID  string
	Account string
}

// New prepares the sessions; Run connects them.
func New(opts Options) (*Client, error) {
	if opts.Settings == nil || opts.Intake == nil {
		return nil, errors.New("fix: settings and intake are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = 30 * time.Second
	}
	c := &Client{opts: opts, stores: map[quickfix.SessionID]*ackStore{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	init, err := quickfix.NewInitiator(c, &ackStoreFactory{c: c, inner: file.NewStoreFactory(opts.Settings)}, opts.Settings, logFactory{logger: opts.Logger, messages: opts.MessageLog, refused: c.refused})
	if err != nil {
		return nil, fmt.Errorf("fix: %w", err)
	}
	c.initiator = init
	return c, nil
}

// Watch returns a channel of session events, for brokersync check fix. It
// must be called before Run and read promptly.
func (c *Client) Watch() <-chan Event {
	c.events = make(chan Event, 1024)
	return c.events
}

func (c *Client) tell(e Event) {
	if c.events != nil {
		select {
		case c.events <- e:
		default:
		}
	}
}

// Run connects every session and keeps it connected (quickfix reconnects
// after ReconnectInterval) until ctx ends.
func (c *Client) Run(ctx context.Context) error {
	for id := range c.opts.Settings.SessionSettings() {
		c.opts.Logger.Info("FIX drop copy: starting session", slog.String("session", id.String()))
	}
	if err := c.initiator.Start(); err != nil {
		return fmt.Errorf("fix: %w", err)
	}
	<-ctx.Done()
	c.cancel() // a report being retried is left for the resend
	c.initiator.Stop()
	return nil
}

// quickfix.Application

// OnCreate implements quickfix.Application.
func (c *Client) OnCreate(quickfix.SessionID) {}

// OnLogon implements quickfix.Application.
func (c *Client) OnLogon(id quickfix.SessionID) {
	c.opts.Metrics.LoggedOn.Inc()
	c.opts.Logger.Info("FIX drop copy: logged on", slog.String("session", id.String()))
	c.tell(Event{Session: id.String(), What: "logon"})
}

// OnLogout implements quickfix.Application.
func (c *Client) OnLogout(id quickfix.SessionID) {
	c.opts.Logger.Info("FIX drop copy: logged out", slog.String("session", id.String()))
	c.tell(Event{Session: id.String(), What: "logout"})
}

// ToAdmin adds Username 553 and Password 554 to our Logon when the session
// settings have them.
func (c *Client) ToAdmin(msg *quickfix.Message, id quickfix.SessionID) {
	if t, _ := msg.Header.GetString(tagMsgType); t != "A" {
		return
	}
	ss := c.opts.Settings.SessionSettings()[id]
	if ss == nil {
		return
	}
	if u, _ := ss.Setting(settingUsername); u != "" {
		msg.Body.SetString(tagUsername, u)
	}
	pw, _ := ss.Setting(settingPassword)
	if path, _ := ss.Setting(settingPasswordFile); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			c.opts.Logger.Error("FIX drop copy: cannot read the password file", slog.String("session", id.String()), slog.Any("err", err))
			return
		}
		pw = strings.TrimSpace(string(b))
	}
	if pw != "" {
		msg.Body.SetString(tagPassword, pw)
	}
}

// ToApp implements quickfix.Application: a drop copy sends nothing.
func (c *Client) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }

// FromAdmin logs why the counterparty logs us out or rejects a message
// (wrong credentials arrive as a Logout with Text 58).
func (c *Client) FromAdmin(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	t, _ := msg.Header.GetString(tagMsgType)
	if t != "5" && t != "3" {
		return nil
	}
	text, _ := msg.Body.GetString(tagText)
	what := map[string]string{"5": "logout", "3": "reject"}[t]
	c.opts.Logger.Warn("FIX drop copy: counterparty "+what, slog.String("session", id.String()), slog.String("text", text))
	c.tell(Event{Session: id.String(), What: what, Text: text})
	return nil
}

// FromApp stores each ExecutionReport's order event. quickfix counts the
// message as processed (persists the next expected sequence number) only
// after FromApp returns; a report whose store keeps failing is held back
// (see ackStore), so the counterparty resends it.
func (c *Client) FromApp(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	if t, _ := msg.Header.GetString(tagMsgType); t != "8" {
		return nil
	}
	if c.opts.DryRun {
		c.dryRun(msg, id)
		return nil
	}
	result, err := c.handle(msg)
	seq, _ := msg.Header.GetInt(tagMsgSeqNum)
	attrs := []any{slog.String("session", id.String()), slog.Int("seq", seq)}
	if execID, _ := msg.Body.GetString(tagExecID); execID != "" {
		attrs = append(attrs, slog.String("exec_id", execID))
	}
	if err != nil {
		c.opts.Logger.Error("FIX drop copy: ExecutionReport not stored; the order system will resend it", append(attrs, slog.Any("err", err))...)
		c.hold(id)
		return nil
	}
	c.opts.Metrics.Reports.WithLabelValues(result.result).Inc()
	switch result.result {
	case ResultUnknownClient, ResultInvalid:
		c.opts.Logger.Warn("FIX drop copy: ExecutionReport not taken", append(attrs, slog.String("result", result.result), slog.String("why", result.why))...)
	}
	c.tell(Event{Session: id.String(), What: "report", Kind: result.kind, Result: result.result, Text: result.why})
	return nil
}

// dryRun describes a report without storing it, and holds it back.
func (c *Client) dryRun(msg *quickfix.Message, id quickfix.SessionID) {
	defer c.hold(id)
	seq, _ := msg.Header.GetInt(tagMsgSeqNum)
	ev, kind, err := Report(msg)
	e := Event{Session: id.String(), What: "report", Kind: kind, Seq: seq, ExecID: ev.ExecID, Account: ev.Client}
	switch {
	case err != nil:
		e.Result, e.Text = ResultInvalid, err.Error()
	case kind == KindSkipped:
		e.Result = ResultSkipped
	default:
		entries, err := c.opts.Intake.PrepareOrders(c.ctx, []ingest.OrderEvent{ev})
		switch store.ErrorCode(err) {
		case "":
			e.Result, e.Text = ResultStored, entries[0].Client.Handle+": "+entries[0].Event.Summary
		case store.ENOTFOUND:
			e.Result, e.Text = ResultUnknownClient, err.Error()
		case store.EINVALID:
			e.Result, e.Text = ResultInvalid, err.Error()
		default:
			e.Result, e.Text = "error", err.Error()
		}
	}
	c.tell(e)
}

type outcome struct {
	kind   Kind
	result string
	why    string
}

// handle takes one report; an error means it could not be stored and must
// be resent.
func (c *Client) handle(msg *quickfix.Message) (outcome, error) {
	ev, kind, err := Report(msg)
	if err != nil {
		return outcome{kind, ResultInvalid, err.Error()}, nil
	}
	if kind == KindSkipped {
		return outcome{kind, ResultSkipped, ""}, nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.RetryFor)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		res, err := c.store(ctx, ev)
		if err == nil {
			res.kind = kind
			return res, nil
		}
		if code := store.ErrorCode(err); code != store.EUNAVAILABLE && code != store.EINTERNAL {
			return outcome{kind, ResultInvalid, err.Error()}, nil
		}
		c.opts.Logger.Warn("FIX drop copy: storing an ExecutionReport failed; retrying", slog.Any("err", err))
		select {
		case <-ctx.Done():
			return outcome{}, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (c *Client) store(ctx context.Context, ev ingest.OrderEvent) (outcome, error) {
	entries, err := c.opts.Intake.PrepareOrders(ctx, []ingest.OrderEvent{ev})
	var ie *ingest.ItemError
	if errors.As(err, &ie) {
		err = ie.Err
	}
	switch store.ErrorCode(err) {
	case "":
	case store.ENOTFOUND:
		return outcome{result: ResultUnknownClient, why: err.Error()}, nil
	case store.EINVALID:
		return outcome{result: ResultInvalid, why: err.Error()}, nil
	default:
		return outcome{}, err
	}
	st, err := c.opts.Intake.Store(ctx, entries)
	if err != nil {
		return outcome{}, err
	}
	if st.DuplicateFills > 0 {
		return outcome{result: ResultDuplicate}, nil
	}
	return outcome{result: ResultStored}, nil
}

func (c *Client) hold(id quickfix.SessionID) {
	c.mu.Lock()
	s := c.stores[id]
	c.mu.Unlock()
	if s != nil {
		s.held.Store(true)
	}
}

// ackStoreFactory wraps quickfix's message store so that a report that
// could not be stored is not counted as received.
type ackStoreFactory struct {
	c     *Client
	inner quickfix.MessageStoreFactory
}

func (f *ackStoreFactory) Create(id quickfix.SessionID) (quickfix.MessageStore, error) {
	inner, err := f.inner.Create(id)
	if err != nil {
		return nil, err
	}
	s := &ackStore{MessageStore: inner}
	f.c.mu.Lock()
	f.c.stores[id] = s
	f.c.mu.Unlock()
	return s, nil
}

// ackStore refuses the increment of the next expected incoming sequence
// number that follows a held report. quickfix then drops the connection
// with the number unchanged; on the next logon it asks the order system to
// resend from the held report on.
type ackStore struct {
	quickfix.MessageStore
	held atomic.Bool
}

var errHeld = errors.New("ExecutionReport not stored: disconnecting to have it resent")

func (s *ackStore) IncrNextTargetMsgSeqNum() error {
	if s.held.Swap(false) {
		return errHeld
	}
	return s.MessageStore.IncrNextTargetMsgSeqNum()
}

// refused reports a Logout received in answer to our Logon: quickfix
// does not hand it to FromAdmin, only to the session log.
func (c *Client) refused(id quickfix.SessionID, msg *quickfix.Message) {
	if t, _ := msg.Header.GetString(tagMsgType); t != "5" {
		return
	}
	text, _ := msg.Body.GetString(tagText)
	c.opts.Logger.Error("FIX drop copy: the order system refused the logon", slog.String("session", id.String()), slog.String("text", text))
	c.tell(Event{Session: id.String(), What: "logout", Text: text})
}

// logFactory sends quickfix's session events to slog.
type logFactory struct {
	logger   *slog.Logger
	messages bool
	refused  func(quickfix.SessionID, *quickfix.Message)
}

func (f logFactory) Create() (quickfix.Log, error) {
	return fixLog{logger: f.logger, messages: f.messages}, nil
}
func (f logFactory) CreateSessionLog(id quickfix.SessionID) (quickfix.Log, error) {
	return fixLog{logger: f.logger.With(slog.String("session", id.String())), messages: f.messages,
		refused: func(m *quickfix.Message) { f.refused(id, m) }}, nil
}

type fixLog struct {
	logger   *slog.Logger
	messages bool
	refused  func(*quickfix.Message)
}

func (l fixLog) OnIncoming(b []byte) {
	if l.messages {
		l.logger.Debug("FIX in", slog.String("msg", strings.ReplaceAll(string(b), "\x01", "|")))
	}
}
func (l fixLog) OnOutgoing(b []byte) {
	if l.messages {
		l.logger.Debug("FIX out", slog.String("msg", strings.ReplaceAll(string(b), "\x01", "|")))
	}
}
func (l fixLog) OnEvent(s string) { l.logger.Debug("FIX: " + s) }
func (l fixLog) OnEventf(format string, a ...any) {
	if l.refused != nil && strings.HasPrefix(format, "Invalid Session State: Received Msg") && len(a) == 1 {
		if m, ok := a[0].(*quickfix.Message); ok {
			l.refused(m)
		}
	}
	l.logger.Debug("FIX: " + fmt.Sprintf(format, a...))
}
