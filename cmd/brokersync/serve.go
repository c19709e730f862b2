package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/internal/backends"
	"github.com/brokersync/brokersync/internal/periodic"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks"
	"github.com/brokersync/brokersync/webhooks/web"
)

// serve runs BrokerSync until ctx ends: cancel, wait for every part, close
// the stores.
func serve(ctx context.Context, cfg Config, logger *slog.Logger) error {
	logger.Info("starting brokersync", slog.String("version", buildVersion()))
	mailboxes, err := cfg.MailDefaults().Mailboxes(cfg.IMAPURL, cfg.IMAPMailboxes)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// The address is taken first, so that a port in use stops start-up
	// before any store is opened or migrated.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("config: BROKERSYNC_HTTP_ADDR (-http-addr) %s: %w", cfg.HTTPAddr, err)
	}
	defer ln.Close()
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	registry := prometheus.NewRegistry()
	srv := webhooks.New(logger, registry,
		webhooks.Check{Name: "profiles", Ping: st.Clients.Ping},
		webhooks.Check{Name: "timeline", Ping: st.Timeline.Ping},
	)

	recorder, err := newRecorder(st)
	if err != nil {
		return err
	}
	mailMetrics := imap.NewMetrics(registry)
	ingesters, err := newIngesters(mailboxes, st, recorder, mailMetrics, logger)
	if err != nil {
		return err
	}

	// Each mailbox is read by one replica at a time: the one holding its
	// lease, under the replica's lasting name.
	var mail *imap.Pool
	if len(ingesters) > 0 {
		if mail, err = imap.NewPool(ingesters, imap.PoolOptions{Leases: st.Leases, Replica: cfg.Replica(), Metrics: mailMetrics, Logger: logger}); err != nil {
			return err
		}
		logger.Info("reading mail under mailbox leases", slog.String("replica", mail.Replica()), slog.Int("mailboxes", len(ingesters)))
	}

	dropCopy, err := newDropCopy(cfg, st, recorder, registry, logger)
	if err != nil {
		return err
	}

	key, err := linkKey(ctx, cfg, st)
	if err != nil {
		return err
	}
	api, dir := slackDirectory(cfg, logger)
	// Follow-ups triggered by what is recorded: fills, market moves,
	// sentiment; real contacts resolve them.
	triggers := newTriggers(st, dir, logger)
	recorder.Subscribers = append(recorder.Subscribers, triggers)
	// Who enters and leaves saved segments: the clients of new events
	// within seconds, every client every few minutes.
	membership := newMembership(cfg, st, recorder, dir, logger)
	recorder.Subscribers = append(recorder.Subscribers, membership)
	// The desks' workflows act on the same events.
	workflows := newWorkflows(st, recorder, logger)
	recorder.Subscribers = append(recorder.Subscribers, workflows)
	pages := &web.Pages{
		Names:     names(dir),
		Clients:   st.Clients,
		Timeline:  st.Timeline,
		Trades:    st.Trades,
		Sentiment: st.Sentiment,
		Segments:  st.Segments,
		Reminders: st.Reminders,
		Digests:   newDigestBuilder(st),
		Teams:     st.Teams,
		Links:     web.Links{BaseURL: cfg.PublicURL, Key: key},
		Rights:    newRights(cfg, st, dir, logger),
		Now:       time.Now,
		Logger:    logger,
	}
	if cfg.SlackClientID != "" && cfg.SlackClientSecret != "" {
		pages.SignIn = &web.SignIn{ClientID: cfg.SlackClientID, ClientSecret: cfg.SlackClientSecret}
		logger.Info("web pages offer Sign in with Slack", slog.String("redirect_url", cfg.PublicURL+"/signin/callback"))
	} else if cfg.SlackClientID != "" || cfg.SlackClientSecret != "" {
		return fmt.Errorf("sign in with Slack needs both BROKERSYNC_SLACK_CLIENT_ID and BROKERSYNC_SLACK_CLIENT_SECRET")
	}
	pages.Mount(srv.Router())
	if cfg.WebhookSecret != "" || cfg.TwilioAuthToken != "" || cfg.AircallToken != "" {
		webhooks.NewInbound(webhooks.InboundConfig{
			Secret:    cfg.WebhookSecret,
			Clients:   st.Clients,
			Trades:    st.Trades,
			Catalogue: st.Catalogue,
			Recorder:  recorder,
			Logger:    logger,
			Writers:   st.Writers(),

			PublicURL:       cfg.PublicURL,
			TwilioAuthToken: cfg.TwilioAuthToken,
			AircallToken:    cfg.AircallToken,
		}).Mount(srv.Router())
	} else {
		logger.Warn("BROKERSYNC_WEBHOOK_SECRET is not set: /webhooks/* refuse every request")
	}
	slackHandler, socket, err := newSlack(cfg, logger, st, api, dir, pages.Links, recorder)
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

	digests, err := newDigestRunner(cfg, st, logger)
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
	if digests != nil {
		g.Go(func() error { return digests.Run(ctx) })
	}
	if dropCopy != nil {
		g.Go(func() error { return dropCopy.Run(ctx) })
	}
	// Periodic jobs run once per period across replicas.
	// Their claims name this process, whose name no other run shares.
	jobs := &periodic.Runner{Store: st.Periodic, Holder: imap.ReplicaID(), Logger: logger, Metrics: periodic.NewMetrics(registry)}
	// Clients not heard from as often as their profile asks.
	g.Go(func() error {
		return jobs.Run(ctx, periodic.Job{Name: "cadence", Every: reminders.DefaultCadenceInterval, Run: func(ctx context.Context, _ time.Time) error {
			_, err := triggers.CheckCadence(ctx)
			return err
		}})
	})
	if mail != nil {
		g.Go(func() error { return mail.Run(ctx) })
	}
	// Delayed workflow actions, firings a crash cut off, quiet clients.
	g.Go(func() error {
		return jobs.Run(ctx, periodic.Job{Name: "workflows", Every: workflowEvery, Run: func(ctx context.Context, _ time.Time) error {
			_, err := workflows.Tick(ctx)
			return err
		}})
	})
	lc := &ingest.Lifecycle{Clients: st.Clients, Segments: st.Segments, Catalogue: st.Catalogue, Stats: st.Stats, Desks: st.Teams, Recorder: recorder,
		DormantAfter: cfg.DormantAfterDuration(), Logger: logger}
	g.Go(func() error {
		return jobs.Run(ctx, periodic.Job{Name: "lifecycle", Every: lifecycleEvery, Run: func(ctx context.Context, _ time.Time) error {
			_, err := lc.Sweep(ctx)
			return err
		}})
	})
	// Milestones: at start and hourly, on one replica a period; each
	// occurrence is raised once whichever replica sweeps.
	ms := newMilestones(st, recorder, triggers.Zone, logger)
	g.Go(func() error {
		return jobs.Run(ctx, periodic.Job{Name: "milestones", Every: reminders.DefaultMilestoneInterval, Run: func(ctx context.Context, _ time.Time) error {
			n, err := ms.Sweep(ctx)
			if n > 0 {
				logger.Info("milestones raised", slog.Int("count", n))
			}
			return err
		}})
	})
	g.Go(func() error {
		return ingest.ResponsivenessRefresh{Store: st.Responsiveness, Logger: logger}.Run(ctx, time.Minute)
	})
	// Activity rows whose windows changed as time passed are recounted, so
	// filters compare columns rather than aggregate (they are exact either
	// way).
	g.Go(func() error {
		return jobs.Run(ctx, periodic.Job{Name: "activity", Every: activityEvery, Run: func(ctx context.Context, _ time.Time) error {
			_, err := st.Activity.RefreshActivity(ctx, time.Now())
			return err
		}})
	})
	g.Go(func() error {
		return membership.Run(ctx, ingest.DefaultMembershipSweep, ingest.DefaultMembershipTouched)
	})
	if cfg.SlackBotToken != "" {
		watches := &reminders.SegmentWatches{Store: st.Segments, Clients: st.Clients, Logger: logger,
			Slack: reminderSlack(cfg)}
		g.Go(func() error { return watches.Run(ctx, 0) })
	}
	err = g.Wait()
	logger.Info("brokersync stopped")
	return err
}

