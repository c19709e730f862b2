-- IMAP checkpoints: how far each mailbox folder has been ingested. The
-- ingester saves a row only after the events of every message up to last_uid
-- are on the timeline, so a restart resumes after last_uid and loses nothing.
-- uid_validity identifies the numbering last_uid belongs to: when the server
-- renumbers a folder, the ingester starts over and event ids keep it from
-- duplicating anything.

-- +goose Up
CREATE TABLE imap_checkpoints (
    mailbox        TEXT    NOT NULL, -- account, e.g. broker1@mail.example.com
    folder         TEXT    NOT NULL,
    uid_validity   INTEGER NOT NULL CHECK (uid_validity BETWEEN 0 AND 4294967295),
    last_uid       INTEGER NOT NULL CHECK (last_uid BETWEEN 0 AND 4294967295),
    highest_modseq INTEGER NOT NULL DEFAULT 0 CHECK (highest_modseq >= 0),
    updated_at     INTEGER NOT NULL, -- Unix microseconds
    PRIMARY KEY (mailbox, folder)
);

-- +goose Down
DROP TABLE imap_checkpoints;
