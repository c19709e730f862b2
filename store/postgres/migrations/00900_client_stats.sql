-- Per-client statistics beyond fills and sentiment: the value of each fill
-- (quantity x price x contract size from the catalogue, in the contract's
-- currency) and every real contact with a client (email, chat, call,
-- meeting, feedback), once per timeline event, with its direction. Fills
-- recorded before this migration have no value until `brokersync
-- rebuild-stats` recounts them from the timeline.

-- +goose Up
ALTER TABLE client_fills ADD COLUMN notional double precision NOT NULL DEFAULT 0;
ALTER TABLE client_fills ADD COLUMN currency text NOT NULL DEFAULT '';

CREATE TABLE client_contacts (
    event_id  uuid        PRIMARY KEY,
    client_id uuid        NOT NULL,
    at        timestamptz NOT NULL,
    kind      text        NOT NULL,
    direction text        NOT NULL CHECK (direction IN ('inbound', 'outbound', 'both'))
);
CREATE INDEX client_contacts_client_at_idx ON client_contacts (client_id, at) INCLUDE (direction, kind);

-- +goose Down
DROP TABLE client_contacts;
ALTER TABLE client_fills DROP COLUMN currency;
ALTER TABLE client_fills DROP COLUMN notional;
