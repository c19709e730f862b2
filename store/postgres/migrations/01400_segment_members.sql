-- Who is in each saved segment, every entry and exit (kept first, then put
-- on the client's timeline), and the watches that post them to a channel.

-- +goose Up
CREATE TABLE segment_members (
    segment   text        NOT NULL REFERENCES segments (name) ON DELETE CASCADE,
    client_id uuid        NOT NULL,
    since     timestamptz NOT NULL,
    PRIMARY KEY (segment, client_id)
);

CREATE TABLE segment_changes (
    seq       bigserial   PRIMARY KEY,
    segment   text        NOT NULL REFERENCES segments (name) ON DELETE CASCADE,
    client_id uuid        NOT NULL,
    entered   boolean     NOT NULL,
    at        timestamptz NOT NULL,
    recorded  boolean     NOT NULL DEFAULT false
);
CREATE INDEX segment_changes_unrecorded_idx ON segment_changes (seq) WHERE NOT recorded;
CREATE INDEX segment_changes_segment_idx ON segment_changes (segment, seq);

CREATE TABLE segment_watches (
    segment    text        PRIMARY KEY REFERENCES segments (name) ON DELETE CASCADE,
    channel    text        NOT NULL,
    watched_by text        NOT NULL,
    at         timestamptz NOT NULL,
    after_seq  bigint      NOT NULL, -- changes after this one are not posted yet
    queued_at  timestamptz           -- when the last post was queued
);

CREATE TABLE segment_watch_posts (
    id         uuid        PRIMARY KEY,
    segment    text        NOT NULL REFERENCES segments (name) ON DELETE CASCADE,
    channel    text        NOT NULL,
    from_seq   bigint      NOT NULL,
    to_seq     bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    next_at    timestamptz NOT NULL, -- when it may be claimed (again)
    attempts   integer     NOT NULL DEFAULT 0,
    message_ts text        NOT NULL DEFAULT '',
    posted_at  timestamptz
);
CREATE INDEX segment_watch_posts_due_idx ON segment_watch_posts (next_at) WHERE message_ts = '';

-- +goose Down
DROP TABLE segment_watch_posts;
DROP TABLE segment_watches;
DROP TABLE segment_changes;
DROP TABLE segment_members;
