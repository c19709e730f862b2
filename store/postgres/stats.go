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
	ON CONFLICT (event_id) DO NOTHING
	RETURNING event_id`

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
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, insertContacts, contactArrays(cs)...)
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		n = len(inserted)
		if err := db.noteActivity(ctx, tx, store.Recorded{Contacts: newOnes(cs, inserted, func(c store.Contact) uuid.UUID { return c.EventID })}); err != nil {
			return err
		}
		return recountResponsiveness(ctx, tx, store.ReplyClients(cs), db.now())
	})
	if err != nil {
		return 0, mapError("record contacts", err)
	}
	return n, nil
}

// newOnes are the items whose ids were inserted, each once.
func newOnes[T any](items []T, inserted []uuid.UUID, id func(T) uuid.UUID) []T {
	want := make(map[uuid.UUID]bool, len(inserted))
	for _, i := range inserted {
		want[i] = true
	}
	var out []T
	for _, it := range items {
		if want[id(it)] {
			out = append(out, it)
			delete(want, id(it))
		}
	}
	return out
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
		// The activity row first: it is locked until the end, so a fill
		// recorded meanwhile waits, and is counted after.
		if _, err := lockActivity(ctx, tx, []uuid.UUID{clientID}); err != nil {
			return err
		}
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
		if err := recount(ctx, tx, []uuid.UUID{clientID}, db.now()); err != nil {
			return err
		}
		return recountResponsiveness(ctx, tx, []uuid.UUID{clientID}, db.now())
	})
	if err != nil {
		return mapError("rebuild client statistics", err)
	}
	return nil
}
