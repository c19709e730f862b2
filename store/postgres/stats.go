package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var (
	_ store.ContactStore   = (*DB)(nil)
	_ store.StatsRebuilder = (*DB)(nil)
)

// insertContacts records a batch in one statement.
const insertContacts = `INSERT INTO client_contacts (event_id, client_id, at, kind, direction)
	SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[])
	ON CONFLICT (event_id) DO NOTHING`

func contactArrays(cs []store.Contact) []any {
	seen := make(map[uuid.UUID]bool, len(cs))
	var (
		ids, clients      []uuid.UUID
		ats               []time.Time
		kinds, directions []string
	)
	for _, c := range cs {
		if seen[c.EventID] {
			continue
		}
		seen[c.EventID] = true
		ids, clients, ats = append(ids, c.EventID), append(clients, c.ClientID), append(ats, c.At)
		kinds, directions = append(kinds, string(c.Kind)), append(directions, c.Direction)
	}
	return []any{ids, clients, ats, kinds, directions}
}

// RecordContacts implements store.ContactStore.
func (db *DB) RecordContacts(ctx context.Context, cs ...store.Contact) (int, error) {
	for _, c := range cs {
		if err := c.Validate(); err != nil {
			return 0, err
		}
	}
	if len(cs) == 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, insertContacts, contactArrays(cs)...)
	if err != nil {
		return 0, mapError("record contacts", err)
	}
	if err := recountResponsiveness(ctx, db.pool, store.ReplyClients(cs), db.now()); err != nil {
		return int(tag.RowsAffected()), mapError("recount responsiveness", err)
	}
	return int(tag.RowsAffected()), nil
}

// ContactStats implements store.ContactStore: the newest row of each
// direction, each an index walk backwards from now.
func (db *DB) ContactStats(ctx context.Context, clientID uuid.UUID, now time.Time) (store.ContactStats, error) {
	var st store.ContactStats
	for _, side := range []struct {
		dir  string
		at   *time.Time
		kind *store.Kind
	}{{store.Inbound, &st.LastInbound, &st.InboundKind}, {store.Outbound, &st.LastOutbound, &st.OutboundKind}} {
		var at time.Time
		var kind string
		err := db.pool.QueryRow(ctx, `SELECT at, kind FROM client_contacts
			WHERE client_id = $1 AND at <= $2 AND direction IN ($3, 'both') ORDER BY at DESC LIMIT 1`,
			clientID, now, side.dir).Scan(&at, &kind)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return st, mapError("read contact statistics", err)
		}
		*side.at, *side.kind = at.UTC(), store.Kind(kind)
	}
	return st, nil
}

// ReplaceClientStats implements store.StatsRebuilder.
func (db *DB) ReplaceClientStats(ctx context.Context, clientID uuid.UUID, counts store.ClientCounts) error {
	if err := counts.Validate(clientID); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM client_fills WHERE client_id = $1`,
			`DELETE FROM client_contacts WHERE client_id = $1`,
			`DELETE FROM client_sentiment WHERE client_id = $1`,
			`DELETE FROM client_recommendations WHERE client_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, clientID); err != nil {
				return err
			}
		}
		for _, f := range counts.Fills {
			if _, err := tx.Exec(ctx, insertFill, db.fillArgs(f)...); err != nil {
				return err
			}
		}
		if len(counts.Contacts) > 0 {
			if _, err := tx.Exec(ctx, insertContacts, contactArrays(counts.Contacts)...); err != nil {
				return err
			}
		}
		if len(counts.Scores) > 0 {
			if _, err := tx.Exec(ctx, insertScores, scoreArrays(clientID, counts.Scores)...); err != nil {
				return err
			}
		}
		for _, r := range counts.Recommendations {
			if _, err := tx.Exec(ctx, insertRecommendation, r.EventID, clientID, r.At, r.Commodity); err != nil {
				return err
			}
		}
		return recountResponsiveness(ctx, tx, []uuid.UUID{clientID}, db.now())
	})
	if err != nil {
		return mapError("rebuild client statistics", err)
	}
	return nil
}
