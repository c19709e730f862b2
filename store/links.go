package store

import (
	"context"

	"github.com/google/uuid"
)

// LinkStore remembers which Slack channels belong to which client, so that
// messages there are logged to the client's timeline.
type LinkStore interface {
	// LinkChannel links a channel to a client, replacing any earlier link.
	LinkChannel(ctx context.Context, channelID string, clientID uuid.UUID, actor string) error
	// ChannelClient returns the client a channel is linked to. ENOTFOUND.
	ChannelClient(ctx context.Context, channelID string) (uuid.UUID, error)
}
