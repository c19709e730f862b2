-- Each desk's triggered follow-ups (/team set <desk> followup-…): the delay
-- after a fill (0: none), and whether market moves, sentiment and cadence
-- raise follow-ups. A desk with no row has the defaults.

-- +goose Up
CREATE TABLE desk_followups (
    desk           TEXT    PRIMARY KEY,
    after_fill_min INTEGER  NOT NULL CHECK (after_fill_min >= 0),
    market_moves   INTEGER NOT NULL,
    sentiment      INTEGER NOT NULL,
    cadence        INTEGER NOT NULL,
    updated_by     TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER   NOT NULL
);

-- +goose Down
DROP TABLE desk_followups;
