-- Client timelines: one row per event, keyed by the event's id, which is
-- derived from its source and source id, so that storing the same email,
-- message, call or order again replaces the row instead of adding one.

-- +goose Up
CREATE TABLE events (
    id              TEXT    PRIMARY KEY, -- canonical UUID text: sorts like its bytes
    client_id       TEXT    NOT NULL,
    time            INTEGER NOT NULL,    -- unix milliseconds, UTC
    kind            TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    source_id       TEXT    NOT NULL,
    actor           TEXT    NOT NULL DEFAULT '',
    summary         TEXT    NOT NULL DEFAULT '',
    body            TEXT    NOT NULL DEFAULT '',
    truncated       INTEGER NOT NULL DEFAULT 0,
    sentiment_score REAL,                -- NULL when the event has no sentiment
    sentiment_label TEXT,
    attrs           TEXT    NOT NULL DEFAULT '{}' -- store.Attrs as JSON
);
-- Timelines are read newest first per client; ties in time by id, descending.
CREATE INDEX events_client_time ON events (client_id, time DESC, id DESC);

-- +goose Down
DROP TABLE events;
