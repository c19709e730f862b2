-- Order-system account numbers get a table of their own, like emails and
-- phones: its primary key makes "an account belongs to at most one client" a
-- database guarantee, and an order naming an account finds its client
-- through it.
--
-- Account numbers used to be stored as typed; they are now upper-cased and
-- listed once, and the profiles are rewritten to match, keeping their order.
-- A number held by two clients stops this migration with a unique violation
-- naming it: give it to one client only and start again.

-- +goose Up
CREATE TABLE client_accounts (
    account   text PRIMARY KEY,
    client_id uuid NOT NULL
);
CREATE INDEX client_accounts_client_idx ON client_accounts (client_id);

UPDATE clients c
SET profile = jsonb_set(c.profile, '{accounts}', n.accounts)
FROM (
    SELECT id, jsonb_agg(account ORDER BY first) AS accounts
    FROM (
        SELECT id, upper(btrim(a)) AS account, min(i) AS first
        FROM clients, jsonb_array_elements_text(profile -> 'accounts') WITH ORDINALITY AS e(a, i)
        GROUP BY id, account
    ) d
    GROUP BY id
) n
WHERE c.id = n.id AND c.profile -> 'accounts' IS DISTINCT FROM n.accounts;

INSERT INTO client_accounts (account, client_id)
SELECT a, id FROM clients, jsonb_array_elements_text(profile -> 'accounts') AS a;

-- +goose Down
DROP TABLE client_accounts;
