package embedded

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Timeline is the embedded store's timeline, in the events table of the
// same SQLite file as the profiles. Get it from DB.Timeline.
type Timeline struct{ d *DB }

var _ store.TimelineStore = (*Timeline)(nil)

// Timeline returns the timeline kept in this database.
func (d *DB) Timeline() *Timeline { return &Timeline{d: d} }

const eventColumns = `id, time, kind, source, source_id, actor, summary, body, truncated, sentiment_score, sentiment_label, attrs, fingerprint`

const (
	// insertEvent writes an event whose id is new; an id stored already is
	// left as it is, and AppendEvents compares the two.
	insertEvent = `INSERT INTO events (client_id, ` + eventColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO NOTHING`
	// reviseEvent replaces a stored version named by Event.Replaces, keeping
	// its client and time.
	reviseEvent = `UPDATE events SET kind = ?, source = ?, source_id = ?, actor = ?, summary = ?, body = ?,
	truncated = ?, sentiment_score = ?, sentiment_label = ?, attrs = ?, fingerprint = ? WHERE id = ?`
	selectStored = `SELECT client_id, ` + eventColumns + ` FROM events WHERE id = ?`
)

// AppendEvents implements store.TimelineStore. The whole call is one
// transaction: every event is prepared (on a copy) and checked first, and
// either all are stored or none. An id stored already is compared with the
// event (store.Event.Against): a repeat writes nothing, a revision replaces
// the stored version, and other content refuses the whole call with an
// *store.EventConflict.
func (t *Timeline) AppendEvents(ctx context.Context, events ...*store.Event) error {
	if len(events) == 0 {
		return nil
	}
	prepared := make([]*store.Event, 0, len(events))
	attrs := make([]string, 0, len(events))
	for _, in := range events {
		if in == nil {
			return store.Invalid("event", "nil event")
		}
		e := *in
		if err := e.Prepare(); err != nil {
			return err
		}
		a, err := json.Marshal(e.Attrs)
		if err != nil {
			return store.Invalid("attrs", "cannot be encoded: %v", err)
		}
		prepared = append(prepared, &e)
		attrs = append(attrs, string(a))
	}
	return t.d.inTx(ctx, func(tx *sql.Tx) error {
		insert, err := tx.PrepareContext(ctx, insertEvent)
		if err != nil {
			return mapErr(err)
		}
		defer insert.Close()
		var conflicts []*store.Event
		for i, e := range prepared {
			var score, label any // NULL without sentiment
			if e.Sentiment != nil {
				score, label = e.Sentiment.Score, e.Sentiment.Label
			}
			res, err := insert.ExecContext(ctx, e.ClientID.String(), e.ID.String(), e.Time.UnixMilli(), string(e.Kind),
				e.Source, e.SourceID, e.Actor, e.Summary, e.Body, e.Truncated, score, label, attrs[i], e.Fingerprint)
			if err != nil {
				return mapErr(err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				continue
			}
			client, stored, err := storedVersion(ctx, tx, e.ID)
			if err != nil {
				return err
			}
			switch e.Against(client, stored) {
			case store.RepeatConflict:
				conflicts = append(conflicts, e)
			case store.RepeatRevision:
				_, err := tx.ExecContext(ctx, reviseEvent, string(e.Kind), e.Source, e.SourceID, e.Actor, e.Summary, e.Body,
					e.Truncated, score, label, attrs[i], e.Fingerprint, e.ID.String())
				if err != nil {
					return mapErr(err)
				}
			}
		}
		if conflicts != nil {
			return &store.EventConflict{Events: store.Refs(conflicts...)}
		}
		return nil
	})
}

// storedVersion returns the client and fingerprint of a stored event. Rows
// written before fingerprints were kept are fingerprinted from their
// content.
func storedVersion(ctx context.Context, tx *sql.Tx, id uuid.UUID) (uuid.UUID, string, error) {
	var client string
	row := tx.QueryRowContext(ctx, selectStored, id.String())
	e, err := scanEvent(scanFunc(func(dest ...any) error {
		return row.Scan(append([]any{&client}, dest...)...)
	}), uuid.Nil)
	if err != nil {
		return uuid.Nil, "", mapErr(err)
	}
	if e.ClientID, err = uuid.Parse(client); err != nil {
		return uuid.Nil, "", store.Internal("embedded store: bad client id "+client, err)
	}
	if e.Fingerprint == "" {
		if e.Fingerprint, err = e.ContentFingerprint(); err != nil {
			return uuid.Nil, "", err
		}
	}
	return e.ClientID, e.Fingerprint, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Events implements store.TimelineStore: one index range scan on
// (client_id, time DESC, id DESC), resumed after the cursor's (time, id).
func (t *Timeline) Events(ctx context.Context, clientID uuid.UUID, q store.EventQuery) (store.EventPage, error) {
	limit := store.PageLimit(q.Limit)
	var where strings.Builder
	where.WriteString(`client_id = ?`)
	args := []any{clientID.String()}
	if q.Cursor != "" {
		at, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return store.EventPage{}, err
		}
		where.WriteString(` AND (time, id) < (?, ?)`)
		args = append(args, at, id.String())
	}
	// Stored times are whole milliseconds: round bounds up so that ">= since"
	// and "< until" mean the same in milliseconds as in time.Time.
	if !q.Since.IsZero() {
		where.WriteString(` AND time >= ?`)
		args = append(args, ceilMilli(q.Since))
	}
	if !q.Until.IsZero() {
		where.WriteString(` AND time < ?`)
		args = append(args, ceilMilli(q.Until))
	}
	if len(q.Kinds) > 0 {
		var kinds []string
		for _, k := range q.Kinds {
			pk, err := store.ParseKind(string(k))
			if err != nil {
				return store.EventPage{}, err
			}
			if !slices.Contains(kinds, string(pk)) {
				kinds = append(kinds, string(pk))
			}
		}
		where.WriteString(` AND kind IN (?` + strings.Repeat(`, ?`, len(kinds)-1) + `)`)
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	args = append(args, limit+1) // one more tells whether there is a next page
	rows, err := t.d.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE `+where.String()+
		` ORDER BY time DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return store.EventPage{}, mapErr(err)
	}
	defer rows.Close()
	var page store.EventPage
	for rows.Next() {
		e, err := scanEvent(rows, clientID)
		if err != nil {
			return store.EventPage{}, err
		}
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return store.EventPage{}, mapErr(err)
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		last := page.Events[limit-1]
		page.Next = encodeCursor(last.Time.UnixMilli(), last.ID)
	}
	return page, nil
}

// Event implements store.TimelineStore. ENOTFOUND also for another client's
// event, so that one client's id never reveals another's timeline.
func (t *Timeline) Event(ctx context.Context, clientID, id uuid.UUID) (*store.Event, error) {
	row := t.d.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ? AND client_id = ?`, id.String(), clientID.String())
	e, err := scanEvent(row, clientID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.Errorf(store.ENOTFOUND, "no event %s on this timeline", id)
	}
	if err == nil && e.Fingerprint == "" { // stored before fingerprints were kept
		e.Fingerprint, err = e.ContentFingerprint()
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Ping implements store.TimelineStore.
func (t *Timeline) Ping(ctx context.Context) error { return t.d.Ping(ctx) }

// Close does nothing: the timeline shares the DB, whose Close closes the file.
func (t *Timeline) Close() error { return nil }

func scanEvent(row interface{ Scan(...any) error }, clientID uuid.UUID) (*store.Event, error) {
	var (
		e     = &store.Event{ClientID: clientID}
		id    string
		ms    int64
		kind  string
		score sql.NullFloat64
		label sql.NullString
		attrs string
	)
	err := row.Scan(&id, &ms, &kind, &e.Source, &e.SourceID, &e.Actor, &e.Summary, &e.Body, &e.Truncated, &score, &label, &attrs, &e.Fingerprint)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	} else if err != nil {
		return nil, mapErr(err)
	}
	if e.ID, err = uuid.Parse(id); err != nil {
		return nil, store.Internal("embedded store: bad event id "+id, err)
	}
	e.Time, e.Kind = time.UnixMilli(ms).UTC(), store.Kind(kind)
	if label.Valid {
		e.Sentiment = &store.Sentiment{Score: score.Float64, Label: label.String}
	}
	// Attributes written by a newer version may carry fields this one does
	// not know; they are dropped, not an error.
	_ = json.Unmarshal([]byte(attrs), &e.Attrs)
	return e, nil
}

const (
	cursorVersion = 1
	cursorLen     = 1 + 8 + 16 // version, unix ms, id
)

// encodeCursor makes the opaque cursor: base64url of a version byte, the
// last event's time in unix milliseconds and its id.
func encodeCursor(ms int64, id uuid.UUID) string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(ms))
	b = append(b, id[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (int64, uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return 0, uuid.Nil, store.Invalid("cursor", "not a cursor from this timeline; start again from the first page")
	}
	return int64(binary.BigEndian.Uint64(b[1:9])), uuid.UUID(b[9:]), nil
}

// ceilMilli returns t in unix milliseconds, rounded up.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}
