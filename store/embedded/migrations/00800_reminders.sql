-- Reminders: follow-ups a broker is reminded of in Slack at a due time.
-- The scheduler claims due rows in one UPDATE … RETURNING statement under
-- SQLite's single write lock, with a lease (next_at holds the lease's end
-- while claimed), so each reminder is posted once. Times are Unix
-- microseconds.

-- +goose Up
CREATE TABLE reminders (
    id          TEXT    PRIMARY KEY,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    broker      TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'claimed', 'posted', 'done', 'snoozed', 'cancelled')),
    channel     TEXT    NOT NULL DEFAULT '',
    message_ts  TEXT    NOT NULL DEFAULT '',
    posted_at   INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    lease_owner TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX reminders_next_idx ON reminders (next_at) WHERE state IN ('pending', 'claimed', 'snoozed');
CREATE INDEX reminders_broker_due_idx ON reminders (broker, due_at);
CREATE INDEX reminders_client_due_idx ON reminders (client_id, due_at);

-- +goose Down
DROP TABLE reminders;
