-- Executions counted in each client's trading statistics. One row per fill,
-- keyed by the timeline event's id, so that recording a redelivered fill is a
-- no-op (INSERT ... ON CONFLICT DO NOTHING) rather than a second trade.
--
-- client_id has no foreign key: the row records an execution reported by the
-- order system, and like the audit trail it must not vanish with a profile.

-- +goose Up
CREATE TABLE client_fills (
    event_id    uuid             PRIMARY KEY,
    client_id   uuid             NOT NULL,
    at          timestamptz      NOT NULL,
    commodity   text             NOT NULL DEFAULT '', -- catalogue key, '' when not in the catalogue
    contract    text             NOT NULL DEFAULT '',
    side        text             NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity    double precision NOT NULL CHECK (quantity > 0),
    price       double precision NOT NULL,
    recorded_at timestamptz      NOT NULL DEFAULT now()
);
-- Statistics read one client's fills over a time window; INCLUDE lets the
-- window sums be answered from the index alone.
CREATE INDEX client_fills_client_at_idx ON client_fills (client_id, at) INCLUDE (quantity, commodity);
-- Market moves look for the clients trading a commodity.
CREATE INDEX client_fills_commodity_at_idx ON client_fills (commodity, at) INCLUDE (client_id);

-- +goose Down
DROP TABLE client_fills;
