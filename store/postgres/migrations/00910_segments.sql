-- Saved segments: a name for a filter, evaluated live whenever it is used.

-- +goose Up
CREATE TABLE segments (
    name       text        PRIMARY KEY,
    filter     text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_by text        NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE segments;
