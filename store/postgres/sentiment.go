package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.SentimentStore = (*DB)(nil)

// The two 30-day windows ending at $2, in one pass over the client's index range.
const sentimentStatsQuery = `
SELECT coalesce(avg(score) FILTER (WHERE at > $2::timestamptz - interval '30 days'), 0),
       count(*)            FILTER (WHERE at > $2::timestamptz - interval '30 days'),
       coalesce(avg(score) FILTER (WHERE at <= $2::timestamptz - interval '30 days'), 0),
       count(*)            FILTER (WHERE at <= $2::timestamptz - interval '30 days')
FROM client_sentiment
WHERE client_id = $1 AND at > $2::timestamptz - interval '60 days' AND at <= $2`

// insertScores adds a client's scored events ($1) from three arrays: event
// ids, times and scores.
const insertScores = `INSERT INTO client_sentiment (event_id, client_id, at, score)
	SELECT e, $1, a, s FROM unnest($2::uuid[], $3::timestamptz[], $4::float8[]) AS t(e, a, s)
	ON CONFLICT (event_id) DO NOTHING
	RETURNING event_id`

func scoreArrays(clientID uuid.UUID, scores []store.Score) []any {
	ids := make([]uuid.UUID, len(scores))
	ats := make([]time.Time, len(scores))
	vs := make([]float64, len(scores))
	for i, s := range scores {
		ids[i], ats[i], vs[i] = s.EventID, s.At, s.Score
	}
	return []any{clientID, ids, ats, vs}
}

// RecordScores implements store.SentimentStore.
func (db *DB) RecordScores(ctx context.Context, clientID uuid.UUID, scores ...store.Score) error {
	if err := store.CheckScores(scores); err != nil || len(scores) == 0 {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, insertScores, scoreArrays(clientID, scores)...)
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		return db.noteActivity(ctx, tx, store.Recorded{ScoresOf: clientID,
			Scores: newOnes(scores, inserted, func(s store.Score) uuid.UUID { return s.EventID })})
	})
	return mapError("record sentiment", err)
}

// Scores implements store.SentimentStore.
func (db *DB) Scores(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]store.Score, error) {
	rows, err := db.pool.Query(ctx, `SELECT event_id, at, score FROM client_sentiment
		WHERE client_id = $1 AND at >= $2 AND at < $3 ORDER BY at, event_id`, clientID, since, until)
	if err != nil {
		return nil, mapError("read sentiment", err)
	}
	defer rows.Close()
	var out []store.Score
	for rows.Next() {
		var s store.Score
		if err := rows.Scan(&s.EventID, &s.At, &s.Score); err != nil {
			return nil, mapError("read sentiment", err)
		}
		out = append(out, s)
	}
	return out, mapError("read sentiment", rows.Err())
}

// SentimentStats implements store.SentimentStore.
func (db *DB) SentimentStats(ctx context.Context, clientID uuid.UUID, now time.Time) (store.SentimentStats, error) {
	var st store.SentimentStats
	var priorCount int
	err := db.pool.QueryRow(ctx, sentimentStatsQuery, clientID, now).Scan(&st.Mean30d, &st.Count30d, &st.Prior30d, &priorCount)
	if err != nil {
		return st, mapError("read sentiment", err)
	}
	return st.WithTrend(priorCount), nil
}
