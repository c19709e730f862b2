-- The pace of each Slack channel reminders are posted to, shared by every
-- scheduler replica: when the next message may go at the earliest, until
-- when Slack is known to hold the channel to its rate, and when it last
-- accepted a paced message there.

-- +goose Up
CREATE TABLE reminder_pacing (
    channel      TEXT        PRIMARY KEY,
    next_at      TIMESTAMPTZ NOT NULL,
    strict_until TIMESTAMPTZ NOT NULL,
    last_post    TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE reminder_pacing;
