-- Each desk's milestone settings (/team set <desk> milestone-lead=3d
-- position-lead=2 large-trade=1m kyc-refresh=12mo goal-threshold=100
-- desk-zone=America/Chicago milestones=on). A desk with no row has the
-- defaults.

-- +goose Up
CREATE TABLE desk_milestones (
    desk           TEXT    PRIMARY KEY,
    enabled        INTEGER NOT NULL,
    lead_min       INTEGER NOT NULL CHECK (lead_min >= 0),
    position_lead  INTEGER NOT NULL CHECK (position_lead >= 0),
    large_trade    REAL    NOT NULL CHECK (large_trade >= 0),
    kyc_refresh    INTEGER NOT NULL CHECK (kyc_refresh >= 0),
    goal_threshold INTEGER NOT NULL,
    zone           TEXT    NOT NULL DEFAULT '',
    updated_by     TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL
);
CREATE INDEX client_fills_notional_idx ON client_fills (notional) WHERE notional > 0;

-- +goose Down
DROP INDEX client_fills_notional_idx;
DROP TABLE desk_milestones;
