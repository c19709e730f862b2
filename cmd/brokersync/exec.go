package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/internal/stores"
	"github.com/brokersync/brokersync/webhooks/web"
)

const execUsage = `usage: brokersync exec '/command args…' --as U123 [--channel C123] [-v]

Runs one slash command as the Slack user U123, with that user's rights,
through the same code Slack uses, and prints the answer as plain text.
--as and --channel go before or after the command, the other flags before
it. Log lines go to stderr only with -v or BROKERSYNC_LOG_LEVEL. Examples:
  brokersync exec '/client show acme-grain' --as U0123ABCD
  brokersync exec '/team add <@U0456EFGH> grain-desk broker' --as U0ADMIN01`

// execCmd runs a slash command from the shell: `brokersync exec '/client
// show acme-grain' --as U123`. An answer that is an error (bad input, a
// refusal, an unknown client) is returned as the error, so the exit status
// tells scripts whether the command worked.
func execCmd(ctx context.Context, cfg Config, logger *slog.Logger, flags execFlags, args []string, stdout io.Writer) error {
	line, as, channel, err := execArgs(args, flags)
	if err != nil {
		return usageError{err.Error() + "\n" + execUsage}
	}
	command, text, _ := strings.Cut(strings.TrimSpace(line), " ")
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	// Mentions read as names from Slack's directory; with Slack off, as ids.
	_, sd := slackDirectory(cfg, logger)
	dir, named := directory(sd), names(sd)
	// The same key as the server's (the setting, or the one in the store),
	// so that a link made here opens there.
	key, err := linkKey(ctx, cfg, st)
	if err != nil {
		return err
	}
	links := timelineLinks(web.Links{BaseURL: cfg.PublicURL, Key: key})
	rec, err := newRecorder(st)
	if err != nil {
		return err
	}
	// A call logged here resolves follow-ups as one logged in Slack does.
	rec.Subscribers = append(rec.Subscribers, newTriggers(st, sd, logger))
	b, err := newBot(cfg, logger, st, rec, dir, links)
	if err != nil {
		return err
	}
	resp := b.Handle(ctx, bot.Request{User: as, Channel: channel, Command: command, Text: text})
	if resp.Err() {
		return errors.New(strings.TrimSpace(bot.PlainTextNamed(ctx, resp, named)))
	}
	if _, err = io.WriteString(stdout, bot.PlainTextNamed(ctx, resp, named)); err != nil {
		return err
	}
	if resp.File != nil {
		// The attachment follows the answer, as Slack shows it below.
		_, err = stdout.Write(resp.File.Content)
	}
	return err
}

// execFlags are exec's own flags when given before the command.
type execFlags struct {
	as, channel string
	verbose     bool
}

// register adds exec's flags to fs, so that they are parsed before the
// command and listed by `brokersync exec -h`.
func (f *execFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.as, "as", "", "Slack user id the command runs as, with that user's rights (required; may also follow the command)")
	fs.StringVar(&f.channel, "channel", "", "Slack channel id the command is typed in, for commands that use it such as /client link <client> here (may also follow the command)")
	fs.BoolVar(&f.verbose, "v", false, "print log lines on stderr (as does setting BROKERSYNC_LOG_LEVEL)")
}

// execArgs reads the command line and the flags after it; flags before the
// command are in pre. Several words are joined back into one line,
// re-quoting what the shell unquoted.
func execArgs(args []string, pre execFlags) (line, as, channel string, err error) {
	as, channel = userID(pre.as), pre.channel
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "as" && name != "channel") {
			words = append(words, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", "", "", fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if name == "as" {
			as = userID(value)
		} else {
			channel = value
		}
	}
	switch {
	case len(words) == 0:
		return "", "", "", errors.New("no command given")
	case as == "":
		return "", "", "", errors.New("--as <Slack user id> is required: the command runs with that user's rights")
	case len(words) == 1:
		line = words[0]
	default:
		for i, w := range words {
			if i > 0 && strings.ContainsAny(w, " \t\n") {
				if k, v, ok := strings.Cut(w, "="); ok && !strings.ContainsAny(k, " \t") {
					w = k + `="` + v + `"`
				} else {
					w = `"` + w + `"`
				}
			}
			words[i] = w
		}
		line = strings.Join(words, " ")
	}
	if !strings.HasPrefix(line, "/") {
		return "", "", "", fmt.Errorf("%q is not a slash command (/client, /log, /note, /feedback, /timeline, /team)", strings.Fields(line)[0])
	}
	return line, as, channel, nil
}

// userID reads a Slack user id given as U123 or <@U123|name>.
func userID(v string) string {
	id, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(v, "<@"), ">"), "|")
	return id
}

// timelineLinks makes the bot's links to the web timeline with the same
// signing key the web pages check.
func timelineLinks(l web.Links) func(handle, user string) string {
	return func(handle, user string) string { return l.Timeline(handle, user, time.Now()) }
}

// newRecorder is how every event reaches the timeline, from the bot, the
// ingesters and the webhooks alike: ingest's recorder scores it and keeps
// each client's rolling sentiment.
func newRecorder(st *stores.Stores) (*ingest.Recorder, error) {
	model, err := sentiment.New()
	if err != nil {
		return nil, fmt.Errorf("load the sentiment model: %w", err)
	}
	return &ingest.Recorder{Timeline: st.Timeline, Scorer: model, Sentiment: st.Sentiment, Contacts: st.Contacts, Teams: st.Teams}, nil
}

// newBot builds the command core on the configured stores.
func newBot(cfg Config, logger *slog.Logger, st *stores.Stores, rec *ingest.Recorder, dir bot.Directory, links func(handle, user string) string) (*bot.Bot, error) {
	return bot.New(bot.Config{
		Clients: st.Clients, Timeline: st.Timeline, Teams: st.Teams, Links: st.Links, Reminders: st.Reminders,
		Directory: dir, Admins: cfg.AdminIDs(), Recorder: rec, Stats: st.Stats, Segments: st.Segments, TimelineURL: links, Logger: logger,
	})
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
func newSlack(cfg Config, logger *slog.Logger, st *stores.Stores, api *slack.Client, dir *bslack.Directory, links web.Links, rec *ingest.Recorder) (*bslack.Handler, *bslack.SocketMode, error) {
	if api == nil {
		logger.Info("SLACK_BOT_TOKEN is not set: Slack is off")
		return nil, nil, nil
	}
	b, err := newBot(cfg, logger, st, rec, dir, timelineLinks(links))
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
