-- IMAP checkpoints: how far each mailbox folder has been ingested. The
-- ingester saves a row only after the events of every message up to last_uid
-- are on the timeline, so a restart resumes after last_uid and loses nothing.
-- uid_validity identifies the numbering last_uid belongs to: when the server
-- renumbers a folder, the ingester starts over and event ids keep it from
-- duplicating anything. IMAP UIDs are unsigned 32-bit and mod-sequences 63-bit
-- (RFC 7162), hence bigint with range checks.

-- +goose Up
CREATE TABLE imap_checkpoints (
    mailbox        text        NOT NULL, -- account, e.g. broker1@mail.example.com
    folder         text        NOT NULL,
    uid_validity   bigint      NOT NULL CHECK (uid_validity BETWEEN 0 AND 4294967295),
    last_uid       bigint      NOT NULL CHECK (last_uid BETWEEN 0 AND 4294967295),
    highest_modseq bigint      NOT NULL DEFAULT 0 CHECK (highest_modseq >= 0),
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (mailbox, folder)
);

-- +goose Down
DROP TABLE imap_checkpoints;
