-- Responsiveness: recommendations logged in a commodity, and per client the
-- share followed by a fill in that commodity within five business days and
-- the median time to reply to the desk's emails and chats, recounted as
-- recommendations, fills and contacts are recorded. Recommendations logged
-- before this migration count after `brokersync rebuild-stats`.

-- +goose Up
CREATE TABLE client_recommendations (
    event_id  TEXT    PRIMARY KEY,
    client_id TEXT    NOT NULL,
    at        INTEGER NOT NULL, -- unix microseconds
    commodity TEXT    NOT NULL
);
CREATE INDEX client_recommendations_client ON client_recommendations (client_id, at);

CREATE TABLE client_responsiveness (
    client_id            TEXT    PRIMARY KEY,
    recommendations      INTEGER NOT NULL,
    followed             INTEGER NOT NULL,
    pending              INTEGER NOT NULL,
    pending_until        INTEGER,
    responsive           REAL,    -- followed / recommendations; NULL when none is decided
    replies              INTEGER NOT NULL,
    reply_median_seconds REAL     -- NULL when the client never replied
);
CREATE INDEX client_responsiveness_pending ON client_responsiveness (pending_until);

-- +goose Down
DROP TABLE client_responsiveness;
DROP TABLE client_recommendations;
