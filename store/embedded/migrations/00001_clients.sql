-- +goose Up
CREATE TABLE clients (
    id               TEXT PRIMARY KEY,
    handle           TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    search           TEXT NOT NULL, -- lower-cased handle, name and company (SQLite's lower() is ASCII-only)
    broker           TEXT NOT NULL DEFAULT '',
    team             TEXT NOT NULL DEFAULT '',
    stage            TEXT NOT NULL,
    risk_tolerance   INTEGER NOT NULL DEFAULT 0,
    profile          TEXT NOT NULL, -- the whole store.Client as JSON
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL
);
CREATE INDEX clients_team ON clients (team, handle);
CREATE INDEX clients_broker ON clients (broker, handle);

CREATE TABLE client_emails (
    address   TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL
);
CREATE INDEX client_emails_client ON client_emails (client_id);

CREATE TABLE client_phones (
    number    TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL
);
CREATE INDEX client_phones_client ON client_phones (client_id);

CREATE TABLE client_tags (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (client_id, tag)
);
CREATE INDEX client_tags_tag ON client_tags (tag);

CREATE TABLE client_audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    field     TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL
);
CREATE INDEX client_audit_client ON client_audit (client_id, at DESC, id DESC);

-- +goose Down
DROP TABLE client_audit;
DROP TABLE client_tags;
DROP TABLE client_phones;
DROP TABLE client_emails;
DROP TABLE clients;
