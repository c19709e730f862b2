package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/brokersync/brokersync/bot"
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
	links := &web.Links{BaseURL: cfg.PublicURL, Key: key}
	rec, err := newRecorder(st)
	if err != nil {
		return err
	}
	// A call logged here resolves follow-ups as one logged in Slack does.
	rec.Subscribers = append(rec.Subscribers, newTriggers(st, sd, logger))
	// And fires the desks' workflows as the server would.
	rec.Subscribers = append(rec.Subscribers, newWorkflows(st, rec, logger))
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
