-- Every scored event once, so a client's rolling sentiment is a query over
-- a window and recording an event twice (a retry, a re-import) counts once.

-- +goose Up
CREATE TABLE client_sentiment (
    event_id  uuid             PRIMARY KEY,
    client_id uuid             NOT NULL,
    at        timestamptz      NOT NULL,
    score     double precision NOT NULL CHECK (score BETWEEN -1 AND 1)
);
CREATE INDEX client_sentiment_client_at ON client_sentiment (client_id, at);

-- +goose Down
DROP TABLE client_sentiment;
