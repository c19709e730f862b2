-- Every change of who is on which desk, and so of who may see and change a
-- desk's clients: who added someone, changed their role or removed them, and
-- when. Members already on a desk get the record of their addition from what
-- team_members kept.

-- +goose Up
CREATE TABLE desk_changes (
    id       bigserial   PRIMARY KEY,
    at       timestamptz NOT NULL,
    actor    text        NOT NULL,
    slack_id text        NOT NULL,
    desk     text        NOT NULL,
    old_role text        NOT NULL DEFAULT '', -- '' when added
    new_role text        NOT NULL DEFAULT ''  -- '' when removed
);
CREATE INDEX desk_changes_desk_at_idx ON desk_changes (desk, at DESC, id DESC);
CREATE INDEX desk_changes_at_idx ON desk_changes (at DESC, id DESC);

INSERT INTO desk_changes (at, actor, slack_id, desk, new_role)
SELECT added_at, added_by, slack_id, desk, role FROM team_members ORDER BY added_at;

-- +goose Down
DROP TABLE desk_changes;
