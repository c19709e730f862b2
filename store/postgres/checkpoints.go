package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.CheckpointStore = (*DB)(nil)

// Checkpoint implements store.CheckpointStore.
func (db *DB) Checkpoint(ctx context.Context, mailbox, folder string) (store.Checkpoint, error) {
	cp := store.Checkpoint{Mailbox: mailbox, Folder: folder}
	var uidValidity, lastUID, modseq int64
	var at time.Time
	err := db.pool.QueryRow(ctx,
		`SELECT uid_validity, last_uid, highest_modseq, updated_at FROM imap_checkpoints WHERE mailbox = $1 AND folder = $2`,
		mailbox, folder).Scan(&uidValidity, &lastUID, &modseq, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, store.Errorf(store.ENOTFOUND, "no checkpoint for %s folder %s", mailbox, folder)
	}
	if err != nil {
		return cp, mapError("read IMAP checkpoint", err)
	}
	cp.UIDValidity, cp.LastUID, cp.HighestModSeq = uint32(uidValidity), uint32(lastUID), uint64(modseq)
	cp.UpdatedAt = at.UTC()
	return cp, nil
}

// SaveCheckpoint implements store.CheckpointStore. Within one UIDVALIDITY a
// checkpoint never moves backwards: a slower ingester of the same folder (a
// second replica, a stale retry) saving an older position is ignored rather
// than making the next pass fetch everything again. A new UIDVALIDITY always
// replaces the old position, since the old UIDs mean nothing any more.
func (db *DB) SaveCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	if err := cp.Validate(); err != nil {
		return err
	}
	at := cp.UpdatedAt
	if at.IsZero() {
		at = db.now()
	}
	const upsert = `
INSERT INTO imap_checkpoints (mailbox, folder, uid_validity, last_uid, highest_modseq, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (mailbox, folder) DO UPDATE SET
    uid_validity = excluded.uid_validity,
    last_uid = excluded.last_uid,
    highest_modseq = excluded.highest_modseq,
    updated_at = excluded.updated_at
WHERE imap_checkpoints.uid_validity <> excluded.uid_validity
   OR imap_checkpoints.last_uid <= excluded.last_uid`
	args := []any{cp.Mailbox, cp.Folder, int64(cp.UIDValidity), int64(cp.LastUID), int64(cp.HighestModSeq), at.UTC().Truncate(time.Microsecond)}
	if cp.Fence == 0 {
		_, err := db.pool.Exec(ctx, upsert, args...)
		return mapError("save IMAP checkpoint", err)
	}
	// The lease row is share-locked until the save commits, so a takeover
	// (which updates it) waits for this save, and a save after a takeover
	// sees the new token.
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var token int64
		var holder string
		err := tx.QueryRow(ctx, `SELECT token, holder FROM mailbox_leases WHERE mailbox = $1 FOR SHARE`,
			store.MailboxLabel(cp.Mailbox, cp.Folder)).Scan(&token, &holder)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.StaleFence(cp, 0)
		}
		if err != nil {
			return err
		}
		if token != cp.Fence || holder == "" {
			return store.StaleFence(cp, token)
		}
		_, err = tx.Exec(ctx, upsert, args...)
		return err
	})
	return mapError("save IMAP checkpoint", err)
}
