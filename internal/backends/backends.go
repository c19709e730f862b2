// Package backends opens the backends a BrokerSync configuration names:
// PostgreSQL for the records when a URL is set, Cassandra for the timeline
// when hosts are set, and the embedded SQLite store for whatever is not
// configured. The server and the tools that check what it stored open them
// the same way.
package backends

import (
	"context"
	"errors"
	"log/slog"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/segment"
)

// Settings say where the data is, and the catalogue the stores check
// profiles and segments and value fills with.
type Settings struct {
	DataDir     string           // the embedded store's directory
	PostgresURL string           // "" for the embedded store
	Cassandra   cassandra.Config // no Hosts for the embedded timeline
	Catalogue   *store.Catalogue // required
}

// Stores are the open backends, and the catalogue they were opened with,
// which whatever uses them is handed too.
type Stores struct {
	Catalogue   *store.Catalogue
	Clients     store.ClientStore
	Trades      store.TradeStore
	Sentiment   store.SentimentStore
	Checkpoints store.CheckpointStore
	Leases      store.LeaseStore
	Periodic    store.PeriodicStore
	Teams       store.TeamStore
	Links       store.LinkStore
	Once        store.OnceStore
	Keys        store.KeyStore
	Reminders   store.ReminderStore
	Milestones  store.MilestoneStore
	Digests     store.DigestStore
	DigestIndex store.DigestEventIndex
	Timeline    store.TimelineStore
	Contacts    store.ContactStore
	Rebuilder   store.StatsRebuilder
	Stats       store.StatsReader
	Segments    segments
	// Responsiveness keeps recommendations and each client's
	// responsiveness.
	Responsiveness store.ResponsivenessStore
	// Activity keeps each client's statistics as columns for filters.
	Activity  store.ActivityStore
	Workflows store.WorkflowStore
	closers   []func() error
	embedded  bool // some store is the embedded one
}

// Writers is how many group writes of events and fills may run at once
// (ingest.Intake): one when the embedded store holds any of them, since its
// writes queue for one lock anyway; a few for PostgreSQL and Cassandra,
// which take several in parallel.
func (s *Stores) Writers() int {
	if s.embedded {
		return 1
	}
	return 2
}

// segments keeps saved segments and matches filters.
type segments interface {
	segment.Matcher
	segment.IDMatcher
	segment.Store
	segment.MembershipStore
}

// records is the system of record: everything but the timeline. PostgreSQL
// and the embedded store each provide all of it.
type records interface {
	store.ClientStore
	store.TradeStore
	store.SentimentStore
	store.CheckpointStore
	store.LeaseStore
	store.PeriodicStore
	store.TeamStore
	store.LinkStore
	store.OnceStore
	store.KeyStore
	store.ReminderStore
	store.MilestoneStore
	store.DigestStore
	store.DigestEventIndex
	store.ContactStore
	store.StatsRebuilder
	store.ResponsivenessStore
	store.ActivityStore
	store.WorkflowStore
	segment.Matcher
	segment.IDMatcher
	segment.Store
	segment.MembershipStore
}

func (s *Stores) setRecords(r records) {
	s.Clients, s.Trades, s.Sentiment, s.Checkpoints, s.Leases, s.Periodic = r, r, r, r, r, r
	s.Teams, s.Links, s.Once, s.Keys, s.Reminders = r, r, r, r, r
	s.Contacts, s.Rebuilder, s.Stats, s.Segments, s.Responsiveness = r, r, r, r, r
	s.Milestones, s.Digests, s.DigestIndex, s.Workflows, s.Activity = r, r, r, r, r
}

// Open opens the backends set says. On an error nothing is left open.
func Open(ctx context.Context, set Settings, logger *slog.Logger) (*Stores, error) {
	if set.Catalogue == nil {
		return nil, store.Internal("open stores", errors.New("no catalogue"))
	}
	s := &Stores{Catalogue: set.Catalogue}
	var emb *embedded.DB
	embeddedDB := func() (*embedded.DB, error) {
		if emb != nil {
			return emb, nil
		}
		var err error
		if emb, err = embedded.Open(ctx, set.DataDir, set.Catalogue, logger); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, emb.Close)
		s.embedded = true
		logger.Info("embedded store open", slog.String("dir", set.DataDir))
		return emb, nil
	}
	if set.PostgresURL != "" {
		pg, err := postgres.Open(ctx, set.PostgresURL, set.Catalogue, logger)
		if err != nil {
			return nil, s.fail(err)
		}
		s.closers = append(s.closers, pg.Close)
		logger.Info("postgres store open")
		s.setRecords(pg)
	} else {
		db, err := embeddedDB()
		if err != nil {
			return nil, s.fail(err)
		}
		s.setRecords(db)
	}
	if len(set.Cassandra.Hosts) > 0 {
		tl, err := cassandra.Open(ctx, set.Cassandra, logger)
		if err != nil {
			return nil, s.fail(err)
		}
		s.closers = append(s.closers, tl.Close)
		logger.Info("cassandra timeline open", slog.Any("hosts", set.Cassandra.Hosts), slog.String("keyspace", set.Cassandra.Keyspace))
		s.Timeline = tl
	} else {
		db, err := embeddedDB()
		if err != nil {
			return nil, s.fail(err)
		}
		s.Timeline = db.Timeline()
	}
	return s, nil
}

func (s *Stores) fail(err error) error {
	return errors.Join(err, s.Close())
}

// Close closes every store, in reverse order of opening.
func (s *Stores) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}
