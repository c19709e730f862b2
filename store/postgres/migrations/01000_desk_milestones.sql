-- Each desk's milestone settings (/team set <desk> milestone-lead=3d
-- position-lead=2 large-trade=1m kyc-refresh=12mo goal-threshold=100
-- desk-zone=America/Chicago milestones=on). A desk with no row has the
-- defaults.

-- +goose Up
CREATE TABLE desk_milestones (
    desk           text             PRIMARY KEY,
    enabled        boolean          NOT NULL,
    lead_min       integer          NOT NULL CHECK (lead_min >= 0),
    position_lead  integer          NOT NULL CHECK (position_lead >= 0),
    large_trade    double precision NOT NULL CHECK (large_trade >= 0),
    kyc_refresh    integer          NOT NULL CHECK (kyc_refresh >= 0),
    goal_threshold integer          NOT NULL,
    zone           text             NOT NULL DEFAULT '',
    updated_by     text             NOT NULL DEFAULT '',
    updated_at     timestamptz      NOT NULL
);
-- Milestones look for the large fills.
CREATE INDEX client_fills_notional_idx ON client_fills (notional) WHERE notional > 0;

-- +goose Down
DROP INDEX client_fills_notional_idx;
DROP TABLE desk_milestones;
