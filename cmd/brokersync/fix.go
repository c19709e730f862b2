package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/fix"
	"github.com/brokersync/brokersync/internal/backends"
)

// newDropCopy returns the FIX drop-copy client when BROKERSYNC_FIX_SETTINGS
// names a session settings file (nil otherwise). Its reports go through the
// same intake as the order webhook.
func newDropCopy(cfg Config, st *backends.Stores, rec *ingest.Recorder, reg prometheus.Registerer, logger *slog.Logger) (*fix.Client, error) {
	if cfg.FIXSettings == "" {
		return nil, nil
	}
	settings, err := fix.LoadSettingsFile(cfg.FIXSettings, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("config: BROKERSYNC_FIX_SETTINGS: %w", err)
	}
	return fix.New(fix.Options{
		Settings:    settings,
		Intake:      &ingest.Intake{Clients: st.Clients, Trades: st.Trades, Catalogue: st.Catalogue, Recorder: rec, Writers: st.Writers()},
		Logger:      logger,
		Metrics:     fix.NewMetrics(reg),
		MessageLog:  cfg.logLevel() == slog.LevelDebug,
		PostgresURL: cfg.PostgresURL,
	})
}

// checkFix logs on to the drop-copy session(s) of BROKERSYNC_FIX_SETTINGS
// and says what it found, storing nothing.
func checkFix(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	if cfg.FIXSettings == "" {
		return usageError{"check fix: BROKERSYNC_FIX_SETTINGS (-fix-settings) names no session settings file"}
	}
	settings, err := fix.LoadSettingsFile(cfg.FIXSettings, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("config: BROKERSYNC_FIX_SETTINGS: %w", err)
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	return fix.Check(ctx, fix.Options{
		Settings:    settings,
		Intake:      &ingest.Intake{Clients: st.Clients, Trades: st.Trades, Catalogue: st.Catalogue},
		Logger:      logger,
		MessageLog:  cfg.logLevel() == slog.LevelDebug,
		PostgresURL: cfg.PostgresURL,
	}, stdout, 20*time.Second)
}
