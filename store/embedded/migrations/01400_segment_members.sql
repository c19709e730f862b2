-- Who is in each saved segment, every entry and exit (kept first, then put
-- on the client's timeline), and the watches that post them to a channel.

-- +goose Up
CREATE TABLE segment_members (
    segment   TEXT    NOT NULL REFERENCES segments (name) ON DELETE CASCADE,
    client_id TEXT    NOT NULL,
    since     INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (segment, client_id)
);

CREATE TABLE segment_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    segment   TEXT    NOT NULL REFERENCES segments (name) ON DELETE CASCADE,
    client_id TEXT    NOT NULL,
    entered   INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    recorded  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX segment_changes_unrecorded ON segment_changes (recorded, seq);
CREATE INDEX segment_changes_segment ON segment_changes (segment, seq);

CREATE TABLE segment_watches (
    segment    TEXT    PRIMARY KEY REFERENCES segments (name) ON DELETE CASCADE,
    channel    TEXT    NOT NULL,
    watched_by TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    after_seq  INTEGER NOT NULL, -- changes after this one are not posted yet
    queued_at  INTEGER           -- when the last post was queued
);

CREATE TABLE segment_watch_posts (
    id         TEXT    PRIMARY KEY,
    segment    TEXT    NOT NULL REFERENCES segments (name) ON DELETE CASCADE,
    channel    TEXT    NOT NULL,
    from_seq   INTEGER NOT NULL,
    to_seq     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    message_ts TEXT    NOT NULL DEFAULT '',
    posted_at  INTEGER
);
CREATE INDEX segment_watch_posts_due ON segment_watch_posts (message_ts, next_at);

-- +goose Down
DROP TABLE segment_watch_posts;
DROP TABLE segment_watches;
DROP TABLE segment_changes;
DROP TABLE segment_members;
