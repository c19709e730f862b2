-- Saved segments: a name for a filter, evaluated live whenever it is used.

-- +goose Up
CREATE TABLE segments (
    name       TEXT    PRIMARY KEY,
    filter     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- unix microseconds
    updated_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE segments;
