// Package cassandra keeps client timelines in Apache Cassandra, through the
// Apache Go driver (github.com/apache/cassandra-gocql-driver/v2).
//
// Layout (migrations/0001_timeline.cql): events are partitioned by client and
// calendar month (UTC) and clustered newest first; client_buckets lists a
// client's months newest first; event_ids lists each client's event ids with
// their times. An event's id is derived from its source and source id
// (store.EventID). event_claims (migrations/0002_event_claims.cql) holds,
// in each client's partition, the time and content fingerprint each id was
// first recorded with, and event_owners the client each id belongs to.
// Every append claims its ids with one conditional batch (a lightweight
// transaction) per client before writing rows, so a repeat lands on the
// same primary key with its first time, and an id reused with other content,
// or for another client, is refused rather than written (see AppendEvents).
package cassandra

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/brokersync/brokersync/store"
)

// Config says how to reach the cluster and how to keep the timeline there.
type Config struct {
	// Hosts are contact points, "host" or "host:port" (default port 9042).
	Hosts []string
	// Keyspace holds the timeline tables; it is created when missing.
	Keyspace string
	// Replication is the CQL replication map used when creating the keyspace,
	// e.g. "{'class':'NetworkTopologyStrategy','dc1':3}". Default: SimpleStrategy
	// with one replica, for a single node.
	Replication string
	// Consistency of reads and writes: ONE, LOCAL_ONE, QUORUM, LOCAL_QUORUM, ...
	// Default LOCAL_QUORUM (which is one replica when the replication factor is 1).
	Consistency string
	// Timeout bounds connecting and each request. Default 5s.
	Timeout time.Duration
	// LocalDC, when set, keeps requests in that data centre (DC-aware routing
	// under the token-aware policy); pair it with a LOCAL_* consistency.
	LocalDC string
	// SpeculativeDelay: a read that has no answer after this long is sent to
	// a second replica as well, and the first answer wins. It only matters
	// with more than one replica (a node in a GC pause, or one that died
	// without closing its connections). Default 200ms; negative turns it off.
	SpeculativeDelay time.Duration
}

const (
	defaultReplication = "{'class': 'SimpleStrategy', 'replication_factor': 1}"
	defaultTimeout     = 5 * time.Second
	defaultSpeculative = 200 * time.Millisecond
)

// Cassandra identifiers: letters, digits and underscores, at most 48.
var keyspaceName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

