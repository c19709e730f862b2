-- Keys the server generates once and every replica then shares, such as the
-- key that signs links to the web pages. A key is never replaced.

-- +goose Up
CREATE TABLE server_keys (
    name       text        PRIMARY KEY,
    key        bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE server_keys;
