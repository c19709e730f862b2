-- Who is on which desk, which Slack channels belong to which client, and the
-- keys of deliveries already applied (a Slack event retried by Slack, a
-- webhook sent twice).

-- +goose Up
CREATE TABLE team_members (
    slack_id text        NOT NULL,
    desk     text        NOT NULL,
    role     text        NOT NULL CHECK (role IN ('broker', 'manager')),
    added_by text        NOT NULL,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (slack_id, desk)
);
CREATE INDEX team_members_desk_idx ON team_members (desk, slack_id);

CREATE TABLE channel_links (
    channel_id text        PRIMARY KEY,
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    linked_by  text        NOT NULL,
    linked_at  timestamptz NOT NULL
);
CREATE INDEX channel_links_client_idx ON channel_links (client_id);

-- Unlogged: a claim is on the path of every Slack acknowledgement, and an
-- unlogged insert does not wait for the WAL to reach the disk. After a crash
-- the table is empty, so a delivery retried across the crash is applied
-- again; what the keys guard is idempotent anyway (events are keyed by their
-- source), the keys only spare the repeated work and the second answer.
CREATE UNLOGGED TABLE once_keys (
    key        text        PRIMARY KEY,
    claimed_at timestamptz NOT NULL
);
CREATE INDEX once_keys_claimed_at_idx ON once_keys (claimed_at);

-- +goose Down
DROP TABLE once_keys;
DROP TABLE channel_links;
DROP TABLE team_members;
