// Command brokersync is the BrokerSync server and its command-line tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `BrokerSync: client relationships for a commodity brokerage desk.

Usage:
  brokersync serve [flags]                  run the server (HTTP, Slack, ingest, reminders)
  brokersync migrate [flags]                apply database migrations and exit
  brokersync demo [flags]                   load a demo desk (2 desks, 50 clients, a year of history)
                                            and print a link to open its timeline
  brokersync import clients [--team DESK] [--broker U123] FILE.csv
                                            import client profiles (all rows or none)
  brokersync import orders FILE.csv         import order history (all rows or none)
  brokersync export clients                 write every client profile as CSV to stdout
  brokersync rebuild-stats [--after HANDLE] recount every client's statistics from the timeline
  brokersync workflows apply FILE.yaml      create or update desk workflows from a YAML file (checked, idempotent)
  brokersync exec '/client show acme-grain' --as U123
                                            run a slash command as that Slack user, print plain text
  brokersync check fix [flags]              log on to the FIX drop copy, say what is waiting, store nothing
  brokersync check mail [URL] [flags]       sign in to the mailbox (or every configured one), say what is there
  brokersync check calls [--url URL]        check the telephony settings; with --url, send serve signed test calls
  brokersync sentiment                      score one text per line from stdin
  brokersync sentiment eval FILE.csv        accuracy and macro-F1 on a labelled CSV
  brokersync version                        print the version

Every command takes the configuration flags; "brokersync serve -h" lists them.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "brokersync:", err)
		}
		os.Exit(exitCode(err))
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// run is the whole program; tests call it with their own arguments,
// environment and streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "brokersync", buildVersion())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "sentiment":
		return runSentiment(args, stdin, stdout)
	}
	switch cmd {
	case "serve", "migrate", "import", "export", "exec", "demo", "rebuild-stats", "check", "workflows":
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	fs := flag.NewFlagSet("brokersync "+cmd, flag.ContinueOnError)
	// The flag package would print every flag to stderr on any mistake; an
	// error names the mistake and -h lists the flags, on stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var what, mailURL, callsURL string
	if cmd == "check" {
		// What to check comes first: brokersync check fix|mail|calls [flags].
		if len(args) == 0 || (args[0] != "fix" && args[0] != "mail" && args[0] != "calls") {
			return usageError{checkUsage}
		}
		what, args = args[0], args[1:]
		if what == "mail" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			mailURL, args = args[0], args[1:]
		}
		if what == "calls" {
			fs.StringVar(&callsURL, "url", "", "base URL of a running serve (e.g. https://brokersync.desk.example) to send signed test calls to; they store nothing")
		}
	}
	var ex execFlags
	if cmd == "exec" {
		ex.register(fs)
	}
	var after string
	if cmd == "rebuild-stats" {
		fs.StringVar(&after, "after", "", "resume after this client handle")
	}
	cfg, err := loadConfig(fs, args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		printFlags(stdout, cmd, fs)
		return nil
	}
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger)
	case "migrate":
		return migrate(ctx, cfg, logger)
	case "demo":
		return demoCmd(ctx, cfg, logger, stdout)
	case "import":
		return importCmd(ctx, cfg, logger, fs.Args(), stdin, stdout)
	case "export":
		return exportCmd(ctx, cfg, logger, fs.Args(), stdout)
	case "rebuild-stats":
		return rebuildStatsCmd(ctx, cfg, logger, after, fs.Args(), stdout)
	case "workflows":
		return workflowsCmd(ctx, cfg, logger, fs.Args(), stdout)
	case "check":
		if len(fs.Args()) != 0 {
			return usageError{checkUsage}
		}
		switch what {
		case "mail":
			return checkMail(ctx, cfg, mailURL, stdout)
		case "calls":
			return checkCalls(ctx, cfg, callsURL, stdout)
		}
		return checkFix(ctx, cfg, logger, stdout)
	}
	// exec answers on stdout; its log lines are for whoever asks for them.
	if !ex.verbose && !logLevelGiven(fs, getenv) {
		logger = slog.New(slog.DiscardHandler)
	}
	return execCmd(ctx, cfg, logger, ex, fs.Args(), stdout)
}

const checkUsage = "usage: brokersync check fix [flags] | check mail [URL] [flags] | check calls [--url URL] [flags]"

// commandHelp heads each command's -h.
var commandHelp = map[string]string{
	"serve":   "usage: brokersync serve [flags]\n\nRuns the server: HTTP, Slack, mail and webhook ingestion.",
	"migrate": "usage: brokersync migrate [flags]\n\nApplies the stores' migrations and exits.",
	"import":  "usage: brokersync import [flags] clients|orders FILE.csv\n\nImports client profiles or order history: every row or none (- reads standard input).",
	"export":  "usage: brokersync export [flags] clients > clients.csv\n\nWrites every client profile as CSV.",
	"exec":    execUsage,
	"demo":    "usage: brokersync demo [flags]\n\nLoads a demo desk into the configured store (two desks, brokers and a manager, 50 clients, a year of\nemails, chats, calls, meetings, orders and fills, notes, feedback and follow-ups) and prints a link to\na demo client's timeline. Running it again changes nothing.",
	"check": checkUsage + "\n\n" +
		"check fix logs on to the FIX drop-copy session(s) of BROKERSYNC_FIX_SETTINGS, says whether the logon succeeded and what ExecutionReport is waiting (and for which client), and logs off. It stores nothing and acknowledges nothing: run it while serve does not hold the session.\n\n" +
		"check mail signs in to the mailbox URL given (or every mailbox of BROKERSYNC_IMAP_URL and BROKERSYNC_IMAP_MAILBOXES) as serve would, password or OAuth2, and says how it signed in, how many folders the account has, and the folder's UIDVALIDITY, number of messages and newest message. It stores nothing and changes nothing on the server.\n\n" +
		"check calls says which telephony endpoints the settings enable and whether their secrets look right; with --url it sends the running serve one signed test request per endpoint, of a kind serve acknowledges and stores nothing for, and reports each answer.",
}

// printFlags answers -h: what the command does and every flag it takes,
// with the environment variable each setting is read from. Secrets show no
// value.
func printFlags(w io.Writer, cmd string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nFlags (settings are also read from the environment variable named after each):\n", commandHelp[cmd])
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// logLevelGiven reports whether the log level was set, by flag or
// environment.
func logLevelGiven(fs *flag.FlagSet, getenv func(string) string) bool {
	given := getenv("BROKERSYNC_LOG_LEVEL") != ""
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "log-level" })
	return given
}

func newLogger(w io.Writer, cfg Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			return info.Main.Version
		}
	}
	return "dev"
}
