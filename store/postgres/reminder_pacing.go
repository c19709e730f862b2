package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

// PaceReminderChannels implements store.ReminderStore: the channels' rows
// are locked (FOR UPDATE, in name order so that two callers never wait on
// each other crosswise) for as long as fn runs.
func (db *DB) PaceReminderChannels(ctx context.Context, channels []string, fn func(map[string]*store.ReminderPace) error) error {
	chans := slices.Compact(slices.Sorted(slices.Values(channels)))
	if len(chans) == 0 {
		return fn(map[string]*store.ReminderPace{})
	}
	var fnErr error
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var zero time.Time
		if _, err := tx.Exec(ctx, `
INSERT INTO reminder_pacing (channel, next_at, strict_until, last_post, updated_at)
SELECT c, $2, $2, $2, $3 FROM unnest($1::text[]) AS c ORDER BY c
ON CONFLICT (channel) DO NOTHING`, chans, zero, pgTime(db.now())); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT channel, next_at, strict_until, last_post FROM reminder_pacing
WHERE channel = ANY($1) ORDER BY channel FOR UPDATE`, chans)
		if err != nil {
			return err
		}
		paces, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.ReminderPace, error) {
			p := &store.ReminderPace{}
			err := row.Scan(&p.Channel, &p.Next, &p.StrictUntil, &p.Last)
			p.Next, p.StrictUntil, p.Last = p.Next.UTC(), p.StrictUntil.UTC(), p.Last.UTC()
			return p, err
		})
		if err != nil {
			return err
		}
		byChannel := make(map[string]*store.ReminderPace, len(paces))
		for _, p := range paces {
			byChannel[p.Channel] = p
		}
		if fnErr = fn(byChannel); fnErr != nil {
			return fnErr
		}
		next, strict, last := make([]time.Time, len(paces)), make([]time.Time, len(paces)), make([]time.Time, len(paces))
		names := make([]string, len(paces))
		for i, p := range paces {
			names[i], next[i], strict[i], last[i] = p.Channel, pgTime(p.Next), pgTime(p.StrictUntil), pgTime(p.Last)
		}
		_, err = tx.Exec(ctx, `
UPDATE reminder_pacing r SET next_at = p.next_at, strict_until = p.strict_until, last_post = p.last_post, updated_at = $5
FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[]) AS p(channel, next_at, strict_until, last_post)
WHERE r.channel = p.channel`, names, next, strict, last, pgTime(db.now()))
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	return mapError("pace reminder channels", err)
}
