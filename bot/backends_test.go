package bot_test

import (
	"testing"

	"github.com/brokersync/brokersync/internal/backendtest"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

// TestBackends runs the command suite against the real PostgreSQL (profiles,
// desks, links) and Cassandra (timeline).
func TestBackends(t *testing.T) {
	pg, tl := backendtest.Postgres(t), backendtest.Cassandra(t)
	runSuite(t, Stores{Clients: pg, Timeline: tl, Teams: pg, Links: pg, Reminders: pg, Stats: pg, Segments: pg, Digests: pg, Workflows: pg})
}
