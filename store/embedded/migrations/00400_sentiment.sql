-- +goose Up
CREATE TABLE client_sentiment (
    event_id  TEXT    PRIMARY KEY,
    client_id TEXT    NOT NULL,
    at        INTEGER NOT NULL, -- unix microseconds
    score     REAL    NOT NULL CHECK (score BETWEEN -1 AND 1)
);
CREATE INDEX client_sentiment_client_at ON client_sentiment (client_id, at);

-- +goose Down
DROP TABLE client_sentiment;
