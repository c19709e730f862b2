package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/brokersync/brokersync/internal/demo"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks/web"
)

// demoCmd loads the demo desk into the configured store and prints links
// to a demo client's timeline. Running it again changes nothing.
func demoCmd(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
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
	res, err := demo.Load(ctx, demo.Stores{Clients: st.Clients, Teams: st.Teams, Trades: st.Trades, Catalogue: st.Catalogue, Recorder: rec})
	if err != nil {
		return err
	}
	key, err := linkKey(ctx, cfg, st)
	if err != nil {
		return err
	}
	links := web.Links{BaseURL: cfg.PublicURL, Key: key}
	first := res.Clients[0]
	broker := res.Brokers[first.Team][0]
	fmt.Fprintf(stdout, "Demo desk ready in %s: desks %s, %d clients, %s, %s newly counted.\n",
		time.Since(start).Round(time.Millisecond), strings.Join(res.Desks, " and "), len(res.Clients), store.Count(res.Events, "timeline event"), store.Count(res.NewFills, "fill"))
	for _, d := range res.Desks {
		fmt.Fprintf(stdout, "  %s brokers: %s\n", d, strings.Join(res.Brokers[d], ", "))
	}
	fmt.Fprintf(stdout, "  %s manages both.\n", demo.Manager)
	fmt.Fprintf(stdout, "Start the server (brokersync serve, same settings) and open, within %s:\n  %s\n", web.LinkTTL, links.Timeline(first.Handle, broker, time.Now()))
	fmt.Fprintf(stdout, "As the manager:\n  %s\n", links.Timeline(first.Handle, demo.Manager, time.Now()))
	fmt.Fprintf(stdout, "The manager's desk pages (clients, segments, follow-ups, digest):\n  %s\n", links.Desk(demo.Manager, time.Now()))
	return nil
}
