-- Follow-up settings, one row per broker: where reminders go (a channel
-- id, '' for the DM) and the working hours triggered follow-ups wait for,
-- in minutes after midnight in the broker's own zone. Times are Unix
-- microseconds.

-- +goose Up
CREATE TABLE followup_settings (
    broker     TEXT    PRIMARY KEY,
    channel    TEXT    NOT NULL DEFAULT '',
    day_start  INTEGER NOT NULL CHECK (day_start >= 0),
    day_end    INTEGER NOT NULL CHECK (day_end <= 1440 AND day_end > day_start),
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE followup_settings;
