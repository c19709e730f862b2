-- Mailbox leases, their log and the live replicas, as in PostgreSQL: one
-- process uses the embedded store, but it keeps the same contract. Times are
-- Unix microseconds.

-- +goose Up
CREATE TABLE mailbox_leases (
    mailbox    TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    token      INTEGER NOT NULL CHECK (token > 0),
    expires_at INTEGER NOT NULL
);

CREATE TABLE mailbox_lease_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox         TEXT    NOT NULL,
    holder          TEXT    NOT NULL,
    token           INTEGER NOT NULL,
    action          TEXT    NOT NULL CHECK (action IN ('acquire', 'takeover', 'release')),
    at              INTEGER NOT NULL,
    prev_holder     TEXT    NOT NULL DEFAULT '',
    prev_expires_at INTEGER
);
CREATE INDEX mailbox_lease_log_mailbox ON mailbox_lease_log (mailbox, id);

CREATE TABLE replicas (
    replica    TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE replicas;
DROP TABLE mailbox_lease_log;
DROP TABLE mailbox_leases;
