-- Managers' digest subscriptions, and one row per subscription and period:
-- the once-key that lets exactly one replica post each period's digest.
-- Times are microseconds since the epoch, UTC.

-- +goose Up
CREATE TABLE digest_subscriptions (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    desk       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    frequency  TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    at_minute  INTEGER NOT NULL CHECK (at_minute >= 0 AND at_minute < 1440),
    time_zone  TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner, desk, channel)
);
CREATE INDEX digest_subscriptions_desk_idx ON digest_subscriptions (desk);

CREATE TABLE digest_runs (
    subscription_id TEXT NOT NULL REFERENCES digest_subscriptions (id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    due_at          INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('claimed', 'posted')),
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    channel         TEXT NOT NULL DEFAULT '',
    message_ts      TEXT NOT NULL DEFAULT '',
    posted_at       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subscription_id, period)
);

-- +goose Down
DROP TABLE digest_runs;
DROP TABLE digest_subscriptions;
