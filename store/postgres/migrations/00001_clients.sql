-- Client profiles. The columns that commands filter, sort and join on are
-- promoted out of the profile; everything else lives in the jsonb document so
-- that adding a profile field needs no migration. Emails, phones and tags are
-- kept in the document too (one row answers a lookup) and also in their own
-- tables, where the primary keys make "an address belongs to at most one
-- client" a database guarantee rather than a race.
--
-- The side tables carry no foreign key to clients: only package
-- store/postgres writes them, always in the same transaction as the client
-- row, and clients are never deleted. A foreign key costs a lookup per row:
-- about a third of the time of a 100,000-client import, measured.

-- +goose Up
-- pg_trgm lets FindClients' substring search use an index; it is a trusted
-- extension (PostgreSQL 13+), so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE clients (
    id               uuid        PRIMARY KEY,
    handle           text        NOT NULL,
    name             text        NOT NULL,
    company          text        NOT NULL DEFAULT '',
    broker           text        NOT NULL DEFAULT '',
    team             text        NOT NULL DEFAULT '',
    stage            text        NOT NULL,
    stage_changed_at timestamptz NOT NULL,
    risk_tolerance   smallint    NOT NULL DEFAULT 0 CHECK (risk_tolerance BETWEEN 0 AND 10),
    horizon          text        NOT NULL DEFAULT '',
    -- search is handle, name and company lower-cased by the application, so
    -- case-insensitive matching does not depend on the server's locale.
    search           text        NOT NULL,
    profile          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          bigint      NOT NULL DEFAULT 1,
    -- The handle index also carries what FindClients filters on, so a search
    -- can walk it in handle order without touching the table, whose rows
    -- are wide with the profile: a search too short for trigrams ("ab")
    -- reads 12 MB of index instead of 200 MB of table per 100,000 clients.
    CONSTRAINT clients_handle_key UNIQUE (handle) INCLUDE (id, team, broker, search)
);

CREATE INDEX clients_team_handle_idx ON clients (team, handle);
CREATE INDEX clients_broker_handle_idx ON clients (broker, handle);
-- Finds the few clients matching a selective search ("müller") without a
-- walk through every handle.
CREATE INDEX clients_search_trgm_idx ON clients USING gin (search gin_trgm_ops);

CREATE TABLE client_emails (
    address   text PRIMARY KEY,
    client_id uuid NOT NULL,
    kind      text NOT NULL
);
CREATE INDEX client_emails_client_idx ON client_emails (client_id);

CREATE TABLE client_phones (
    number    text PRIMARY KEY,
    client_id uuid NOT NULL,
    kind      text NOT NULL
);
CREATE INDEX client_phones_client_idx ON client_phones (client_id);

CREATE TABLE client_tags (
    client_id uuid NOT NULL,
    tag       text NOT NULL,
    PRIMARY KEY (client_id, tag)
);
CREATE INDEX client_tags_tag_idx ON client_tags (tag, client_id);

CREATE TABLE client_audit (
    id        bigserial   PRIMARY KEY,
    client_id uuid        NOT NULL,
    at        timestamptz NOT NULL,
    actor     text        NOT NULL,
    field     text        NOT NULL,
    old_value text        NOT NULL DEFAULT '',
    new_value text        NOT NULL DEFAULT ''
);
CREATE INDEX client_audit_client_at_idx ON client_audit (client_id, at DESC, id DESC);

-- +goose Down
DROP TABLE client_audit;
DROP TABLE client_tags;
DROP TABLE client_phones;
DROP TABLE client_emails;
DROP TABLE clients;