func (c Config) withDefaults() (Config, gocql.Consistency, error) {
	if len(c.Hosts) == 0 {
		return c, 0, store.Invalid("cassandra hosts", "at least one host is needed")
	}
	if !keyspaceName.MatchString(c.Keyspace) {
		return c, 0, store.Invalid("cassandra keyspace", "%q is not a keyspace name (letters, digits, _; at most 48)", c.Keyspace)
	}
	c.Keyspace = strings.ToLower(c.Keyspace)
	if c.Replication == "" {
		c.Replication = defaultReplication
	}
	// The map is pasted into CREATE KEYSPACE: accept a single map literal only.
	if r := strings.TrimSpace(c.Replication); !strings.HasPrefix(r, "{") || !strings.HasSuffix(r, "}") || strings.ContainsAny(r, ";") {
		return c, 0, store.Invalid("cassandra replication", "%q is not a CQL replication map like %s", c.Replication, defaultReplication)
	}
	if c.Consistency == "" {
		c.Consistency = "LOCAL_QUORUM"
	}
	cons, err := gocql.ParseConsistencyWrapper(c.Consistency)
	if err != nil {
		return c, 0, store.Invalid("cassandra consistency", "%q is not a consistency level (ONE, LOCAL_QUORUM, QUORUM, ...)", c.Consistency)
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.SpeculativeDelay == 0 {
		c.SpeculativeDelay = defaultSpeculative
	}
	return c, cons, nil
}

func (c Config) cluster(cons gocql.Consistency, logger *slog.Logger) *gocql.ClusterConfig {
	cl := gocql.NewCluster(c.Hosts...)
	cl.Consistency = cons
	// Claims are lightweight transactions: keep their Paxos rounds in the
	// local data centre, like LOCAL_QUORUM keeps the rest.
	cl.SerialConsistency = gocql.LocalSerial
	cl.Timeout = c.Timeout
	cl.ConnectTimeout = c.Timeout
	fallback := gocql.RoundRobinHostPolicy()
	if c.LocalDC != "" {
		fallback = gocql.DCAwareRoundRobinPolicy(c.LocalDC)
	}
	// Token-aware: each statement goes straight to a replica of its partition,
	// saving the coordinator hop; batches route by their first statement, and
	// ours are single-partition.
	// Shuffling spreads a hot partition's reads over all its replicas.
	cl.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(fallback, gocql.ShuffleReplicas())
	// Upserts, deletes and reads are idempotent: the driver may send them
	// again, on another replica, after a timeout or a lost connection. The
	// lightweight transactions that claim event ids are not (claimClient,
	// settle and backfillClaims mark them so): a claim that timed out may
	// have been applied, and only our caller's retry, which reads the claim
	// back, can tell (see docs/RELIABILITY.md).
	cl.DefaultIdempotence = true
	cl.RetryPolicy = retryPolicy{retries: 2, min: 50 * time.Millisecond, max: 500 * time.Millisecond}
	// The driver re-dials a node it marked down only every ReconnectInterval
	// (default 60s); a restarted single node would leave us unavailable for a
	// minute. Probing down nodes every 2s costs nothing while all are up.
	cl.ReconnectInterval = 2 * time.Second
	cl.ReconnectionPolicy = &gocql.ExponentialReconnectionPolicy{MaxRetries: 5, InitialInterval: 200 * time.Millisecond, MaxInterval: 2 * time.Second}
	cl.Logger = driverLogger{logger.With(slog.String("store", "cassandra"))}
	return cl
}

// Timeline is the Cassandra timeline store. It is safe for concurrent use.
type Timeline struct {
	session *gocql.Session
	counter *dayCounter // counts the days appends marked
	// spec is the speculative execution of reads; nil for none.
	spec gocql.SpeculativeExecutionPolicy
}

// read marks q as a read that may be sent to a second replica while the
// first is slow to answer. Only idempotent statements are ever speculated.
func (t *Timeline) read(q *gocql.Query) *gocql.Query {
	if t.spec == nil {
		return q
	}
	return q.SetSpeculativeExecutionPolicy(t.spec)
}

// retryPolicy retries a failed idempotent statement (the driver never
// retries others) on the next host of the query plan, after a backoff that
// the request's context cuts short, and only for failures that another
// attempt may cure: timeouts, too few live replicas, an overloaded or
// starting node, a dropped connection. Bad CQL, a schema mismatch or a
// refused login fail at once.
type retryPolicy struct {
	retries  int
	min, max time.Duration
}

func (p retryPolicy) Attempt(q gocql.RetryableQuery) bool {
	n := q.Attempts()
	if n > p.retries {
		return false
	}
	d := p.min << max(n-1, 0)
	if d > p.max || d <= 0 {
		d = p.max
	}
	ctx := q.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (p retryPolicy) GetRetryType(err error) gocql.RetryType {
	if retryable(err) {
		return gocql.RetryNextHost
	}
	return gocql.Rethrow
}

var _ store.TimelineStore = (*Timeline)(nil)

// Open connects, creates the keyspace when missing and applies migrations.
// EINVALID for a bad config, EUNAVAILABLE when no host answers.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Timeline, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, cons, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ensureKeyspace(ctx, cfg, cons, logger); err != nil {
		return nil, err
	}
	cl := cfg.cluster(cons, logger)
	cl.Keyspace = cfg.Keyspace
	session, err := createSession(ctx, cl)
	if err != nil {
		return nil, connectErr(err)
	}
	if err := migrate(ctx, session, logger); err != nil {
		session.Close()
		return nil, err
	}
	t := &Timeline{session: session}
	// Speculating needs a second replica to send the read to. (With one,
	// the driver's second attempt finds no host and may answer first with
	// "no connections".)
	rf, err := replicationFactor(ctx, session, cfg.Keyspace)
	if err != nil {
		session.Close()
		return nil, err
	}
	if cfg.SpeculativeDelay > 0 && rf > 1 {
		t.spec = &gocql.SimpleSpeculativeExecution{NumAttempts: 1, TimeoutDelay: cfg.SpeculativeDelay}
	}
	t.counter = newDayCounter(t)
	return t, nil
}

