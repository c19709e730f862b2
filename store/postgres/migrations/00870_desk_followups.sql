-- Each desk's triggered follow-ups (/team set <desk> followup-…): the delay
-- after a fill (0: none), and whether market moves, sentiment and cadence
-- raise follow-ups. A desk with no row has the defaults.

-- +goose Up
CREATE TABLE desk_followups (
    desk           text    PRIMARY KEY,
    after_fill_min integer  NOT NULL CHECK (after_fill_min >= 0),
    market_moves   boolean NOT NULL,
    sentiment      boolean NOT NULL,
    cadence        boolean NOT NULL,
    updated_by     text    NOT NULL DEFAULT '',
    updated_at     timestamptz   NOT NULL
);

-- +goose Down
DROP TABLE desk_followups;
