package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// stores are the backends chosen by the configuration: PostgreSQL for
// profiles when a URL is set, Cassandra for the timeline when hosts are set,
// the embedded SQLite store for whatever is not configured.
type stores struct {
	Clients     store.ClientStore
	Trades      store.TradeStore
	Sentiment   store.SentimentStore
	Checkpoints store.CheckpointStore
	Teams       store.TeamStore
	Links       store.LinkStore
	Once        store.OnceStore
	Timeline    store.TimelineStore
	closers     []func() error
}

// records is the system of record: everything but the timeline. PostgreSQL
// and the embedded store each provide all of it.
type records interface {
	store.ClientStore
	store.TradeStore
	store.SentimentStore
	store.CheckpointStore
	store.TeamStore
	store.LinkStore
	store.OnceStore
}

func (s *stores) setRecords(r records) {
	s.Clients, s.Trades, s.Sentiment, s.Checkpoints = r, r, r, r
	s.Teams, s.Links, s.Once = r, r, r
}

func openStores(ctx context.Context, cfg Config, logger *slog.Logger) (*stores, error) {
	s := &stores{}
	var emb *embedded.DB
	embeddedDB := func() (*embedded.DB, error) {
		if emb != nil {
			return emb, nil
		}
		var err error
		emb, err = embedded.Open(ctx, cfg.DataDir, logger)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, emb.Close)
		logger.Info("embedded store open", slog.String("dir", cfg.DataDir))
		return emb, nil
	}
	if cfg.PostgresURL != "" {
		pg, err := openPostgres(ctx, cfg, logger)
		if err != nil {
			return nil, s.fail(err)
		}
		s.setRecords(pg)
		s.closers = append(s.closers, pg.Close)
	} else {
		db, err := embeddedDB()
		if err != nil {
			return nil, s.fail(err)
		}
		s.setRecords(db)
	}
	if len(cfg.Hosts()) > 0 {
		tl, err := openCassandra(ctx, cfg, logger)
		if err != nil {
			return nil, s.fail(err)
		}
		s.Timeline = tl
		s.closers = append(s.closers, tl.Close)
	} else {
		db, err := embeddedDB()
		if err != nil {
			return nil, s.fail(err)
		}
		s.Timeline = db.Timeline()
	}
	return s, nil
}

func (s *stores) fail(err error) error {
	return errors.Join(err, s.Close())
}

// Close closes every store, in reverse order of opening.
func (s *stores) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}
