package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/backends"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
)

// storeConfig says where the server keeps its data, as its BROKERSYNC_*
// settings do: PostgreSQL and Cassandra when set, else the embedded store.
type storeConfig struct {
	dataDir, postgresURL, cassandraHosts, keyspace, consistency string
}

func (c *storeConfig) flags(fs *flag.FlagSet) {
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.dataDir, "data-dir", env("BROKERSYNC_DATA_DIR", ""), "the server's embedded store directory (BROKERSYNC_DATA_DIR)")
	fs.StringVar(&c.postgresURL, "postgres-url", env("BROKERSYNC_POSTGRES_URL", ""), "the server's PostgreSQL (BROKERSYNC_POSTGRES_URL)")
	fs.StringVar(&c.cassandraHosts, "cassandra-hosts", env("BROKERSYNC_CASSANDRA_HOSTS", ""), "the server's Cassandra (BROKERSYNC_CASSANDRA_HOSTS)")
	fs.StringVar(&c.keyspace, "cassandra-keyspace", env("BROKERSYNC_CASSANDRA_KEYSPACE", "brokersync"), "Cassandra keyspace")
	fs.StringVar(&c.consistency, "cassandra-consistency", env("BROKERSYNC_CASSANDRA_CONSISTENCY", "LOCAL_QUORUM"), "Cassandra consistency")
}

// backend is what the server writes to, and the ids of the load clients.
type backend struct {
	st  *backends.Stores
	ids map[string]uuid.UUID // by handle
}

func (c storeConfig) open(ctx context.Context) (*backend, error) {
	if (c.postgresURL == "" || c.cassandraHosts == "") && c.dataDir == "" {
		return nil, errors.New("no store: set BROKERSYNC_DATA_DIR (or -data-dir) as the server has it, or the PostgreSQL URL and Cassandra hosts")
	}
	// Errors only: a driver reconnecting during a store restart would bury
	// the report in warnings, and verification retries anyway.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	st, err := backends.Open(ctx, backends.Settings{
		DataDir:     c.dataDir,
		PostgresURL: c.postgresURL,
		Cassandra: cassandra.Config{
			Hosts:    strings.FieldsFunc(c.cassandraHosts, func(r rune) bool { return r == ',' || r == ' ' }),
			Keyspace: c.keyspace, Consistency: c.consistency,
		},
		Catalogue: store.DefaultCatalogue(), // it only reads
	}, logger)
	if err != nil {
		return nil, err
	}
	return &backend{st: st, ids: map[string]uuid.UUID{}}, nil
}

func (b *backend) close() error { return b.st.Close() }

// ensureClients returns the handles load-001 ... load-NNN, creating the
// clients that do not exist yet.
func (b *backend) ensureClients(ctx context.Context, n int) ([]string, error) {
	handles := make([]string, n)
	for i := range handles {
		h := fmt.Sprintf("load-%03d", i+1)
		handles[i] = h
		c, err := b.st.Clients.ClientByHandle(ctx, h)
		if store.ErrorCode(err) == store.ENOTFOUND {
			c = &store.Client{Handle: h, Name: "Load test client " + h[5:]}
			err = b.st.Clients.CreateClient(ctx, c, "webhookload")
		}
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", h, err)
		}
		b.ids[h] = c.ID
	}
	return handles, nil
}

// fillCounts returns each client's fills of the last year, to compare with
// after the run.
func (b *backend) fillCounts(ctx context.Context, handles []string) (map[string]int, error) {
	counts := map[string]int{}
	for _, h := range handles {
		st, err := b.st.Trades.TradeStats(ctx, b.ids[h], time.Now().Add(time.Hour))
		if err != nil {
			return nil, err
		}
		counts[h] = st.Trades365d
	}
	return counts, nil
}

// verdict compares what the server accepted with what the stores hold.
type verdict struct {
	accepted, onTimeline, duplicated, lost, unexpected int
	unanswered                                         int // stored though the request failed (a timeout hid the 200)
	fillsCounted, fillsWanted                          int
	firstLost                                          string
}

// ok: nothing accepted is lost or doubled. Events of requests that failed
// for good may be stored in part (the timeline written, the fill not yet):
// a sender's later retry completes them, so they only widen the fill range.
func (v verdict) ok() bool {
	return v.lost == 0 && v.duplicated == 0 && v.unexpected == 0 &&
		v.fillsCounted >= v.fillsWanted && v.fillsCounted <= v.fillsWanted+v.unanswered
}

