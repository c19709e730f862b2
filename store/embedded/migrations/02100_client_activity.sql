-- Each client's activity as columns a segment filter compares (see the
-- PostgreSQL migration of the same number and store.Activity). Times are
-- unix microseconds; commodities a JSON array of catalogue keys.

-- +goose Up
CREATE TABLE client_stats (
    client_id       TEXT    PRIMARY KEY,
    valid_from      INTEGER NOT NULL,
    valid_until     INTEGER,
    trades_30d      INTEGER NOT NULL DEFAULT 0,
    trades_90d      INTEGER NOT NULL DEFAULT 0,
    trades_365d     INTEGER NOT NULL DEFAULT 0,
    volume_30d      REAL    NOT NULL DEFAULT 0,
    volume_90d      REAL    NOT NULL DEFAULT 0,
    volume_365d     REAL    NOT NULL DEFAULT 0,
    notional_30d    REAL    NOT NULL DEFAULT 0,
    notional_90d    REAL    NOT NULL DEFAULT 0,
    notional_365d   REAL    NOT NULL DEFAULT 0,
    commodities     TEXT    NOT NULL DEFAULT '[]',
    last_fill       INTEGER,
    last_inbound    INTEGER,
    last_outbound   INTEGER,
    sentiment_sum   REAL    NOT NULL DEFAULT 0,
    sentiment_count INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID; -- a filter looks a client's row up by its key: one search, not two
CREATE INDEX client_stats_valid_until ON client_stats (valid_until) WHERE valid_until IS NOT NULL;

INSERT INTO client_stats (client_id, valid_from, valid_until)
SELECT client_id, 0, 0 FROM (
    SELECT client_id FROM client_fills
    UNION SELECT client_id FROM client_contacts
    UNION SELECT client_id FROM client_sentiment
);

-- +goose Down
DROP TABLE client_stats;
