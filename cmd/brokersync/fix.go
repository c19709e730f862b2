package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/fix"
	"github.com/brokersync/brokersync/internal/stores"
)

// newDropCopy returns the FIX drop-copy client when BROKERSYNC_FIX_SETTINGS
// names a session settings file (nil otherwise). Its reports go through the
// same intake as the order webhook.
func newDropCopy(cfg Config, st *stores.Stores, rec *ingest.Recorder, reg prometheus.Registerer, logger *slog.Logger) (*fix.Client, error) {
	if cfg.FIXSettings == "" {
		return nil, nil
	}
	settings, err := fix.LoadSettingsFile(cfg.FIXSettings, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("config: BROKERSYNC_FIX_SETTINGS: %w", err)
	}
	return fix.New(fix.Options{
		Settings:   settings,
		Intake:     &ingest.Intake{Clients: st.Clients, Trades: st.Trades, Recorder: rec},
		Logger:     logger,
		Metrics:    fix.NewMetrics(reg),
		MessageLog: cfg.logLevel() == slog.LevelDebug,
	})
}
