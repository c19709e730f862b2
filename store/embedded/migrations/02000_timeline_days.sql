-- What each client's timeline holds per UTC day and kind (store.DayCount),
-- kept by AppendEvents in the transaction that stores the events, so that
-- the overview of a dense range reads a row per day instead of every event.
-- Events stored before are counted here.

-- +goose Up
CREATE TABLE timeline_days (
    client_id     TEXT    NOT NULL,
    day           INTEGER NOT NULL, -- UTC days since 1970-01-01 (store.DayNumber)
    kind          TEXT    NOT NULL,
    events        INTEGER NOT NULL,
    scored        INTEGER NOT NULL, -- events with a sentiment
    sentiment_sum REAL    NOT NULL, -- the sum of their scores
    bought        REAL    NOT NULL, -- notional of orders, by side
    sold          REAL    NOT NULL,
    PRIMARY KEY (client_id, day, kind)
) WITHOUT ROWID;

INSERT INTO timeline_days (client_id, day, kind, events, scored, sentiment_sum, bought, sold)
SELECT client_id, day, kind, count(*), count(sentiment_label),
       total(CASE WHEN sentiment_label IS NOT NULL THEN sentiment_score END),
       total(CASE WHEN side IS NOT 'sell' THEN notional END),
       total(CASE WHEN side IS 'sell' THEN notional END)
FROM (
    SELECT client_id, kind, sentiment_label, sentiment_score,
           (time - ((time % 86400000) + 86400000) % 86400000) / 86400000 AS day,
           CASE WHEN json_valid(attrs) AND json_type(attrs, '$.order') = 'object'
                THEN abs(coalesce(json_extract(attrs, '$.order.quantity'), 0) * coalesce(json_extract(attrs, '$.order.price'), 0)) END AS notional,
           CASE WHEN json_valid(attrs) THEN json_extract(attrs, '$.order.side') END AS side
    FROM events
)
GROUP BY client_id, day, kind;

-- +goose Down
DROP TABLE timeline_days;
