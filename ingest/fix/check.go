package fix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Check logs on to every session of opts.Settings, describes to w what it
// finds (the logon, and the first ExecutionReport waiting, matched to its
// client) and logs off. It stores no event and acknowledges no report: a
// report seen is resent to the next session (BrokerSync's serve). The
// session's sequence numbers move on as the order system sees them. Run it
// while serve does not hold the session. The error says why a logon failed
// (wrong credentials: the order system's Text 58).
func Check(ctx context.Context, opts Options, w io.Writer, wait time.Duration) error {
	opts.DryRun = true
	c, err := New(opts)
	if err != nil {
		return err
	}
	events := c.Watch()
	want := len(opts.Settings.SessionSettings())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	loggedOn, finished := map[string]bool{}, map[string]bool{}
	var failures []string
	timeout := time.After(wait)
	var quiet <-chan time.Time
	for len(finished) < want {
		select {
		case e := <-events:
			switch e.What {
			case "logon":
				if !loggedOn[e.Session] {
					loggedOn[e.Session] = true
					fmt.Fprintf(w, "%s: logged on\n", e.Session)
					quiet = time.After(3 * time.Second)
				}
			case "logout", "reject":
				if !loggedOn[e.Session] && e.Text != "" && !finished[e.Session] {
					finished[e.Session] = true
					failures = append(failures, fmt.Sprintf("%s: the order system refused the logon: %s", e.Session, e.Text))
				}
			case "report":
				if finished[e.Session] {
					continue
				}
				finished[e.Session] = true
				fmt.Fprintf(w, "%s: ExecutionReport %d waiting (ExecID %s, Account %s, %s): %s\n", e.Session, e.Seq, e.ExecID, e.Account, e.Kind, describe(e))
			}
		case <-quiet:
			for s := range loggedOn {
				if !finished[s] {
					finished[s] = true
					fmt.Fprintf(w, "%s: no ExecutionReport waiting\n", s)
				}
			}
			if len(loggedOn) < want {
				quiet = nil
			}
		case <-timeout:
			for s := range opts.Settings.SessionSettings() {
				if !loggedOn[s.String()] && !finished[s.String()] {
					failures = append(failures, fmt.Sprintf("%s: no logon within %v (check SocketConnectHost, SocketConnectPort, the CompIDs and TLS; BROKERSYNC_LOG_LEVEL=debug shows the session)", s, wait))
				}
			}
			finished = map[string]bool{"": true}
			want = 0
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "\n"))
	}
	return nil
}

func describe(e Event) string {
	switch e.Result {
	case ResultStored:
		return "would be stored for " + e.Text
	case ResultSkipped:
		return "not an order event, would be skipped"
	case ResultUnknownClient:
		return "no client has this account: " + e.Text
	default:
		return e.Text
	}
}
