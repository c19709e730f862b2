-- Desk workflows (when a trigger happens to a client matching a condition,
-- take an action) and their firings: at most one per workflow, client and
-- triggering event.

-- +goose Up
CREATE TABLE workflows (
    name       TEXT    PRIMARY KEY,
    desk       TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    cooldown_s INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- unix microseconds
    updated_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX workflows_desk ON workflows (desk, name);

CREATE TABLE workflow_firings (
    workflow  TEXT    NOT NULL,
    client_id TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    event_id  TEXT    NOT NULL, -- '' when none
    fired_at  INTEGER NOT NULL, -- unix microseconds
    due_at    INTEGER NOT NULL,
    done_at   INTEGER NOT NULL, -- 0 while pending
    PRIMARY KEY (workflow, client_id, key)
);
CREATE INDEX workflow_firings_last ON workflow_firings (workflow, client_id, fired_at);
CREATE INDEX workflow_firings_due ON workflow_firings (done_at, due_at);

-- +goose Down
DROP TABLE workflow_firings;
DROP TABLE workflows;