func (v verdict) print(out io.Writer) {
	fmt.Fprintf(out, "timeline: %d accepted events, %d found, %d lost, %d duplicated, %d not accepted but stored\n",
		v.accepted, v.onTimeline, v.lost, v.duplicated, v.unexpected)
	if v.unanswered > 0 {
		fmt.Fprintf(out, "  %d events of failed requests were stored anyway (a timeout hid the answer); a sender's retry would find them\n", v.unanswered)
		fmt.Fprintf(out, "statistics: %d fills counted for %d accepted fills (+ up to %d of failed requests)\n", v.fillsCounted, v.fillsWanted, v.unanswered)
	} else {
		fmt.Fprintf(out, "statistics: %d fills counted for %d accepted fills\n", v.fillsCounted, v.fillsWanted)
	}
	if v.firstLost != "" {
		fmt.Fprintf(out, "  first lost event: %s\n", v.firstLost)
	}
	if v.ok() {
		fmt.Fprintln(out, "verified: every accepted event is on its client's timeline exactly once and counted once")
	}
}

// verify reads every load client's order events of this run back. Events
// that failed (no 200) may or may not have been stored, since a timeout can
// hide a success; they are neither lost nor unexpected. All events of the
// run are fills, so each accepted one must add one to its client's count.
func (b *backend) verify(ctx context.Context, runID string, res *result, handles []string, before map[string]int) (verdict, error) {
	v := verdict{accepted: len(res.accepted), fillsWanted: len(res.accepted)}
	seen := map[string]int{}
	after, err := b.fillCounts(ctx, handles)
	if err != nil {
		return v, err
	}
	for _, h := range handles {
		v.fillsCounted += after[h] - before[h]
		// Events are dated when sent: earlier runs' events need not be read.
		q := store.EventQuery{Kinds: []store.Kind{store.KindOrder}, Since: res.started.Add(-time.Minute), Limit: 1000}
		for {
			page, err := b.st.Timeline.Events(ctx, b.ids[h], q)
			if err != nil {
				return v, err
			}
			for _, e := range page.Events {
				if e.Source == store.SourceOrders && strings.HasPrefix(e.SourceID, runID+"-") {
					seen[e.SourceID]++
					if res.accepted[e.SourceID] != "" && res.accepted[e.SourceID] != h {
						return v, fmt.Errorf("event %s is on %s's timeline, sent for %s", e.SourceID, h, res.accepted[e.SourceID])
					}
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	for id, n := range seen {
		v.onTimeline++
		if n > 1 {
			v.duplicated++
		}
		if _, ok := res.accepted[id]; !ok {
			if len(res.failed) == 0 {
				v.unexpected++ // nothing failed, so nothing unanswered may be stored
			} else {
				v.unanswered++
			}
		}
	}
	for id := range res.accepted {
		if seen[id] == 0 {
			v.lost++
			if v.firstLost == "" {
				v.firstLost = id
			}
		}
	}
	return v, nil
}

// contracts are symbol and month; the year is the one after the order's, so
// that no contract has expired whenever the load runs.
var contracts = []struct{ root, exchange string }{{"ZCZ", ""}, {"CLF", ""}, {"GCG", ""}, {"ZSX", "CBOT"}, {"KCH", ""}}

// appendOrder appends a filled order as an order system's drop copy sends
// it. It writes the JSON by hand: at thousands of events a second the load
// generator shares the machine with the server, and encoding/json on maps
// would cost it several times more CPU.
func appendOrder(b []byte, id, client string, seq int, at time.Time) []byte {
	k := contracts[seq%len(contracts)]
	qty := strconv.Itoa(1 + seq%10)
	side := [2]string{"buy", "sell"}[seq%2]
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"order_id":`...)
	b = strconv.AppendQuote(b, "O-"+id)
	b = append(b, `,"exec_id":`...)
	b = strconv.AppendQuote(b, "X-"+id)
	b = append(b, `,"client":`...)
	b = strconv.AppendQuote(b, client)
	b = append(b, `,"status":"filled","side":"`+side+`","contract":"`+k.root...)
	yy := (at.UTC().Year() + 1) % 100
	b = append(b, byte('0'+yy/10), byte('0'+yy%10), '"')
	if k.exchange != "" {
		b = append(b, `,"exchange":"`+k.exchange+`"`...)
	}
	b = append(b, `,"quantity":`+qty+`,"cum_qty":`+qty+`,"last_qty":`+qty+
		`,"last_px":452.25,"avg_px":452.25,"currency":"USD","order_type":"limit","time_in_force":"day","time":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}
