package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

var (
	_ segment.Matcher   = (*DB)(nil)
	_ segment.Store     = (*DB)(nil)
	_ segment.IDMatcher = (*DB)(nil)
)

// segmentWhere builds the condition of a segment query: the viewer's
// desks, then the filter, every value a parameter.
func segmentWhere(q segment.Query) (string, []any, bool, error) {
	var parts []string
	var args []any
	if q.Teams != nil {
		if len(q.Teams) == 0 {
			return "", nil, false, nil
		}
		args = append(args, q.Teams)
		parts = append(parts, "c.team = ANY($1::text[])")
	}
	if q.Clients != nil {
		if len(q.Clients) == 0 {
			return "", nil, false, nil
		}
		ids := make([]string, len(q.Clients))
		for i, id := range q.Clients {
			ids[i] = id.String()
		}
		args = append(args, ids)
		parts = append(parts, "c.id = ANY($"+strconv.Itoa(len(args))+"::uuid[])")
	}
	f, err := segment.Compile(q.Filter, segment.Postgres, q.Now, len(args)+1)
	if err != nil {
		return "", nil, false, store.Invalid("filter", "%s", err.Error())
	}
	parts = append(parts, "("+f.Where+")")
	args = append(args, f.Args...)
	return strings.Join(parts, " AND "), args, true, nil
}

// withPlanning says how a segment query is planned. Over the book it is
// planned for the values given every time, as FindClients is: how
// selective a tag, stage or window is decides the plan, and a generic plan
// cached for one filter text would choose once for all values. Asked
// about a few clients by id (a workflow's condition), the plan is a lookup
// by key whatever the values, and the statement is prepared once.
func withPlanning(q segment.Query, args []any) []any {
	if q.Clients != nil {
		return args
	}
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// MatchClients implements segment.Matcher. The page is picked from the
// filter's joins first, then the full rows of that page only are read.
func (db *DB) MatchClients(ctx context.Context, q segment.Query) ([]*store.Client, error) {
	where, args, ok, err := segmentWhere(q)
	if err != nil || !ok {
		return nil, err
	}
	args = append(args, q.After, segment.PageLimit(q.Limit))
	n := len(args)
	query := `SELECT c.id FROM ` + segment.From + ` WHERE ` + where + ` AND c.handle > $` + strconv.Itoa(n-1) +
		` ORDER BY c.handle LIMIT $` + strconv.Itoa(n)
	query = `SELECT ` + clientColumns + ` FROM (` + query + `) hit JOIN clients c ON c.id = hit.id ORDER BY c.handle`
	return db.many(ctx, "match clients", query, withPlanning(q, args)...)
}

// MatchClientIDs implements segment.IDMatcher.
func (db *DB) MatchClientIDs(ctx context.Context, q segment.Query) ([]uuid.UUID, error) {
	where, args, ok, err := segmentWhere(q)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT c.id FROM `+segment.From+` WHERE `+where, withPlanning(q, args)...)
	if err != nil {
		return nil, mapError("match clients", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, mapError("match clients", err)
}

// CountClients implements segment.Matcher.
func (db *DB) CountClients(ctx context.Context, q segment.Query) (int, error) {
	where, args, ok, err := segmentWhere(q)
	if err != nil || !ok {
		return 0, err
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+segment.From+` WHERE `+where, withPlanning(q, args)...).Scan(&n); err != nil {
		return 0, mapError("count clients", err)
	}
	return n, nil
}

// SaveSegment implements segment.Store.
func (db *DB) SaveSegment(ctx context.Context, s segment.Saved) (segment.Saved, error) {
	if err := s.Validate(db.cat); err != nil {
		return s, err
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = time.Now()
	}
	s.UpdatedAt = s.UpdatedAt.UTC().Truncate(time.Microsecond)
	err := db.pool.QueryRow(ctx, `INSERT INTO segments (name, filter, created_by, created_at, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $3, $4)
		ON CONFLICT (name) DO UPDATE SET filter = excluded.filter, updated_by = excluded.updated_by, updated_at = excluded.updated_at
		RETURNING created_by, created_at`,
		s.Name, s.Filter, s.UpdatedBy, s.UpdatedAt).Scan(&s.CreatedBy, &s.CreatedAt)
	if err != nil {
		return s, mapError("save segment", err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return s, nil
}

const selectSegment = `SELECT name, filter, created_by, created_at, updated_by, updated_at FROM segments `

func scanSegment(row pgx.Row) (segment.Saved, error) {
	var s segment.Saved
	err := row.Scan(&s.Name, &s.Filter, &s.CreatedBy, &s.CreatedAt, &s.UpdatedBy, &s.UpdatedAt)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, err
}

// Segment implements segment.Store.
func (db *DB) Segment(ctx context.Context, name string) (segment.Saved, error) {
	s, err := scanSegment(db.pool.QueryRow(ctx, selectSegment+`WHERE name = $1`, strings.ToLower(strings.TrimSpace(name))))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
	}
	if err != nil {
		return s, mapError("read segment", err)
	}
	return s, nil
}

// Segments implements segment.Store.
func (db *DB) Segments(ctx context.Context) ([]segment.Saved, error) {
	rows, err := db.pool.Query(ctx, selectSegment+`ORDER BY name`)
	if err != nil {
		return nil, mapError("list segments", err)
	}
	defer rows.Close()
	var out []segment.Saved
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, mapError("list segments", err)
		}
		out = append(out, s)
	}
	return out, mapError("list segments", rows.Err())
}

// DeleteSegment implements segment.Store.
func (db *DB) DeleteSegment(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM segments WHERE name = $1`, strings.ToLower(strings.TrimSpace(name)))
	if err != nil {
		return mapError("delete segment", err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ENOTFOUND, "no saved segment %q", name)
	}
	return nil
}
