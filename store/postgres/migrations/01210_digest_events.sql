-- The events a digest reads (fills, real contacts, signals), by client and
-- time, so that a desk's day is one query: the timeline itself is read per
-- client.

-- +goose Up
CREATE TABLE digest_events (
    event_id  UUID PRIMARY KEY,
    client_id UUID NOT NULL,
    at        BIGINT NOT NULL, -- microseconds since the epoch
    data      TEXT NOT NULL    -- the event, as JSON
);
CREATE INDEX digest_events_client_at_idx ON digest_events (client_id, at);
CREATE INDEX digest_events_at_idx ON digest_events (at);

-- +goose Down
DROP TABLE digest_events;
