package main

// The constructors that join BrokerSync's parts together, each built once
// by serve, exec and the other commands: the recorder every event goes
// through, the command core, and the Slack transport and directory.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/internal/backends"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/webhooks/web"
)

// newRecorder is how every event reaches the timeline, from the bot, the
// ingesters and the webhooks alike: ingest's recorder scores it and keeps
// each client's rolling sentiment.
func newRecorder(st *backends.Stores) (*ingest.Recorder, error) {
	model, err := sentiment.New()
	if err != nil {
		return nil, fmt.Errorf("load the sentiment model: %w", err)
	}
	return &ingest.Recorder{Timeline: st.Timeline, Scorer: model, Sentiment: st.Sentiment,
		Subscribers: []ingest.Subscriber{ingest.ContactTracker{Contacts: st.Contacts, Teams: st.Teams},
			ingest.RecommendationTracker{Store: st.Responsiveness, Catalogue: st.Catalogue}, reminders.DigestIndexer{Index: st.DigestIndex}}}, nil
}

// newMembership keeps saved segments' members, each segment scoped to the
// desks of whoever saved it.
func newMembership(cfg Config, st *backends.Stores, rec *ingest.Recorder, dir *bslack.Directory, logger *slog.Logger) *ingest.Membership {
	return &ingest.Membership{Segments: st.Segments, Catalogue: st.Catalogue, Recorder: rec, Resolve: newRights(cfg, st, dir, logger).SegmentScope(st.Segments), Logger: logger}
}

// newRights decides who may see and change what, for the web pages and
// segment membership alike.
func newRights(cfg Config, st *backends.Stores, dir *bslack.Directory, logger *slog.Logger) bot.Rights {
	return bot.Rights{Teams: st.Teams, Directory: directory(dir), Admins: cfg.AdminIDs(), Catalogue: st.Catalogue, Logger: logger}
}

// newBot builds the command core on the configured stores. The workflows
// that run on rec (newWorkflows, subscribed to it) answer /workflow test
// and hear of changes; without them, a runner of its own does dry runs.
//
// links, signed with the key the web pages check, are what the bot's links
// to them are made with; nil gives no links.
func newBot(cfg Config, logger *slog.Logger, st *backends.Stores, rec *ingest.Recorder, dir bot.Directory, links *web.Links) (*bot.Bot, error) {
	var runner *reminders.Workflows
	for _, s := range rec.Subscribers {
		if w, ok := s.(*reminders.Workflows); ok {
			runner = w
		}
	}
	if runner == nil {
		runner = newWorkflows(st, rec, logger)
	}
	bc := bot.Config{
		Clients: st.Clients, Timeline: st.Timeline, Teams: st.Teams, Links: st.Links, Reminders: st.Reminders,
		Directory: dir, Admins: cfg.AdminIDs(), Catalogue: st.Catalogue, Recorder: rec, Stats: st.Stats, Segments: st.Segments, Logger: logger,
		Workflows: st.Workflows, WorkflowRunner: runner,
		Digests: newDigests(st),
	}
	if links != nil {
		bc.TimelineURL = func(handle, user string) string { return links.Timeline(handle, user, time.Now()) }
		bc.DeskURL = func(user, desk string, digest bool) string { return links.DeskPage(user, desk, digest, time.Now()) }
	}
	return bot.New(bc)
}

// newDigests is what /digest needs: the subscriptions, and the builder the
// digest runner posts with.
func newDigests(st *backends.Stores) reminders.DigestService {
	return reminders.DigestService{DigestStore: st.Digests, Builder: newDigestBuilder(st)}
}

func newDigestBuilder(st *backends.Stores) *reminders.DigestBuilder {
	calendar := reminders.MilestoneCalendar{Milestones: &reminders.Milestones{Clients: st.Clients, Reminders: st.Reminders, Store: st.Milestones, Catalogue: st.Catalogue}}
	return &reminders.DigestBuilder{Clients: st.Clients, Catalogue: st.Catalogue, Timeline: st.Timeline, Teams: st.Teams, Reminders: st.Reminders, Milestones: calendar, Index: st.DigestIndex}
}

