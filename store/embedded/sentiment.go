package embedded

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.SentimentStore = (*DB)(nil)

// RecordSentiment implements store.SentimentStore.
func (d *DB) RecordSentiment(ctx context.Context, clientID, eventID uuid.UUID, at time.Time, score float64) (store.SentimentStats, bool, error) {
	res, err := d.db.ExecContext(ctx, `INSERT INTO client_sentiment (event_id, client_id, at, score) VALUES (?, ?, ?, ?)
		ON CONFLICT (event_id) DO NOTHING`, eventID.String(), clientID.String(), at.UnixMicro(), score)
	if err != nil {
		return store.SentimentStats{}, false, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.SentimentStats{}, false, mapErr(err)
	}
	st, err := d.SentimentStats(ctx, clientID, at)
	return st, n == 1, err
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
