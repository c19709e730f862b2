package ingest

import (
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Firing is a desk workflow that fired for a client (reminders.Workflows
// hands it over): what it did, for the client's timeline.
type Firing struct {
	Client   uuid.UUID
	Workflow string // the workflow's name
	Key      string // the firing's key: one entry per workflow, client and key
	At       time.Time
	Actor    string
	Summary  string
	Extra    map[string]string // what the rules that act on it read
}

// Event returns the firing's timeline event: kind event, source workflow.
func (f Firing) Event() *store.Event {
	return &store.Event{ClientID: f.Client, Time: f.At, Kind: store.KindEvent, Source: store.SourceWorkflow,
		SourceID: f.Workflow + "/" + f.Client.String() + "/" + f.Key, Actor: f.Actor, Summary: f.Summary,
		Attrs: store.Attrs{Extra: f.Extra}}
}
