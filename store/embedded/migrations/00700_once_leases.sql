-- Delivery keys become leases: a key is claimed until expires_at and is done
-- (done_at set) only once its work succeeded, so a crash between the claim
-- and the work leaves a lease that runs out instead of a key that drops the
-- sender's every retry. A done key is kept until expires_at (done_at plus the
-- retention); an expired row is as good as none. Keys claimed before this
-- version count as done. Times are Unix microseconds.

-- +goose Up
ALTER TABLE once_keys ADD COLUMN done_at INTEGER;
ALTER TABLE once_keys ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE once_keys SET done_at = claimed_at, expires_at = claimed_at + 604800000000;
DROP INDEX once_keys_claimed_at;
CREATE INDEX once_keys_expires_at ON once_keys (expires_at);

-- +goose Down
DROP INDEX once_keys_expires_at;
DELETE FROM once_keys WHERE done_at IS NULL;
ALTER TABLE once_keys DROP COLUMN expires_at;
ALTER TABLE once_keys DROP COLUMN done_at;
CREATE INDEX once_keys_claimed_at ON once_keys (claimed_at);
