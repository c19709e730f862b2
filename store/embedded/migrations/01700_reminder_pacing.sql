-- The pace of each Slack channel reminders are posted to, shared by every
-- scheduler replica: when the next message may go at the earliest, until
-- when Slack is known to hold the channel to its rate, and when it last
-- accepted a paced message there.

-- +goose Up
CREATE TABLE reminder_pacing (
    channel      TEXT    PRIMARY KEY,
    next_at      INTEGER NOT NULL, -- unix microseconds
    strict_until INTEGER NOT NULL, -- unix microseconds
    last_post    INTEGER NOT NULL, -- unix microseconds
    updated_at   INTEGER NOT NULL  -- unix microseconds
);

-- +goose Down
DROP TABLE reminder_pacing;
