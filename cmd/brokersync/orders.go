package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// importOrdersCmd imports an order history CSV (ingest.OrdersCSVColumns):
// every row is checked and matched to its client before any is stored, so a
// bad file imports nothing. Importing the same file again changes nothing,
// which also makes a run interrupted by a store failure safe to repeat.
func importOrdersCmd(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"usage: brokersync import orders FILE.csv (- for standard input)\ncolumns: " + strings.Join(ingest.OrdersCSVColumns, ",")}
	}
	name := args[0]
	in, closeIn, err := openInput(name, stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	file, err := ingest.ReadOrdersCSV(in)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was imported", name, err)
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	// Orders are not scored for sentiment, so the recorder needs no model.
	intake := &ingest.Intake{Clients: st.Clients, Trades: st.Trades, Catalogue: st.Catalogue, Recorder: &ingest.Recorder{Timeline: st.Timeline}}
	start := time.Now()
	res, err := intake.ImportOrders(ctx, file)
	if err != nil {
		if res.Events == 0 {
			return fmt.Errorf("%s: %w; nothing was imported", name, err)
		}
		return fmt.Errorf("%s: %w; events stored before it: %d of %d; run the same import again to finish (nothing is duplicated)",
			name, err, res.Events, len(file.Events))
	}
	fmt.Fprintf(stdout, "imported %s in %s: %s counted, %d already counted before\n",
		store.Count(res.Events, "order event"), time.Since(start).Round(time.Millisecond), store.Count(res.NewFills, "fill"), res.DuplicateFills)
	return nil
}