// newDigestRunner returns what posts managers' digests when Slack is
// configured (nil otherwise: subscriptions wait for Slack). Every replica
// runs one; each period's once-key lets one of them post it.
func newDigestRunner(cfg Config, st *backends.Stores, logger *slog.Logger) (*reminders.DigestRunner, error) {
	if cfg.SlackBotToken == "" {
		return nil, nil
	}
	return reminders.NewDigestRunner(reminders.DigestOptions{
		Store: st.Digests, Builder: newDigestBuilder(st), Teams: st.Teams, Admins: cfg.AdminIDs(),
		Slack:  reminderSlack(cfg),
		Logger: logger,
	})
}

// reminderSlack is the Slack client that posts reminders, digests and
// segment watches: a request timeout well inside their claim leases.
func reminderSlack(cfg Config) *reminders.SlackAPI {
	return reminders.NewSlackAPI(reminders.NewSlackClient(cfg.SlackBotToken, cfg.SlackAPIURL))
}

// newWorkflows runs the desks' workflows on what rec records; subscribe
// it to rec, and run its Tick (delayed actions, quiet clients).
func newWorkflows(st *backends.Stores, rec *ingest.Recorder, logger *slog.Logger) *reminders.Workflows {
	return &reminders.Workflows{Store: st.Workflows, Reminders: st.Reminders, Clients: st.Clients, Teams: st.Teams,
		Segments: st.Segments, Catalogue: st.Catalogue, Stats: st.Stats, Timeline: st.Timeline, Recorder: rec, Logger: logger}
}

// slackDirectory returns the Slack Web API client and the directory of
// users and channels (cached) that the bot and the web pages share; nil,
// nil when SLACK_BOT_TOKEN is not set.
func slackDirectory(cfg Config, logger *slog.Logger) (*slack.Client, *bslack.Directory) {
	if cfg.SlackBotToken == "" {
		return nil, nil
	}
	var opts []slack.Option
	if cfg.SlackAppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.SlackAppToken))
	}
	api := bslack.NewAPI(cfg.SlackBotToken, cfg.SlackAPIURL, opts...)
	return api, bslack.NewDirectory(api, 10*time.Minute, logger)
}

// directory is dir as the bot's directory: nil, not a nil pointer, when
// Slack is off.
func directory(dir *bslack.Directory) bot.Directory {
	if dir == nil {
		return nil
	}
	return dir
}

// names shows Slack ids as names through dir; with Slack off, as ids.
func names(dir *bslack.Directory) *bot.Names {
	if dir == nil {
		return &bot.Names{}
	}
	return &bot.Names{Users: dir, Channels: dir}
}

// newSlack returns the Slack adapter, and the Socket Mode runner when
// SLACK_APP_TOKEN is set; both nil when SLACK_BOT_TOKEN is not set. links
// are the web pages' (so that the bot's links open them); rec stores the
// bot's events (newRecorder, or the ingesters' recorder).
func newSlack(cfg Config, logger *slog.Logger, st *backends.Stores, api *slack.Client, dir *bslack.Directory, links web.Links, rec *ingest.Recorder) (*bslack.Handler, *bslack.SocketMode, error) {
	if api == nil {
		logger.Info("SLACK_BOT_TOKEN is not set: Slack is off")
		return nil, nil, nil
	}
	b, err := newBot(cfg, logger, st, rec, dir, &links)
	if err != nil {
		return nil, nil, err
	}
	h, err := bslack.New(bslack.Config{Bot: b, API: api, SigningSecret: cfg.SlackSigningSecret, Once: st.Once, Lease: cfg.Lease(), Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	if cfg.SlackAppToken == "" {
		return h, nil, nil
	}
	return h, h.SocketMode(), nil
}

// newMilestones builds the milestone sweep: reminders to brokers, events on
// the timeline through the Recorder (so its subscribers hear of them), in
// the brokers' Slack time zones (zone may be nil).
func newMilestones(st *backends.Stores, rec *ingest.Recorder, zone func(context.Context, string) (*time.Location, error), logger *slog.Logger) *reminders.Milestones {
	return &reminders.Milestones{Clients: st.Clients, Reminders: st.Reminders, Store: st.Milestones, Catalogue: st.Catalogue, Recorder: rec, Zone: zone, Logger: logger}
}
