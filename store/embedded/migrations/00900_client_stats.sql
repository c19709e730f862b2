-- Per-client statistics beyond fills and sentiment: the value of each fill
-- and every real contact with a client, once per timeline event (see the
-- PostgreSQL migration of the same number).

-- +goose Up
ALTER TABLE client_fills ADD COLUMN notional REAL NOT NULL DEFAULT 0;
ALTER TABLE client_fills ADD COLUMN currency TEXT NOT NULL DEFAULT '';

CREATE TABLE client_contacts (
    event_id  TEXT    PRIMARY KEY,
    client_id TEXT    NOT NULL,
    at        INTEGER NOT NULL, -- unix microseconds
    kind      TEXT    NOT NULL,
    direction TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound', 'both'))
);
CREATE INDEX client_contacts_client_at ON client_contacts (client_id, at);

-- +goose Down
DROP TABLE client_contacts;
ALTER TABLE client_fills DROP COLUMN currency;
ALTER TABLE client_fills DROP COLUMN notional;