// newScheduler returns the reminder scheduler when Slack is configured (nil
// otherwise: reminders are kept and posted once Slack is set up). Every
// replica runs one; the store keeps them from posting a reminder twice.
func newScheduler(cfg Config, st *backends.Stores, reg prometheus.Registerer, logger *slog.Logger) (*reminders.Scheduler, error) {
	if cfg.SlackBotToken == "" {
		return nil, nil
	}
	return reminders.New(reminders.Options{
		Store: st.Reminders, Clients: st.Clients, Timeline: st.Timeline,
		Slack:   reminderSlack(cfg),
		Logger:  logger,
		Metrics: reminders.NewMetrics(reg),
	})
}

// lifecycleEvery is how often stages are checked against their rules.
const lifecycleEvery = 5 * time.Minute

// activityEvery is how often activity rows that no longer hold are
// recounted.
const activityEvery = time.Minute

// workflowEvery is how often delayed workflow actions and quiet clients
// are looked for.
const workflowEvery = time.Minute

// newIngesters builds one IMAP ingester per configured mailbox folder; they
// share the metrics and the desk (who the brokers are, from every mailbox).
func newIngesters(mailboxes []imap.MailboxConfig, st *backends.Stores, rec imap.Recorder, metrics *imap.Metrics, logger *slog.Logger) ([]*imap.Ingester, error) {
	if len(mailboxes) == 0 {
		return nil, nil
	}
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

// linkKeyName names the web link key in the store's KeyStore.
const linkKeyName = "web-links-v1"

// linkKey is the key that signs links to the web pages: BROKERSYNC_LINK_KEY,
// else a random key generated by the first process that needs one and kept
// in the store, so that links survive restarts and open on every replica.
// It is never derived from the Slack signing secret or the webhook secret,
// which others hold.
func linkKey(ctx context.Context, cfg Config, st *backends.Stores) ([]byte, error) {
	if cfg.LinkKey != "" {
		return []byte(cfg.LinkKey), nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	key, err := st.Keys.Key(ctx, linkKeyName, fresh)
	if err != nil {
		return nil, fmt.Errorf("the web link key: %w", err)
	}
	return key, nil
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

// newTriggers turns recorded events into follow-ups, in each broker's
// Slack time zone (UTC without Slack).
func newTriggers(st *backends.Stores, dir *bslack.Directory, logger *slog.Logger) *reminders.Triggers {
	t := &reminders.Triggers{Reminders: st.Reminders, Clients: st.Clients, Timeline: st.Timeline, Logger: logger}
	if dir != nil {
		t.Zone = func(ctx context.Context, broker string) (*time.Location, error) {
			u, err := dir.User(ctx, broker)
			if err != nil {
				return nil, err
			}
			loc, _ := store.Location(u.TimeZone)
			return loc, nil
		}
	}
	return t
}
