-- Every change of who is on which desk, as in store/postgres. Members
-- already on a desk get the record of their addition from team_members.
-- Times are Unix microseconds.

-- +goose Up
CREATE TABLE desk_changes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    slack_id TEXT    NOT NULL,
    desk     TEXT    NOT NULL,
    old_role TEXT    NOT NULL DEFAULT '', -- '' when added
    new_role TEXT    NOT NULL DEFAULT ''  -- '' when removed
);
CREATE INDEX desk_changes_desk_at ON desk_changes (desk, at DESC, id DESC);
CREATE INDEX desk_changes_at ON desk_changes (at DESC, id DESC);

INSERT INTO desk_changes (at, actor, slack_id, desk, new_role)
SELECT added_at, added_by, slack_id, desk, role FROM team_members ORDER BY added_at;

-- +goose Down
DROP TABLE desk_changes;
