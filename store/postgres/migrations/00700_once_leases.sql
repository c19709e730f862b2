-- Delivery keys become leases: a key is claimed until expires_at and is done
-- (done_at set) only once its work succeeded, so a crash between the claim
-- and the work leaves a lease that runs out instead of a key that drops the
-- sender's every retry. A done key is kept until expires_at (done_at plus the
-- retention); an expired row is as good as none. Keys claimed before this
-- version count as done.
--
-- The table stays unlogged (00100): after a PostgreSQL crash it is empty, so
-- a delivery retried across that crash is applied again, which the work
-- allows (events are keyed by their source); nothing is lost.

-- +goose Up
ALTER TABLE once_keys ADD COLUMN done_at timestamptz;
ALTER TABLE once_keys ADD COLUMN expires_at timestamptz;
UPDATE once_keys SET done_at = claimed_at, expires_at = claimed_at + interval '7 days';
ALTER TABLE once_keys ALTER COLUMN expires_at SET NOT NULL;
DROP INDEX once_keys_claimed_at_idx;
CREATE INDEX once_keys_expires_at_idx ON once_keys (expires_at);

-- +goose Down
DROP INDEX once_keys_expires_at_idx;
DELETE FROM once_keys WHERE done_at IS NULL;
ALTER TABLE once_keys DROP COLUMN expires_at;
ALTER TABLE once_keys DROP COLUMN done_at;
CREATE INDEX once_keys_claimed_at_idx ON once_keys (claimed_at);
