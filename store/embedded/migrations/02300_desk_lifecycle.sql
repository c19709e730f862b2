-- A desk's lifecycle settings (/team set <desk> dormant-after=60d): desks
-- without a row use the server's default.

-- +goose Up
CREATE TABLE desk_lifecycle (
    desk               TEXT    PRIMARY KEY,
    dormant_after_days INTEGER NOT NULL CHECK (dormant_after_days > 0),
    updated_by         TEXT    NOT NULL,
    updated_at         INTEGER NOT NULL -- unix microseconds
);

-- +goose Down
DROP TABLE desk_lifecycle;
