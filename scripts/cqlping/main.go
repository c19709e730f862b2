// Command cqlping checks that a Cassandra node really answers CQL: it connects
// and runs `SELECT release_version FROM system.local`, printing the version.
// scripts/services.sh uses it as the readiness probe for the test Cassandra.
//
// With -e it runs the given CQL statements instead (in order, stopping at the
// first error) and prints the rows of any that return rows, one map per line:
//
//	go run ./scripts/cqlping -hosts 127.0.0.1:19042 -e "SELECT * FROM system_schema.keyspaces"
package main

import (
	"context"
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
	flag.Parse()

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
