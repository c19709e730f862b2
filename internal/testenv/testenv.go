// Package testenv tells backend tests where the real servers are.
//
// `make test` starts PostgreSQL, Cassandra and Dovecot and exports their
// addresses. A plain `go test ./...` without them skips the backend tests and
// says so; under `make test` or in CI (BROKERSYNC_REQUIRE_BACKENDS=1 or
// CI=true) a missing server fails the test instead.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Required reports whether backend tests must run rather than skip.
func Required() bool {
	return os.Getenv("BROKERSYNC_REQUIRE_BACKENDS") == "1" || strings.EqualFold(os.Getenv("CI"), "true")
}

func lookup(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set: %s is required here (run `make test`, which starts it)", name, what)
	}
	t.Skipf("skipping: %s is not set; `make test` starts a real %s", name, what)
	return ""
}

// PostgresURL returns the URL of the test PostgreSQL server.
func PostgresURL(t testing.TB) string {
	return lookup(t, "BROKERSYNC_TEST_POSTGRES_URL", "PostgreSQL")
}

// CassandraHosts returns the test Cassandra contact points, comma separated.
func CassandraHosts(t testing.TB) string {
	return lookup(t, "BROKERSYNC_TEST_CASSANDRA_HOSTS", "Cassandra")
}

// IMAPAddr returns host:port of the test Dovecot.
func IMAPAddr(t testing.TB) string {
	return lookup(t, "BROKERSYNC_TEST_IMAP_ADDR", "Dovecot IMAP server")
}

// ServicesScript returns the path of scripts/services.sh, which fault tests
// use to stop and start a server.
func ServicesScript(t testing.TB) string {
	return lookup(t, "BROKERSYNC_TEST_SERVICES", "services script")
}

// ClusterRequired reports whether the cluster tests must run rather than
// skip: `make test-cluster` sets BROKERSYNC_REQUIRE_CLUSTER=1.
func ClusterRequired() bool { return os.Getenv("BROKERSYNC_REQUIRE_CLUSTER") == "1" }

// CassandraClusterHosts returns the contact points of the test Cassandra
// cluster (`scripts/services.sh start-cluster`), comma separated. The
// cluster tests stop and start its nodes, and the PostgreSQL of the same
// run dir: they run under `make test-cluster`, which starts both for them
// apart from the servers `make test` uses. Without the cluster they skip,
// unless BROKERSYNC_REQUIRE_CLUSTER=1.
func CassandraClusterHosts(t testing.TB) string {
	t.Helper()
	v := os.Getenv("BROKERSYNC_TEST_CASSANDRA_CLUSTER_HOSTS")
	if v != "" {
		return v
	}
	if ClusterRequired() {
		t.Fatal("BROKERSYNC_TEST_CASSANDRA_CLUSTER_HOSTS is not set: the Cassandra cluster is required here (run `make test-cluster`, which starts it)")
	}
	t.Skip("skipping: BROKERSYNC_TEST_CASSANDRA_CLUSTER_HOSTS is not set; `make test-cluster` starts a 3-node Cassandra cluster")
	return ""
}
