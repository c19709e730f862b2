-- Periodic jobs run once per period across replicas: a replica claims a
-- job's period until expires_at, runs the job and sets done_at. A claim
-- whose holder died runs out and is claimed again (claims counts them).
-- Kept 30 days.

-- +goose Up
CREATE TABLE periodic_runs (
    job        text        NOT NULL,
    period     timestamptz NOT NULL,
    holder     text        NOT NULL,
    claimed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    done_at    timestamptz,
    claims     integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (job, period)
);
CREATE INDEX periodic_runs_period_idx ON periodic_runs (period);

-- +goose Down
DROP TABLE periodic_runs;
