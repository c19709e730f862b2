-- Keys the server generates once and every process then shares, such as the
-- key that signs links to the web pages. A key is never replaced.

-- +goose Up
CREATE TABLE server_keys (
    name       TEXT    PRIMARY KEY,
    key        BLOB    NOT NULL,
    created_at INTEGER NOT NULL -- Unix microseconds
);

-- +goose Down
DROP TABLE server_keys;
