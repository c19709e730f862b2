-- Each event keeps the fingerprint of its content (store.Event.Fingerprint),
-- so that an id stored again with other content is refused instead of
-- replacing the record. Events stored before have '' and are fingerprinted
-- from their row when an id arrives again.

-- +goose Up
ALTER TABLE events ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN fingerprint;
