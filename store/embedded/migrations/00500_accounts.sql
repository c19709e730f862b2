-- Account numbers get a table of their own, as in store/postgres: one client
-- per account, and orders naming an account find their client. They are now
-- upper-cased and listed once; the profiles are rewritten to match, keeping
-- their order. A number held by two clients stops this migration with a
-- unique violation naming it.

-- +goose Up
CREATE TABLE client_accounts (
    account   TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE
);
CREATE INDEX client_accounts_client ON client_accounts (client_id);

UPDATE clients
SET profile = json_set(profile, '$.Accounts', json((
    SELECT json_group_array(account ORDER BY first) FROM (
        SELECT upper(trim(a.value)) AS account, min(a.key) AS first
        FROM json_each(clients.profile, '$.Accounts') AS a
        GROUP BY account))))
WHERE json_array_length(profile, '$.Accounts') > 0;

INSERT INTO client_accounts (account, client_id)
SELECT a.value, c.id FROM clients AS c, json_each(c.profile, '$.Accounts') AS a;

-- +goose Down
DROP TABLE client_accounts;
