package embedded

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var (
	_ store.ContactStore   = (*DB)(nil)
	_ store.StatsRebuilder = (*DB)(nil)
)

const insertContact = `INSERT INTO client_contacts (event_id, client_id, at, kind, direction) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (event_id) DO NOTHING`

// RecordContacts implements store.ContactStore.
func (d *DB) RecordContacts(ctx context.Context, cs ...store.Contact) (int, error) {
	for _, c := range cs {
		if err := c.Validate(); err != nil {
			return 0, err
		}
	}
	if len(cs) == 0 {
		return 0, nil
	}
	n := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		var r store.Recorded
		for _, c := range cs {
			res, err := tx.ExecContext(ctx, insertContact, c.EventID.String(), c.ClientID.String(), c.At.UnixMicro(), string(c.Kind), c.Direction)
			if err != nil {
				return mapErr(err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return mapErr(err)
			}
			n += int(k)
			if k == 1 {
				r.Contacts = append(r.Contacts, c)
			}
		}
		if err := d.noteActivity(ctx, tx, r); err != nil {
			return err
		}
		return recountResponsiveness(ctx, tx, store.ReplyClients(cs), d.now())
	})
	return n, err
}

// ContactStats implements store.ContactStore.
func (d *DB) ContactStats(ctx context.Context, clientID uuid.UUID, now time.Time) (store.ContactStats, error) {
	var st store.ContactStats
	for _, side := range []struct {
		dir  string
		at   *time.Time
		kind *store.Kind
	}{{store.Inbound, &st.LastInbound, &st.InboundKind}, {store.Outbound, &st.LastOutbound, &st.OutboundKind}} {
		var at int64
		var kind string
		err := d.db.QueryRowContext(ctx, `SELECT at, kind FROM client_contacts
			WHERE client_id = ? AND at <= ? AND direction IN (?, 'both') ORDER BY at DESC LIMIT 1`,
			clientID.String(), now.UnixMicro(), side.dir).Scan(&at, &kind)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return st, mapErr(err)
		}
		*side.at, *side.kind = timeFromMicro(at), store.Kind(kind)
	}
	return st, nil
}

// ReplaceClientStats implements store.StatsRebuilder.
func (d *DB) ReplaceClientStats(ctx context.Context, clientID uuid.UUID, counts store.ClientCounts) error {
	if err := counts.Validate(clientID); err != nil {
		return err
	}
	id := clientID.String()
	return d.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM client_fills WHERE client_id = ?`,
			`DELETE FROM client_contacts WHERE client_id = ?`,
			`DELETE FROM client_sentiment WHERE client_id = ?`,
			`DELETE FROM client_recommendations WHERE client_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return mapErr(err)
			}
		}
		for _, f := range counts.Fills {
			if _, err := tx.ExecContext(ctx, insertFill, d.fillArgs(f)...); err != nil {
				return mapErr(err)
			}
		}
		for _, c := range counts.Contacts {
			if _, err := tx.ExecContext(ctx, insertContact, c.EventID.String(), id, c.At.UnixMicro(), string(c.Kind), c.Direction); err != nil {
				return mapErr(err)
			}
		}
		for _, s := range counts.Scores {
			if _, err := tx.ExecContext(ctx, insertScore, s.EventID.String(), id, s.At.UnixMicro(), s.Score); err != nil {
				return mapErr(err)
			}
		}
		for _, r := range counts.Recommendations {
			if _, err := tx.ExecContext(ctx, insertRecommendation, r.EventID.String(), id, r.At.UnixMicro(), r.Commodity); err != nil {
				return mapErr(err)
			}
		}
		if err := recountActivity(ctx, tx, []uuid.UUID{clientID}, d.now().UTC()); err != nil {
			return err
		}
		return recountResponsiveness(ctx, tx, []uuid.UUID{clientID}, d.now())
	})
}
