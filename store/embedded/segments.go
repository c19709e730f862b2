package embedded

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

var (
	_ segment.Matcher   = (*DB)(nil)
	_ segment.Store     = (*DB)(nil)
	_ segment.IDMatcher = (*DB)(nil)
)

// where builds the condition of a segment query: the viewer's desks, then
// the filter, every value a numbered parameter.
func (d *DB) segmentWhere(q segment.Query) (string, []any, bool, error) {
	var parts []string
	var args []any
	if q.Teams != nil {
		if len(q.Teams) == 0 {
			return "", nil, false, nil
		}
		ps := make([]string, len(q.Teams))
		for i, t := range q.Teams {
			args = append(args, t)
			ps[i] = "?" + strconv.Itoa(len(args))
		}
		parts = append(parts, "c.team IN ("+strings.Join(ps, ", ")+")")
	}
	if q.Clients != nil {
		if len(q.Clients) == 0 {
			return "", nil, false, nil
		}
		list, ids := idList(q.Clients, len(args)+1)
		args = append(args, ids...)
		parts = append(parts, "c.id IN ("+list+")")
	}
	f, err := segment.Compile(q.Filter, segment.SQLite, q.Now, len(args)+1)
	if err != nil {
		return "", nil, false, store.Invalid("filter", "%s", err.Error())
	}
	parts = append(parts, "("+f.Where+")")
	args = append(args, f.Args...)
	return strings.Join(parts, " AND "), args, true, nil
}

// MatchClients implements segment.Matcher.
func (d *DB) MatchClients(ctx context.Context, q segment.Query) ([]*store.Client, error) {
	where, args, ok, err := d.segmentWhere(q)
	if err != nil || !ok {
		return nil, err
	}
	args = append(args, q.After, segment.PageLimit(q.Limit))
	n := len(args)
	query := `SELECT c.profile FROM ` + segment.From + ` WHERE ` + where + ` AND c.handle > ?` + strconv.Itoa(n-1) +
		` ORDER BY c.handle LIMIT ?` + strconv.Itoa(n)
	return d.profiles(ctx, query, args...)
}

// MatchClientIDs implements segment.IDMatcher.
func (d *DB) MatchClientIDs(ctx context.Context, q segment.Query) ([]uuid.UUID, error) {
	where, args, ok, err := d.segmentWhere(q)
	if err != nil || !ok {
		return nil, err
	}
	return clientIDs(ctx, d.db, `SELECT c.id FROM `+segment.From+` WHERE `+where, args...)
}

// CountClients implements segment.Matcher.
func (d *DB) CountClients(ctx context.Context, q segment.Query) (int, error) {
	where, args, ok, err := d.segmentWhere(q)
	if err != nil || !ok {
		return 0, err
	}
	var n int
	err = d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+segment.From+` WHERE `+where, args...).Scan(&n)
	return n, mapErr(err)
}

// SaveSegment implements segment.Store.
func (d *DB) SaveSegment(ctx context.Context, s segment.Saved) (segment.Saved, error) {
	if err := s.Validate(d.cat); err != nil {
		return s, err
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = time.Now()
	}
	s.UpdatedAt = s.UpdatedAt.UTC().Truncate(time.Microsecond)
	var createdBy string
	var createdAt int64
	err := d.db.QueryRowContext(ctx, `INSERT INTO segments (name, filter, created_by, created_at, updated_by, updated_at)
		VALUES (?1, ?2, ?3, ?4, ?3, ?4)
		ON CONFLICT (name) DO UPDATE SET filter = excluded.filter, updated_by = excluded.updated_by, updated_at = excluded.updated_at
		RETURNING created_by, created_at`,
		s.Name, s.Filter, s.UpdatedBy, s.UpdatedAt.UnixMicro()).Scan(&createdBy, &createdAt)
	if err != nil {
		return s, mapErr(err)
	}
	s.CreatedBy, s.CreatedAt = createdBy, timeFromMicro(createdAt)
	return s, nil
}

const selectSegment = `SELECT name, filter, created_by, created_at, updated_by, updated_at FROM segments `

func scanSegment(row interface{ Scan(...any) error }) (segment.Saved, error) {
	var s segment.Saved
	var created, updated int64
	if err := row.Scan(&s.Name, &s.Filter, &s.CreatedBy, &created, &s.UpdatedBy, &updated); err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt = timeFromMicro(created), timeFromMicro(updated)
	return s, nil
}

// Segment implements segment.Store.
func (d *DB) Segment(ctx context.Context, name string) (segment.Saved, error) {
	s, err := scanSegment(d.db.QueryRowContext(ctx, selectSegment+`WHERE name = ?`, strings.ToLower(strings.TrimSpace(name))))
	if err == sql.ErrNoRows {
		return s, store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
	}
	return s, mapErr(err)
}

// Segments implements segment.Store.
func (d *DB) Segments(ctx context.Context) ([]segment.Saved, error) {
	rows, err := d.db.QueryContext(ctx, selectSegment+`ORDER BY name`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []segment.Saved
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

// DeleteSegment implements segment.Store.
func (d *DB) DeleteSegment(ctx context.Context, name string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM segments WHERE name = ?`, strings.ToLower(strings.TrimSpace(name)))
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return mapErr(err)
		}
		return store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
	}
	return nil
}
