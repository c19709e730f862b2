-- Responsiveness: recommendations logged in a commodity, and per client the
-- share followed by a fill in that commodity within five business days and
-- the median time to reply to the desk's emails and chats, recounted as
-- recommendations, fills and contacts are recorded (columns a segment
-- filter compares directly). Recommendations logged before this migration
-- count after `brokersync rebuild-stats`.

-- +goose Up
CREATE TABLE client_recommendations (
    event_id  uuid        PRIMARY KEY,
    client_id uuid        NOT NULL,
    at        timestamptz NOT NULL,
    commodity text        NOT NULL
);
CREATE INDEX client_recommendations_client_idx ON client_recommendations (client_id, at);

CREATE TABLE client_responsiveness (
    client_id            uuid             PRIMARY KEY,
    recommendations      integer          NOT NULL,
    followed             integer          NOT NULL,
    pending              integer          NOT NULL,
    pending_until        timestamptz,
    responsive           double precision, -- followed / recommendations; NULL when none is decided
    replies              integer          NOT NULL,
    reply_median_seconds double precision  -- NULL when the client never replied
);
CREATE INDEX client_responsiveness_pending_idx ON client_responsiveness (pending_until) WHERE pending_until IS NOT NULL;
CREATE INDEX client_responsiveness_responsive_idx ON client_responsiveness (responsive) WHERE responsive IS NOT NULL;

-- +goose Down
DROP TABLE client_responsiveness;
DROP TABLE client_recommendations;
