package bot_test

import (
	"testing"

	"github.com/brokersync/brokersync/bot/bottest"
)

// TestBackends runs the command suite against the real PostgreSQL (profiles,
// desks, links) and Cassandra (timeline).
func TestBackends(t *testing.T) {
	pg, tl := bottest.Backends(t, testLogger())
	runSuite(t, Stores{Clients: pg, Timeline: tl, Teams: pg, Links: pg})
}
