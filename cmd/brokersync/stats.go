package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

const rebuildStatsUsage = `usage: brokersync rebuild-stats [--after HANDLE]
Recounts every client's statistics (fills and notional, last contacts, sentiment) from the timeline,
one client at a time in handle order; running it again gives the same result.
  --after HANDLE  resume after this client (as the last progress line names it)`

// rebuildStatsEvery is how many clients pass between progress lines.
const rebuildStatsEvery = 1000

func rebuildStatsCmd(ctx context.Context, cfg Config, logger *slog.Logger, after string, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("unknown argument %q\n%s", args[0], rebuildStatsUsage)}
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	last := after
	n := 0
	rb := &ingest.StatsRebuild{Clients: st.Clients, Timeline: st.Timeline, Teams: st.Teams, Stats: st.Rebuilder, Catalogue: st.Catalogue,
		Progress: func(handle string, _ store.ClientCounts) {
			last = handle
			if n++; n%rebuildStatsEvery == 0 {
				fmt.Fprintf(stdout, "%s rebuilt, up to %s\n", store.Count(n, "client"), handle)
			}
		}}
	if _, err := rb.Run(ctx, after); err != nil {
		hint := "run brokersync rebuild-stats again to start over"
		if last != "" {
			hint = "run brokersync rebuild-stats --after " + last + " to resume"
		}
		return fmt.Errorf("rebuild statistics: %w; %s rebuilt before it; %s", err, store.Count(n, "client"), hint)
	}
	fmt.Fprintf(stdout, "rebuilt the statistics of %s in %s\n", store.Count(n, "client"), time.Since(start).Round(time.Millisecond))
	return nil
}
