// Command cqlping checks that a Cassandra node really answers CQL: it connects
// and runs `SELECT release_version FROM system.local`, printing the version.
// scripts/services.sh uses it as the readiness probe for the test Cassandra.
//
// With -e it runs the given CQL statements instead (in order, stopping at the
// first error) and prints the rows of any that return rows, one map per line:
//
//	go run ./scripts/cqlping -hosts 127.0.0.1:19042 -e "SELECT * FROM system_schema.keyspaces"
//
// With -ring N it checks a cluster of N nodes instead, asking each host in
// turn as the only coordinator: it knows N-1 peers, they all have its schema
// version, and a read at consistency ALL of a keyspace replicated N times
// (brokersync_ring, created when missing) succeeds, which it does only when
// the node's failure detector holds every other node UP.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

type stmts []string

func (s *stmts) String() string     { return strings.Join(*s, "; ") }
func (s *stmts) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	defaultHosts := os.Getenv("BROKERSYNC_TEST_CASSANDRA_HOSTS")
	if defaultHosts == "" {
		defaultHosts = "127.0.0.1:9042"
	}
	hosts := flag.String("hosts", defaultHosts, "comma-separated host:port list")
	timeout := flag.Duration("timeout", 10*time.Second, "overall deadline")
	var exec stmts
	flag.Var(&exec, "e", "CQL statement to run (repeatable); default: the release_version probe")
	ring := flag.Int("ring", 0, "check that the cluster of this many nodes is whole (all UP, one schema)")
	flag.Parse()

	if *ring > 0 {
		if err := checkRing(strings.Split(*hosts, ","), *ring, *timeout); err != nil {
			fmt.Fprintln(os.Stderr, "cqlping:", err)
			os.Exit(1)
		}
		return
	}

	if err := run(strings.Split(*hosts, ","), *timeout, exec); err != nil {
		fmt.Fprintln(os.Stderr, "cqlping:", err)
		os.Exit(1)
	}
}

func run(hosts []string, timeout time.Duration, exec []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cluster := gocql.NewCluster(hosts...)
	cluster.Consistency = gocql.One
	cluster.ConnectTimeout = timeout
	cluster.Timeout = timeout
	cluster.NumConns = 1
	// One connection attempt per pool: the caller retries. (In driver v2.1.2
	// MaxRetries counts attempts; 0 makes no attempt and panics on a nil conn.)
	cluster.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 1, Interval: time.Second}

	session, err := cluster.CreateSession()
	if err != nil {
		return fmt.Errorf("connect %v: %w", hosts, err)
	}
	defer session.Close()

	if len(exec) == 0 {
		var version string
		if err := session.Query("SELECT release_version FROM system.local").ScanContext(ctx, &version); err != nil {
			return fmt.Errorf("query system.local: %w", err)
		}
		fmt.Println(version)
		return nil
	}
	for _, stmt := range exec {
		iter := session.Query(stmt).IterContext(ctx)
		rows, err := iter.SliceMap()
		if err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
		for _, row := range rows {
			fmt.Println(row)
		}
	}
	return nil
}

func connect(hosts []string, timeout time.Duration, only string) (*gocql.Session, error) {
	cluster := gocql.NewCluster(hosts...)
	cluster.Consistency = gocql.One
	cluster.ConnectTimeout = timeout
	cluster.Timeout = timeout
	cluster.NumConns = 1
	cluster.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 1, Interval: time.Second}
	if only != "" {
		cluster.HostFilter = gocql.WhiteListHostFilter(only)
	}
	return cluster.CreateSession()
}

// checkRing reports the first thing that keeps the cluster of n nodes from
// being whole.
func checkRing(hosts []string, n int, timeout time.Duration) error {
	if len(hosts) != n {
		return fmt.Errorf("-ring %d needs %d hosts, got %d", n, n, len(hosts))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i, hp := range hosts {
		host := hp
		if h, _, ok := strings.Cut(hp, ":"); ok {
			host = h
		}
		s, err := connect([]string{hp}, timeout, host)
		if err != nil {
			return fmt.Errorf("connect %s: %w", hp, err)
		}
		err = checkNode(ctx, s, n, i == 0)
		s.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", hp, err)
		}
	}
	return nil
}

func checkNode(ctx context.Context, s *gocql.Session, n int, create bool) error {
	var local gocql.UUID
	if err := s.Query(`SELECT schema_version FROM system.local`).ScanContext(ctx, &local); err != nil {
		return fmt.Errorf("read system.local: %w", err)
	}
	iter := s.Query(`SELECT peer, schema_version FROM system.peers_v2`).IterContext(ctx)
	var (
		peer    string
		version gocql.UUID
		peers   int
	)
	for iter.Scan(&peer, &version) {
		peers++
		if version != local {
			iter.Close()
			return fmt.Errorf("peer %s has schema %s, this node %s", peer, version, local)
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("read system.peers_v2: %w", err)
	}
	if peers != n-1 {
		return fmt.Errorf("knows %d peers, want %d", peers, n-1)
	}
	if create {
		var name string
		err := s.Query(`SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = 'brokersync_ring'`).ScanContext(ctx, &name)
		if errors.Is(err, gocql.ErrNotFound) {
			stmts := []string{
				fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS brokersync_ring WITH replication = {'class': 'SimpleStrategy', 'replication_factor': %d}`, n),
				`CREATE TABLE IF NOT EXISTS brokersync_ring.ring (k int PRIMARY KEY)`,
			}
			for _, stmt := range stmts {
				if err := s.Query(stmt).ExecContext(ctx); err != nil {
					return fmt.Errorf("%s: %w", stmt, err)
				}
			}
		} else if err != nil {
			return fmt.Errorf("look up keyspace brokersync_ring: %w", err)
		}
	}
	var k int
	err := s.Query(`SELECT k FROM brokersync_ring.ring WHERE k = 0`).Consistency(gocql.All).ScanContext(ctx, &k)
	if err != nil && !errors.Is(err, gocql.ErrNotFound) {
		return fmt.Errorf("read at ALL (is every node UP?): %w", err)
	}
	return nil
}
