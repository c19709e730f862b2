package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/internal/stores"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/webhooks"
	"github.com/brokersync/brokersync/webhooks/web"
)

// serve runs BrokerSync until ctx ends: cancel, wait for every part, close
// the stores.
func serve(ctx context.Context, cfg Config, logger *slog.Logger) error {
	logger.Info("starting brokersync", slog.String("version", buildVersion()))
	mailboxes, err := imap.Mailboxes(cfg.IMAPURL, cfg.IMAPMailboxes)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (BROKERSYNC_HTTP_ADDR): %w", cfg.HTTPAddr, err)
	}
	registry := prometheus.NewRegistry()
	srv := webhooks.New(logger, registry,
		webhooks.Check{Name: "profiles", Ping: st.Clients.Ping},
		webhooks.Check{Name: "timeline", Ping: st.Timeline.Ping},
	)

	recorder, err := newRecorder(st)
	if err != nil {
		return err
	}
	ingesters, err := newIngesters(mailboxes, st, recorder, registry, logger)
	if err != nil {
		return err
	}

	pages := &web.Pages{
		Clients:  st.Clients,
		Timeline: st.Timeline,
		Links:    web.Links{BaseURL: cfg.PublicURL, Key: linkKey(cfg, logger)},
		Now:      time.Now,
		Logger:   logger,
	}
	pages.Mount(srv.Router())
	if cfg.WebhookSecret != "" {
		writers := 1 // the embedded store has one write lock
		if cfg.PostgresURL != "" && len(cfg.Hosts()) > 0 {
			writers = 2
		}
		webhooks.NewInbound(webhooks.InboundConfig{
			Secret:   cfg.WebhookSecret,
			Clients:  st.Clients,
			Trades:   st.Trades,
			Recorder: recorder,
			Logger:   logger,
			Writers:  writers,
		}).Mount(srv.Router())
	} else {
		logger.Warn("BROKERSYNC_WEBHOOK_SECRET is not set: /webhooks/* refuse every request")
	}
	slackHandler, socket, err := newSlack(cfg, logger, st, pages.Links, recorder)
	if err != nil {
		return err
	}
	if slackHandler != nil {
		slackHandler.Routes(srv.Router())
		defer slackHandler.Close(10 * time.Second)
	}

	scheduler, err := newScheduler(cfg, st, registry, logger)
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return webhooks.Serve(ctx, ln, srv, 10*time.Second, logger) })
	if socket != nil {
		g.Go(func() error { return socket.Run(ctx) })
	}
	if scheduler != nil {
		g.Go(func() error { return scheduler.Run(ctx) })
	}
	for _, in := range ingesters {
		g.Go(func() error { return in.Run(ctx) })
	}
	err = g.Wait()
	logger.Info("brokersync stopped")
	return err
}

// newScheduler returns the reminder scheduler when Slack is configured (nil
// otherwise: reminders are kept and posted once Slack is set up). Every
// replica runs one; the store keeps them from posting a reminder twice.
func newScheduler(cfg Config, st *stores.Stores, reg prometheus.Registerer, logger *slog.Logger) (*reminders.Scheduler, error) {
	if cfg.SlackBotToken == "" {
		return nil, nil
	}
	return reminders.New(reminders.Options{
		Store: st.Reminders, Clients: st.Clients,
		Slack:   reminders.NewSlackAPI(reminders.NewSlackClient(cfg.SlackBotToken, cfg.SlackAPIURL)),
		Logger:  logger,
		Metrics: reminders.NewMetrics(reg),
	})
}

// newIngesters builds one IMAP ingester per configured mailbox folder; they
// share the metrics and the desk (who the brokers are, from every mailbox).
func newIngesters(mailboxes []imap.MailboxConfig, st *stores.Stores, rec imap.Recorder, reg prometheus.Registerer, logger *slog.Logger) ([]*imap.Ingester, error) {
	if len(mailboxes) == 0 {
		return nil, nil
	}
	metrics := imap.NewMetrics(reg)
	desk := imap.NewDesk(mailboxes)
	ingesters := make([]*imap.Ingester, 0, len(mailboxes))
	for _, mb := range mailboxes {
		in, err := imap.New(imap.Options{
			Mailbox: mb, Clients: st.Clients, Recorder: rec, Checkpoints: st.Checkpoints,
			Desk: desk, Metrics: metrics, Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		logger.Info("ingesting mail", slog.String("mailbox", mb.String()))
		ingesters = append(ingesters, in)
	}
	return ingesters, nil
}

// linkSecret is the configured secret web links are signed with: the Slack
// signing secret, else the webhook secret, else none.
func linkSecret(cfg Config) string {
	if cfg.SlackSigningSecret != "" {
		return cfg.SlackSigningSecret
	}
	return cfg.WebhookSecret
}

// linkKey is the key that signs links to the web pages. It derives from a
// configured secret so that links survive restarts and work on every
// replica; with no secret configured, links last until the process stops.
func linkKey(cfg Config, logger *slog.Logger) []byte {
	secret := linkSecret(cfg)
	if secret == "" {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		logger.Warn("no SLACK_SIGNING_SECRET or BROKERSYNC_WEBHOOK_SECRET: web links stop working when BrokerSync restarts")
		return key
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("brokersync web links v1"))
	return m.Sum(nil)
}

// migrate applies every configured store's migrations and exits.
func migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("migrations applied")
	return st.Close()
}
