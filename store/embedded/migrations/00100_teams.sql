-- Who is on which desk, which Slack channels belong to which client, and the
-- keys of deliveries already applied (a Slack event retried by Slack, a
-- webhook sent twice). Times are Unix microseconds.

-- +goose Up
CREATE TABLE team_members (
    slack_id TEXT    NOT NULL,
    desk     TEXT    NOT NULL,
    role     TEXT    NOT NULL CHECK (role IN ('broker', 'manager')),
    added_by TEXT    NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (slack_id, desk)
);
CREATE INDEX team_members_desk ON team_members (desk, slack_id);

CREATE TABLE channel_links (
    channel_id TEXT PRIMARY KEY,
    client_id  TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    linked_by  TEXT    NOT NULL,
    linked_at  INTEGER NOT NULL
);
CREATE INDEX channel_links_client ON channel_links (client_id);

CREATE TABLE once_keys (
    key        TEXT PRIMARY KEY,
    claimed_at INTEGER NOT NULL
);
CREATE INDEX once_keys_claimed_at ON once_keys (claimed_at);

-- +goose Down
DROP TABLE once_keys;
DROP TABLE channel_links;
DROP TABLE team_members;
