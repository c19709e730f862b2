package embedded

import (
	"context"
	"database/sql"
	"errors"

	"github.com/brokersync/brokersync/store"
)

var _ store.CheckpointStore = (*DB)(nil)

// Checkpoint implements store.CheckpointStore.
func (d *DB) Checkpoint(ctx context.Context, mailbox, folder string) (store.Checkpoint, error) {
	cp := store.Checkpoint{Mailbox: mailbox, Folder: folder}
	var modseq, at int64
	err := d.db.QueryRowContext(ctx,
		`SELECT uid_validity, last_uid, highest_modseq, updated_at FROM imap_checkpoints WHERE mailbox = ? AND folder = ?`,
		mailbox, folder).Scan(&cp.UIDValidity, &cp.LastUID, &modseq, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, store.Errorf(store.ENOTFOUND, "no checkpoint for %s folder %s", mailbox, folder)
	}
	if err != nil {
		return cp, mapErr(err)
	}
	cp.HighestModSeq, cp.UpdatedAt = uint64(modseq), timeFromMicro(at)
	return cp, nil
}

// SaveCheckpoint implements store.CheckpointStore. Within one UIDVALIDITY a
// checkpoint never moves backwards: a slower ingester of the same folder (a
// second replica, a stale retry) saving an older position is ignored rather
// than making the next pass fetch everything again. A new UIDVALIDITY always
// replaces the old position, since the old UIDs mean nothing any more.
func (d *DB) SaveCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	if err := cp.Validate(); err != nil {
		return err
	}
	at := cp.UpdatedAt
	if at.IsZero() {
		at = d.now()
	}
	const upsert = `
INSERT INTO imap_checkpoints (mailbox, folder, uid_validity, last_uid, highest_modseq, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (mailbox, folder) DO UPDATE SET
    uid_validity = excluded.uid_validity,
    last_uid = excluded.last_uid,
    highest_modseq = excluded.highest_modseq,
    updated_at = excluded.updated_at
WHERE imap_checkpoints.uid_validity <> excluded.uid_validity
   OR imap_checkpoints.last_uid <= excluded.last_uid`
	args := []any{cp.Mailbox, cp.Folder, int64(cp.UIDValidity), int64(cp.LastUID), int64(cp.HighestModSeq), at.UTC().UnixMicro()}
	if cp.Fence == 0 {
		_, err := d.db.ExecContext(ctx, upsert, args...)
		return mapErr(err)
	}
	// The transaction holds the write lock from its start, so no takeover
	// comes between the token check and the save.
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var token int64
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT token, holder FROM mailbox_leases WHERE mailbox = ?`,
			store.MailboxLabel(cp.Mailbox, cp.Folder)).Scan(&token, &holder)
		if errors.Is(err, sql.ErrNoRows) {
			return store.StaleFence(cp, 0)
		}
		if err != nil {
			return mapErr(err)
		}
		if token != cp.Fence || holder == "" {
			return store.StaleFence(cp, token)
		}
		_, err = tx.ExecContext(ctx, upsert, args...)
		return mapErr(err)
	})
}
