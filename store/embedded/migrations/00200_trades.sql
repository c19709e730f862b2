-- Executions counted in each client's trading statistics. One row per fill,
-- keyed by the timeline event's id, so that recording a redelivered fill is a
-- no-op rather than a second trade.

-- +goose Up
CREATE TABLE client_fills (
    event_id  TEXT    PRIMARY KEY,
    client_id TEXT    NOT NULL,
    at        INTEGER NOT NULL, -- unix microseconds
    commodity TEXT    NOT NULL DEFAULT '', -- catalogue key, '' when not in the catalogue
    contract  TEXT    NOT NULL DEFAULT '',
    side      TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity  REAL    NOT NULL CHECK (quantity > 0),
    price     REAL    NOT NULL
);
-- Statistics read one client's fills over a time window.
CREATE INDEX client_fills_client_at ON client_fills (client_id, at);
-- Market moves look for the clients trading a commodity.
CREATE INDEX client_fills_commodity_at ON client_fills (commodity, at);

-- +goose Down
DROP TABLE client_fills;
