-- Desk workflows (when a trigger happens to a client matching a condition,
-- take an action) and their firings: at most one per workflow, client and
-- triggering event.

-- +goose Up
CREATE TABLE workflows (
    name       text        PRIMARY KEY,
    desk       text        NOT NULL,
    definition text        NOT NULL,
    enabled    boolean     NOT NULL,
    cooldown_s bigint      NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_by text        NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX workflows_desk ON workflows (desk, name);

CREATE TABLE workflow_firings (
    workflow  text        NOT NULL,
    client_id uuid        NOT NULL,
    key       text        NOT NULL,
    event_id  uuid,
    fired_at  timestamptz NOT NULL,
    due_at    timestamptz NOT NULL,
    done_at   timestamptz,
    PRIMARY KEY (workflow, client_id, key)
);
CREATE INDEX workflow_firings_last ON workflow_firings (workflow, client_id, fired_at DESC);
CREATE INDEX workflow_firings_due ON workflow_firings (due_at) WHERE done_at IS NULL;

-- +goose Down
DROP TABLE workflow_firings;
DROP TABLE workflows;
