package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/clientcsv"
)

const importClientsUsage = `usage: brokersync import clients [--team DESK] [--broker U123] FILE.csv (- for standard input)
  --team DESK    desk of the rows whose team column is empty
  --broker U123  broker (Slack user id) of the rows whose broker column is empty
Every client needs a desk and a broker: a row without them is refused unless the flag gives one.`

func importCmd(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "orders" {
		return importOrdersCmd(ctx, cfg, logger, args[1:], stdin, stdout)
	}
	if len(args) == 0 || args[0] != "clients" {
		return usageError{"usage: brokersync import clients|orders FILE.csv (- for standard input)"}
	}
	name, defaults, err := importClientsArgs(args[1:])
	if err != nil {
		return usageError{err.Error() + "\n" + importClientsUsage}
	}
	in, closeIn, err := openInput(name, stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	clients, err := clientcsv.Read(in, defaults, cfg.cat)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was imported", name, err)
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	rec, err := newRecorder(st)
	if err != nil {
		return err
	}
	start := time.Now()
	err = ingest.Profiles{Clients: st.Clients, Recorder: rec}.Import(ctx, clients, "import:"+name, name)
	var unrecorded *ingest.UnrecordedError
	switch {
	case errors.As(err, &unrecorded):
		fmt.Fprintf(stdout, "warning: the clients were imported, but their timelines could not be told: %s\n", store.ErrorMessage(unrecorded.Err))
	case err != nil:
		return fmt.Errorf("%s: %w; nothing was imported", name, err)
	}
	fmt.Fprintf(stdout, "imported %s in %s\n", store.Count(len(clients), "client"), time.Since(start).Round(time.Millisecond))
	return warnUnstaffed(ctx, st.Teams, clients, stdout)
}

// importClientsArgs reads FILE and the --team and --broker flags, in any order.
func importClientsArgs(args []string) (name string, d clientcsv.Defaults, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" {
			if name != "" {
				return "", d, fmt.Errorf("one file at a time: %q and %q", name, a)
			}
			name = a
			continue
		}
		if flagName != "team" && flagName != "broker" {
			return "", d, fmt.Errorf("unknown flag %s", a)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", d, fmt.Errorf("--%s needs a value", flagName)
			}
			i++
			value = args[i]
		}
		if flagName == "team" {
			d.Team = value
		} else {
			d.Broker = value
		}
	}
	if name == "" {
		return "", d, fmt.Errorf("which file?")
	}
	if err := d.Check(); err != nil {
		return "", d, fmt.Errorf("--%s", err.Error())
	}
	return name, d, nil
}

// warnUnstaffed says which imported clients no one on their desk can see
// yet: a desk nobody is on, a broker who is not on the client's desk. They
// are imported all the same (desks are often staffed after the first
// import), and the warning says how to fix it.
func warnUnstaffed(ctx context.Context, teams store.TeamStore, clients []*store.Client, w io.Writer) error {
	members, err := teams.Members(ctx, "")
	if err != nil {
		return fmt.Errorf("the clients were imported, but the desks could not be read to check them: %w", err)
	}
	onDesk := map[string]bool{} // desk, or desk + NUL + user
	for _, m := range members {
		onDesk[m.Desk] = true
		onDesk[m.Desk+"\x00"+m.SlackID] = true
	}
	empty, strangers := map[string]int{}, map[[2]string]int{}
	for _, c := range clients {
		switch {
		case !onDesk[c.Team]:
			empty[c.Team]++
		case !onDesk[c.Team+"\x00"+c.Broker]:
			strangers[[2]string{c.Team, c.Broker}]++
		}
	}
	for _, desk := range slices.Sorted(maps.Keys(empty)) {
		fmt.Fprintf(w, "warning: nobody is on desk %s yet: its %s only admins can see until someone is added with /team add @user %s broker\n",
			desk, store.Count(empty[desk], "client"), desk)
	}
	for _, k := range slices.SortedFunc(maps.Keys(strangers), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) }) {
		fmt.Fprintf(w, "warning: broker %s is not on desk %s (%s): add them with /team add @%s %s broker, or set another broker\n",
			k[1], k[0], store.Count(strangers[k], "client"), k[1], k[0])
	}
	return nil
}

const exportUsage = `usage: brokersync export clients [--segment '<filter or segment name>' --as U123] > clients.csv
  --segment F  only the clients a saved segment or a filter matches, among those the user --as may see`

func exportCmd(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "clients" {
		return usageError{exportUsage}
	}
	var filter, as string
	var hasFilter bool
	for i := 1; i < len(args); i++ {
		name, value, has := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name != "segment" && name != "as" {
			return usageError{fmt.Sprintf("unknown argument %q\n%s", args[i], exportUsage)}
		}
		if !has {
			if i+1 >= len(args) {
				return usageError{"--" + name + " needs a value\n" + exportUsage}
			}
			i++
			value = args[i]
		}
		if name == "segment" {
			filter, hasFilter = value, true
		} else {
			as = userID(value)
		}
	}
	if hasFilter && as == "" {
		return usageError{"--segment needs --as <slack id>: the export holds only the clients that person may see\n" + exportUsage}
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if !hasFilter {
		return clientcsv.Write(stdout, st.Clients.AllClients(ctx))
	}
	_, sd := slackDirectory(cfg, logger)
	// An export writes nothing on a timeline: its recorder needs no model.
	b, err := newBot(cfg, logger, st, &ingest.Recorder{Timeline: st.Timeline}, directory(sd), nil)
	if err != nil {
		return err
	}
	_, err = b.ExportSegment(ctx, as, filter, stdout)
	return err
}

// openInput opens the file an import reads, or stdin for "-".
func openInput(name string, stdin io.Reader) (io.Reader, func() error, error) {
	if name == "-" {
		return stdin, func() error { return nil }, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
