package cassandra

import (
	"context"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// AppendUncounted appends events as AppendEvents does but stops before
// counting their days: an append cut off after writing its events.
func (t *Timeline) AppendUncounted(ctx context.Context, events ...*store.Event) error {
	return t.appendEvents(ctx, false, events)
}

// MarkPendingSince marks a client's day pending for an append that began
// at since.
func (t *Timeline) MarkPendingSince(ctx context.Context, client uuid.UUID, day, since time.Time) error {
	return t.markDays(ctx, []clientDay{{client, store.DayNumber(day)}}, gocql.UUIDFromTime(since))
}
