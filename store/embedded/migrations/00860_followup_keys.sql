-- A triggered follow-up carries the reason it is for (reason_key: "fill",
-- "sentiment", "market_move:corn:2026-12-10"); while one is open, another
-- for the same client and reason updates it rather than adding a second.

-- +goose Up
ALTER TABLE reminders ADD COLUMN reason_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX reminders_open_reason_idx ON reminders (client_id, reason_key)
    WHERE reason_key <> '' AND state IN ('pending', 'claimed', 'snoozed', 'posted');

-- +goose Down
DROP INDEX reminders_open_reason_idx;
ALTER TABLE reminders DROP COLUMN reason_key;
