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
		counts := dayCounts{}
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
				counts.add(e.ClientID, e.Time, e, 1)
				continue
			}
			stored, err := storedVersion(ctx, tx, e.ID)
			if err != nil {
				return err
			}
			switch e.Against(stored.ClientID, stored.Fingerprint) {
			case store.RepeatConflict:
				conflicts = append(conflicts, e)
			case store.RepeatRevision:
				_, err := tx.ExecContext(ctx, reviseEvent, string(e.Kind), e.Source, e.SourceID, e.Actor, e.Summary, e.Body,
					e.Truncated, score, label, attrs[i], e.Fingerprint, e.ID.String())
				if err != nil {
					return mapErr(err)
				}
				// The revision keeps the stored version's time, so its day.
				counts.add(stored.ClientID, stored.Time, stored, -1)
				counts.add(stored.ClientID, stored.Time, e, 1)
			}
		}
		if conflicts != nil {
			return &store.EventConflict{Events: store.Refs(conflicts...)}
		}
		return counts.write(ctx, tx)
	})
}

// storedVersion returns a stored event with its client and fingerprint.
// Rows written before fingerprints were kept are fingerprinted from their
// content.
func storedVersion(ctx context.Context, tx *sql.Tx, id uuid.UUID) (*store.Event, error) {
	var client string
	row := tx.QueryRowContext(ctx, selectStored, id.String())
	e, err := scanEvent(scanFunc(func(dest ...any) error {
		return row.Scan(append([]any{&client}, dest...)...)
	}), uuid.Nil)
	if err != nil {
		return nil, mapErr(err)
	}
	if e.ClientID, err = uuid.Parse(client); err != nil {
		return nil, store.Internal("embedded store: bad client id "+client, err)
	}
	if e.Fingerprint == "" {
		if e.Fingerprint, err = e.ContentFingerprint(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// dayCounts are the changes an append makes to timeline_days.
type dayCounts map[dayKey]*store.DayCount

type dayKey struct {
	client uuid.UUID
	day    int64
	kind   store.Kind
}

// add counts e (or takes it out, sign -1) on client's timeline on the day
// of at.
func (c dayCounts) add(client uuid.UUID, at time.Time, e *store.Event, sign int) {
	k := dayKey{client, store.DayNumber(at), e.Kind}
	d := c[k]
	if d == nil {
		d = &store.DayCount{}
		c[k] = d
	}
	d.Add(e, sign)
}

// write adds the changes to timeline_days, in the append's transaction.
func (c dayCounts) write(ctx context.Context, tx *sql.Tx) error {
	if len(c) == 0 {
		return nil
	}
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO timeline_days (client_id, day, kind, events, scored, sentiment_sum, bought, sold)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (client_id, day, kind) DO UPDATE SET events = events + excluded.events, scored = scored + excluded.scored,
	sentiment_sum = sentiment_sum + excluded.sentiment_sum, bought = bought + excluded.bought, sold = sold + excluded.sold`)
	if err != nil {
		return mapErr(err)
	}
	defer upsert.Close()
	for k, d := range c {
		if _, err := upsert.ExecContext(ctx, k.client.String(), k.day, string(k.kind), d.Events, d.Scored, d.SentimentSum, d.Bought, d.Sold); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// DayCounts implements store.TimelineStore: the rows of timeline_days,
// which AppendEvents keeps in the transaction that stores the events.
func (t *Timeline) DayCounts(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]store.DayCount, error) {
	first, end := store.WholeDays(since, until)
	rows, err := t.d.db.QueryContext(ctx, `SELECT day, kind, events, scored, sentiment_sum, bought, sold FROM timeline_days
	WHERE client_id = ? AND day >= ? AND day < ? AND events > 0 ORDER BY day, kind`, clientID.String(), first, end)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.DayCount
	for rows.Next() {
		var (
			c    store.DayCount
			day  int64
			kind string
		)
		if err := rows.Scan(&day, &kind, &c.Events, &c.Scored, &c.SentimentSum, &c.Bought, &c.Sold); err != nil {
			return nil, mapErr(err)
		}
		c.Day, c.Kind = store.DayFromNumber(day), store.Kind(kind)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
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
