-- Periodic jobs run once per period, as in PostgreSQL. Times are Unix
-- microseconds.

-- +goose Up
CREATE TABLE periodic_runs (
    job        TEXT    NOT NULL,
    period     INTEGER NOT NULL,
    holder     TEXT    NOT NULL,
    claimed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    done_at    INTEGER,
    claims     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (job, period)
);
CREATE INDEX periodic_runs_period ON periodic_runs (period);

-- +goose Down
DROP TABLE periodic_runs;
