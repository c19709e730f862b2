package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/clientcsv"
)

func importCmd(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "orders" {
		return importOrdersCmd(ctx, cfg, logger, args[1:], stdin, stdout)
	}
	if len(args) != 2 || args[0] != "clients" {
		return usageError{"usage: brokersync import clients|orders FILE.csv (- for standard input)"}
	}
	in, closeIn, err := openInput(args[1], stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	clients, err := clientcsv.Read(in)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was imported", args[1], err)
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := st.Clients.ImportClients(ctx, clients, "import:"+args[1]); err != nil {
		return fmt.Errorf("%s: %w; nothing was imported", args[1], err)
	}
	fmt.Fprintf(stdout, "imported %s in %s\n", store.Count(len(clients), "client"), time.Since(start).Round(time.Millisecond))
	return nil
}

func exportCmd(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "clients" {
		return usageError{"usage: brokersync export clients > clients.csv"}
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	return clientcsv.Write(stdout, st.Clients.AllClients(ctx))
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
