package embedded

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.SentimentStore = (*DB)(nil)

// insertScore adds one scored event of a client.
const insertScore = `INSERT INTO client_sentiment (event_id, client_id, at, score) VALUES (?, ?, ?, ?)
	ON CONFLICT (event_id) DO NOTHING`

// RecordScores implements store.SentimentStore.
func (d *DB) RecordScores(ctx context.Context, clientID uuid.UUID, scores ...store.Score) error {
	if err := store.CheckScores(scores); err != nil || len(scores) == 0 {
		return err
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		r := store.Recorded{ScoresOf: clientID}
		for _, s := range scores {
			res, err := tx.ExecContext(ctx, insertScore, s.EventID.String(), clientID.String(), s.At.UnixMicro(), s.Score)
			if err != nil {
				return mapErr(err)
			}
			if k, err := res.RowsAffected(); err != nil {
				return mapErr(err)
			} else if k == 1 {
				r.Scores = append(r.Scores, s)
			}
		}
		return d.noteActivity(ctx, tx, r)
	})
}

// Scores implements store.SentimentStore.
func (d *DB) Scores(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]store.Score, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT event_id, at, score FROM client_sentiment
		WHERE client_id = ? AND at >= ? AND at < ? ORDER BY at, event_id`, clientID.String(), since.UnixMicro(), until.UnixMicro())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Score
	for rows.Next() {
		var id string
		var at int64
		var s store.Score
		if err := rows.Scan(&id, &at, &s.Score); err != nil {
			return nil, mapErr(err)
		}
		if s.EventID, err = uuid.Parse(id); err != nil {
			return nil, mapErr(err)
		}
		s.At = time.UnixMicro(at).UTC()
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

// SentimentStats implements store.SentimentStore.
func (d *DB) SentimentStats(ctx context.Context, clientID uuid.UUID, now time.Time) (store.SentimentStats, error) {
	end := now.UnixMicro()
	mid := now.Add(-30 * 24 * time.Hour).UnixMicro()
	start := now.Add(-60 * 24 * time.Hour).UnixMicro()
	var st store.SentimentStats
	var priorCount int
	err := d.db.QueryRowContext(ctx, `
		SELECT coalesce(avg(CASE WHEN at > ?2 THEN score END), 0), count(CASE WHEN at > ?2 THEN 1 END),
		       coalesce(avg(CASE WHEN at <= ?2 THEN score END), 0), count(CASE WHEN at <= ?2 THEN 1 END)
		FROM client_sentiment WHERE client_id = ?1 AND at > ?3 AND at <= ?4`,
		clientID.String(), mid, start, end).Scan(&st.Mean30d, &st.Count30d, &st.Prior30d, &priorCount)
	if err != nil {
		return st, mapErr(err)
	}
	return st.WithTrend(priorCount), nil
}
