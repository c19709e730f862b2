-- Each client's activity as columns a segment filter compares (trades,
-- contracts and notional over 30, 90 and 365 days, commodities traded in
-- 365 days, last fill, last contact each way, the 30-day sentiment sum and
-- count), instead of aggregating fills, contacts and scores per client per
-- query. A row holds for every instant in [valid_from, valid_until)
-- (valid_until NULL: until something is recorded); it is updated in the
-- transaction that records a fill, contact or score, recounted by the
-- periodic "activity" job once valid_until has passed, and a filter asked
-- about an instant it does not hold at uses the aggregate instead (see
-- store.Activity). Every client with a fill, contact or score has a row.
--
-- Rows of the activity recorded before this migration start stale (they
-- hold at no instant) and are counted by the first run of the job, or by
-- `brokersync rebuild-stats`; until then filters use the aggregates.

-- +goose Up
CREATE TABLE client_stats (
    client_id       uuid             PRIMARY KEY,
    valid_from      timestamptz      NOT NULL,
    valid_until     timestamptz,
    trades_30d      integer          NOT NULL DEFAULT 0,
    trades_90d      integer          NOT NULL DEFAULT 0,
    trades_365d     integer          NOT NULL DEFAULT 0,
    volume_30d      double precision NOT NULL DEFAULT 0,
    volume_90d      double precision NOT NULL DEFAULT 0,
    volume_365d     double precision NOT NULL DEFAULT 0,
    notional_30d    double precision NOT NULL DEFAULT 0,
    notional_90d    double precision NOT NULL DEFAULT 0,
    notional_365d   double precision NOT NULL DEFAULT 0,
    commodities     text[]           NOT NULL DEFAULT '{}',
    last_fill       timestamptz,
    last_inbound    timestamptz,
    last_outbound   timestamptz,
    sentiment_sum   double precision NOT NULL DEFAULT 0,
    sentiment_count integer          NOT NULL DEFAULT 0
);
CREATE INDEX client_stats_valid_until_idx ON client_stats (valid_until) WHERE valid_until IS NOT NULL;

INSERT INTO client_stats (client_id, valid_from, valid_until)
SELECT client_id, 'epoch', 'epoch' FROM (
    SELECT client_id FROM client_fills
    UNION SELECT client_id FROM client_contacts
    UNION SELECT client_id FROM client_sentiment
) AS active;

-- +goose Down
DROP TABLE client_stats;
