-- Mailbox leases: each IMAP mailbox folder (account/folder) is read by one
-- replica at a time, the one holding its lease. token is the fencing token:
-- it grows on every change of hands and the holder passes it with its
-- checkpoint writes, which are refused once it is stale. holder is '' after
-- a release. The log keeps every change of hands; replicas says which
-- replicas are alive, so that each takes its share of the mailboxes.

-- +goose Up
CREATE TABLE mailbox_leases (
    mailbox    text        PRIMARY KEY,
    holder     text        NOT NULL,
    token      bigint      NOT NULL CHECK (token > 0),
    expires_at timestamptz NOT NULL
);

CREATE TABLE mailbox_lease_log (
    id              bigserial   PRIMARY KEY,
    mailbox         text        NOT NULL,
    holder          text        NOT NULL,
    token           bigint      NOT NULL,
    action          text        NOT NULL CHECK (action IN ('acquire', 'takeover', 'release')),
    at              timestamptz NOT NULL,
    prev_holder     text        NOT NULL DEFAULT '',
    prev_expires_at timestamptz
);
CREATE INDEX mailbox_lease_log_mailbox_idx ON mailbox_lease_log (mailbox, id);

CREATE TABLE replicas (
    replica    text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE replicas;
DROP TABLE mailbox_lease_log;
DROP TABLE mailbox_leases;