// ensureKeyspace creates the keyspace if it does not exist yet. It looks
// first, so that a production user without CREATE permission can start
// against a keyspace an operator made.
func ensureKeyspace(ctx context.Context, cfg Config, cons gocql.Consistency, logger *slog.Logger) error {
	s, err := createSession(ctx, cfg.cluster(cons, logger))
	if err != nil {
		return connectErr(err)
	}
	defer s.Close()
	var name string
	err = s.Query(`SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?`, cfg.Keyspace).ScanContext(ctx, &name)
	if err == nil {
		return nil
	}
	if err != gocql.ErrNotFound {
		return mapErr("look up keyspace", err)
	}
	stmt := fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s`, cfg.Keyspace, cfg.Replication)
	if err := s.Query(stmt).ExecContext(ctx); err != nil {
		return mapErr("create keyspace "+cfg.Keyspace, err)
	}
	logger.Info("keyspace created", slog.String("store", "cassandra"), slog.String("keyspace", cfg.Keyspace), slog.String("replication", cfg.Replication))
	return nil
}

// replicationFactor is the largest number of replicas the keyspace keeps in
// one data centre.
func replicationFactor(ctx context.Context, s *gocql.Session, keyspace string) (int, error) {
	var repl map[string]string
	err := s.Query(`SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?`, keyspace).ScanContext(ctx, &repl)
	if err != nil {
		return 0, mapErr("read keyspace replication", err)
	}
	rf := 0
	for k, v := range repl {
		if k == "class" {
			continue
		}
		// "3", or "3/1" with transient replicas.
		n, _ := strconv.Atoi(strings.SplitN(v, "/", 2)[0])
		rf = max(rf, n)
	}
	return rf, nil
}

// Speculative reports whether reads are speculated (sent to a second
// replica when the first is slow): on keyspaces with more than one replica.
func (t *Timeline) Speculative() bool { return t.spec != nil }

// createSession is CreateSession bounded by ctx; the driver's own call only
// knows ConnectTimeout.
func createSession(ctx context.Context, cl *gocql.ClusterConfig) (*gocql.Session, error) {
	type result struct {
		s   *gocql.Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := cl.CreateSession()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Ping reads the node's release version: one cheap local read that fails
// with EUNAVAILABLE while no node can be reached.
func (t *Timeline) Ping(ctx context.Context) error {
	var v string
	if err := t.session.Query(`SELECT release_version FROM system.local`).ScanContext(ctx, &v); err != nil {
		return mapErr("ping", err)
	}
	return nil
}

// Close counts the days appends left to count (for a few seconds at most)
// and closes the session. Calling it twice is harmless.
func (t *Timeline) Close() error {
	t.counter.close()
	t.session.Close()
	return nil
}

// Session returns the driver session, for tests and benchmarks that compare
// against raw driver calls.
func (t *Timeline) Session() *gocql.Session { return t.session }

// driverLogger forwards the driver's structured logs to slog. The driver's
// errors are about connections it keeps retrying (callers see the failures
// themselves as EUNAVAILABLE), so they are warnings here; its Info level is
// connection chatter (ring refreshes, pool fills), so it is Debug.
type driverLogger struct{ l *slog.Logger }

func (d driverLogger) log(level slog.Level, msg string, fields []gocql.LogField) {
	if !d.l.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]any, 0, len(fields))
	for _, f := range fields {
		attrs = append(attrs, slog.Any(f.Name, f.Value.Any()))
	}
	d.l.Log(context.Background(), level, "cassandra driver: "+msg, attrs...)
}

func (d driverLogger) Error(msg string, fields ...gocql.LogField) { d.log(slog.LevelWarn, msg, fields) }

func (d driverLogger) Warning(msg string, fields ...gocql.LogField) {
	d.log(slog.LevelWarn, msg, fields)
}

func (d driverLogger) Info(msg string, fields ...gocql.LogField) { d.log(slog.LevelDebug, msg, fields) }

func (d driverLogger) Debug(msg string, fields ...gocql.LogField) {
	d.log(slog.LevelDebug, msg, fields)
}
