package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"

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

// RecordSentiment implements store.SentimentStore.
func (db *DB) RecordSentiment(ctx context.Context, clientID, eventID uuid.UUID, at time.Time, score float64) (store.SentimentStats, bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO client_sentiment (event_id, client_id, at, score) VALUES ($1, $2, $3, $4)
		ON CONFLICT (event_id) DO NOTHING`, eventID, clientID, at, score)
	if err != nil {
		return store.SentimentStats{}, false, mapError("record sentiment", err)
	}
	st, err := db.SentimentStats(ctx, clientID, at)
	return st, tag.RowsAffected() == 1, err
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
