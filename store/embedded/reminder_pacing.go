package embedded

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/brokersync/brokersync/store"
)

// PaceReminderChannels implements store.ReminderStore: the transaction
// holds SQLite's write lock from its start, so fn runs with no other
// writer.
func (d *DB) PaceReminderChannels(ctx context.Context, channels []string, fn func(map[string]*store.ReminderPace) error) error {
	chans := slices.Compact(slices.Sorted(slices.Values(channels)))
	return d.inTx(ctx, func(tx *sql.Tx) error {
		paces := make(map[string]*store.ReminderPace, len(chans))
		list := make([]*store.ReminderPace, 0, len(chans))
		read, err := tx.PrepareContext(ctx, `SELECT next_at, strict_until, last_post FROM reminder_pacing WHERE channel = ?`)
		if err != nil {
			return mapErr(err)
		}
		defer read.Close()
		for _, c := range chans {
			p := &store.ReminderPace{Channel: c}
			var next, strict, last int64
			switch err := read.QueryRowContext(ctx, c).Scan(&next, &strict, &last); {
			case err == nil:
				p.Next, p.StrictUntil, p.Last = timeFromMicro(next), timeFromMicro(strict), timeFromMicro(last)
			case !errors.Is(err, sql.ErrNoRows):
				return mapErr(err)
			}
			paces[c] = p
			list = append(list, p)
		}
		if err := fn(paces); err != nil {
			return err
		}
		write, err := tx.PrepareContext(ctx, `INSERT INTO reminder_pacing (channel, next_at, strict_until, last_post, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (channel) DO UPDATE SET next_at = excluded.next_at, strict_until = excluded.strict_until, last_post = excluded.last_post,
    updated_at = excluded.updated_at`)
		if err != nil {
			return mapErr(err)
		}
		defer write.Close()
		now := micro(d.now())
		for _, p := range list {
			if _, err := write.ExecContext(ctx, p.Channel, micro(p.Next), micro(p.StrictUntil), micro(p.Last), now); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}
