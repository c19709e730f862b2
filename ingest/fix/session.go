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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/config"
	"github.com/quickfixgo/quickfix/store/file"
	sqlstore "github.com/quickfixgo/quickfix/store/sql"

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
// must be a FIX.4.4 initiator. Sessions whose settings name no message
// store keep their sequence numbers and messages in PostgreSQL when
// Options.PostgresURL is set, else under dataDir/fix.
func LoadSettings(r io.Reader, dataDir string) (*quickfix.Settings, error) {
	s, err := quickfix.ParseSettings(r)
	if err != nil {
		return nil, err
	}
	if len(s.SessionSettings()) == 0 {
		return nil, errors.New("no [SESSION] section")
	}
	global := s.GlobalSettings()
	if dataDir != "" {
		global.Set(defaultFileStorePath, filepath.Join(dataDir, "fix"))
	}
	for id, ss := range s.SessionSettings() {
		if id.BeginString != quickfix.BeginStringFIX44 {
			return nil, fmt.Errorf("session %s: BeginString must be FIX.4.4", id)
		}
		if ct, _ := ss.Setting(config.SocketConnectHost); ct == "" {
			return nil, fmt.Errorf("session %s: SocketConnectHost is required (BrokerSync initiates the drop-copy session)", id)
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
	// PostgresURL, when set, keeps the sessions' sequence numbers and sent
	// messages in PostgreSQL (quickfix's SQL store over pgx, in the tables
	// of the store's migrations) instead of files, unless the settings name
	// a store (SQLStoreDriver or FileStorePath).
	PostgresURL string
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

	mu      sync.Mutex
	stores  map[quickfix.SessionID]*ackStore
	events  chan Event
	writers sync.WaitGroup
	on      map[quickfix.SessionID]bool // logged on
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
	c := &Client{opts: opts, stores: map[quickfix.SessionID]*ackStore{}, on: map[quickfix.SessionID]bool{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	inner, err := messageStore(opts)
	if err != nil {
		return nil, err
	}
	init, err := quickfix.NewInitiator(c, &ackStoreFactory{c: c, inner: inner}, opts.Settings, logFactory{logger: opts.Logger, messages: opts.MessageLog, refused: c.refused})
	if err != nil {
		return nil, fmt.Errorf("fix: %w", err)
	}
	c.initiator = init
	return c, nil
}

// defaultFileStorePath holds, in the global settings, the FileStorePath
// LoadSettings derived from the data directory.
const defaultFileStorePath = "BrokerSyncDefaultFileStorePath"

// messageStore picks where session state is kept: the store the settings
// name (SQLStoreDriver or FileStorePath), else PostgreSQL when BrokerSync
// uses it, else files under the data directory.
func messageStore(opts Options) (quickfix.MessageStoreFactory, error) {
	global := opts.Settings.GlobalSettings()
	sql, files := false, false
	for _, ss := range opts.Settings.SessionSettings() {
		sql = sql || ss.HasSetting(config.SQLStoreDriver)
		files = files || ss.HasSetting(config.FileStorePath)
	}
	switch {
	case sql:
		return sqlstore.NewStoreFactory(opts.Settings), nil
	case files:
		return file.NewStoreFactory(opts.Settings), nil
	case opts.PostgresURL != "":
		global.Set(config.SQLStoreDriver, "pgx")
		global.Set(config.SQLStoreDataSourceName, opts.PostgresURL)
		return sqlstore.NewStoreFactory(opts.Settings), nil
	}
	dir, _ := global.Setting(defaultFileStorePath)
	if dir == "" {
		return nil, errors.New("fix: FileStorePath is required when there is no data directory")
	}
	// Session settings overlay the global ones: this is a default.
	global.Set(config.FileStorePath, dir)
	return file.NewStoreFactory(opts.Settings), nil
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
	// Reports not stored yet are not persisted as received: the order
	// system resends them to the next session.
	c.cancel()
	c.writers.Wait()
	c.initiator.Stop()
	return nil
}

// quickfix.Application

// OnCreate implements quickfix.Application.
func (c *Client) OnCreate(quickfix.SessionID) {}

// OnLogon implements quickfix.Application.
func (c *Client) OnLogon(id quickfix.SessionID) {
	c.mu.Lock()
	if !c.on[id] {
		c.on[id] = true
		c.opts.Metrics.LoggedOn.Inc()
	}
	c.mu.Unlock()
	c.opts.Logger.Info("FIX drop copy: logged on", slog.String("session", id.String()))
	c.tell(Event{Session: id.String(), What: "logon"})
}

// OnLogout implements quickfix.Application.
// quickfix also calls it when a logon fails.
func (c *Client) OnLogout(id quickfix.SessionID) {
	c.mu.Lock()
	if c.on[id] {
		delete(c.on, id)
		c.opts.Metrics.LoggedOn.Dec()
	}
	c.mu.Unlock()
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

// FromApp queues each ExecutionReport's order event for its session's
// writer, which stores them in batches. quickfix counts the report as
// received when FromApp returns, but the number persisted in the message
// store trails the last report stored (see ackStore): after a crash, or a
// store that keeps failing, the order system resends from there.
func (c *Client) FromApp(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	if t, _ := msg.Header.GetString(tagMsgType); t != "8" {
		return nil
	}
	if c.opts.DryRun {
		c.dryRun(msg, id)
		return nil
	}
	seq, _ := msg.Header.GetInt(tagMsgSeqNum)
	ev, kind, err := Report(msg)
	switch {
	case err != nil:
		c.opts.Metrics.Reports.WithLabelValues(ResultInvalid).Inc()
		c.opts.Logger.Warn("FIX drop copy: ExecutionReport not taken", slog.String("session", id.String()), slog.Int("seq", seq),
			slog.String("exec_id", ev.ExecID), slog.String("result", ResultInvalid), slog.String("why", err.Error()))
		c.tell(Event{Session: id.String(), What: "report", Kind: kind, Result: ResultInvalid, Text: err.Error(), Seq: seq, ExecID: ev.ExecID})
		return nil
	case kind == KindSkipped:
		c.opts.Metrics.Reports.WithLabelValues(ResultSkipped).Inc()
		c.tell(Event{Session: id.String(), What: "report", Kind: kind, Result: ResultSkipped, Seq: seq})
		return nil
	}
	if s := c.ackStore(id); s != nil {
		s.enqueue(pending{seq: seq, ev: ev, kind: kind})
	}
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
