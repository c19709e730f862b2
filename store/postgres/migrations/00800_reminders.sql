-- Reminders: follow-ups a broker is reminded of in Slack at a due time.
-- Scheduler replicas claim due rows with FOR UPDATE SKIP LOCKED and a lease
-- (next_at holds the lease's end while claimed), so each reminder is posted
-- by one replica; a replica that dies leaves a lease that runs out and
-- another replica takes the reminder over. message_ts is the Slack message
-- once posted.

-- +goose Up
CREATE TABLE reminders (
    id          uuid        PRIMARY KEY,
    client_id   uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    broker      text        NOT NULL,
    due_at      timestamptz NOT NULL,
    text        text        NOT NULL,
    source      text        NOT NULL,
    created_by  text        NOT NULL DEFAULT '',
    state       text        NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'claimed', 'posted', 'done', 'snoozed', 'cancelled')),
    channel     text        NOT NULL DEFAULT '',
    message_ts  text        NOT NULL DEFAULT '',
    posted_at   timestamptz,
    attempts    integer     NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL,
    lease_owner text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
-- What the scheduler scans: only rows it may still have to post.
CREATE INDEX reminders_next_idx ON reminders (next_at) WHERE state IN ('pending', 'claimed', 'snoozed');
CREATE INDEX reminders_broker_due_idx ON reminders (broker, due_at);
CREATE INDEX reminders_client_due_idx ON reminders (client_id, due_at);

-- +goose Down
DROP TABLE reminders;
