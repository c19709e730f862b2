package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.WorkflowStore = (*DB)(nil)

const workflowColumns = `name, desk, definition, enabled, cooldown_s, created_by, created_at, updated_by, updated_at`

func scanWorkflow(row pgx.Row) (*store.Workflow, error) {
	var w store.Workflow
	var cooldown int64
	if err := row.Scan(&w.Name, &w.Desk, &w.Definition, &w.Enabled, &cooldown, &w.CreatedBy, &w.CreatedAt, &w.UpdatedBy, &w.UpdatedAt); err != nil {
		return nil, err
	}
	w.Cooldown = time.Duration(cooldown) * time.Second
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return &w, nil
}

// PutWorkflow implements store.WorkflowStore.
func (db *DB) PutWorkflow(ctx context.Context, w *store.Workflow) (bool, error) {
	if err := w.Validate(); err != nil {
		return false, err
	}
	if w.UpdatedAt.IsZero() {
		w.UpdatedAt = db.now()
	}
	w.UpdatedAt = pgTime(w.UpdatedAt)
	changed := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO workflows (`+workflowColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7) ON CONFLICT (name) DO NOTHING`,
			w.Name, w.Desk, w.Definition, w.Enabled, int64(w.Cooldown/time.Second), w.UpdatedBy, w.UpdatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			w.CreatedBy, w.CreatedAt, changed = w.UpdatedBy, w.UpdatedAt, true
			return nil
		}
		old, err := scanWorkflow(tx.QueryRow(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE name = $1 FOR UPDATE`, w.Name))
		if err != nil {
			return err
		}
		if old.Desk != w.Desk {
			return store.Errorf(store.ECONFLICT, "the name %q is taken by a workflow of another desk", w.Name)
		}
		if old.Same(w) {
			*w = *old
			return nil
		}
		w.CreatedBy, w.CreatedAt, changed = old.CreatedBy, old.CreatedAt, true
		_, err = tx.Exec(ctx, `UPDATE workflows SET definition = $2, enabled = $3, cooldown_s = $4, updated_by = $5, updated_at = $6 WHERE name = $1`,
			w.Name, w.Definition, w.Enabled, int64(w.Cooldown/time.Second), w.UpdatedBy, w.UpdatedAt)
		return err
	})
	if store.ErrorCode(err) == store.ECONFLICT {
		return false, err
	}
	if err != nil {
		return false, mapError("save workflow", err)
	}
	return changed, nil
}

// Workflow implements store.WorkflowStore.
func (db *DB) Workflow(ctx context.Context, name string) (*store.Workflow, error) {
	w, err := scanWorkflow(db.pool.QueryRow(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE name = $1`, normalName(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.Errorf(store.ENOTFOUND, "no workflow %q", name)
	}
	if err != nil {
		return nil, mapError("read workflow", err)
	}
	return w, nil
}

func normalName(name string) string {
	if n, err := store.NormalizeWorkflowName(name); err == nil {
		return n
	}
	return name
}

// Workflows implements store.WorkflowStore.
func (db *DB) Workflows(ctx context.Context, desks []string) ([]*store.Workflow, error) {
	if desks != nil && len(desks) == 0 {
		return nil, nil
	}
	q, args := `SELECT `+workflowColumns+` FROM workflows ORDER BY name`, []any{}
	if desks != nil {
		q, args = `SELECT `+workflowColumns+` FROM workflows WHERE desk = ANY($1::text[]) ORDER BY name`, []any{desks}
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError("list workflows", err)
	}
	defer rows.Close()
	var out []*store.Workflow
	for rows.Next() {
		w, err := scanWorkflow(rows)
		if err != nil {
			return nil, mapError("list workflows", err)
		}
		out = append(out, w)
	}
	return out, mapError("list workflows", rows.Err())
}

// DeleteWorkflow implements store.WorkflowStore.
func (db *DB) DeleteWorkflow(ctx context.Context, name string) error {
	n := normalName(name)
	found := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM workflows WHERE name = $1`, n)
		if err != nil {
			return err
		}
		found = tag.RowsAffected() > 0
		_, err = tx.Exec(ctx, `DELETE FROM workflow_firings WHERE workflow = $1`, n)
		return err
	})
	if err != nil {
		return mapError("delete workflow", err)
	}
	if !found {
		return store.Errorf(store.ENOTFOUND, "no workflow %q", name)
	}
	return nil
}

const firingColumns = `workflow, client_id, key, event_id, fired_at, due_at, done_at`

func scanFiring(row pgx.Row) (*store.WorkflowFiring, error) {
	var f store.WorkflowFiring
	var event *uuid.UUID
	var done *time.Time
	if err := row.Scan(&f.Workflow, &f.ClientID, &f.Key, &event, &f.FiredAt, &f.Due, &done); err != nil {
		return nil, err
	}
	if event != nil {
		f.EventID = *event
	}
	if done != nil {
		f.DoneAt = done.UTC()
	}
	f.FiredAt, f.Due = f.FiredAt.UTC(), f.Due.UTC()
	return &f, nil
}

// BeginWorkflowFirings implements store.WorkflowStore.
func (db *DB) BeginWorkflowFirings(ctx context.Context, fs ...*store.WorkflowFiring) ([]*store.WorkflowFiring, []bool, error) {
	if len(fs) == 0 {
		return nil, nil, nil
	}
	n := len(fs)
	names, keys := make([]string, n), make([]string, n)
	clients, events := make([]string, n), make([]*string, n)
	fired, due := make([]time.Time, n), make([]time.Time, n)
	for i, f := range fs {
		if err := f.Validate(); err != nil {
			return nil, nil, err
		}
		names[i], clients[i], keys[i], fired[i], due[i] = f.Workflow, f.ClientID.String(), f.Key, f.FiredAt, f.Due
		if f.EventID != uuid.Nil {
			s := f.EventID.String()
			events[i] = &s
		}
	}
	id := func(workflow string, client uuid.UUID, key string) string {
		return workflow + "\x00" + client.String() + "\x00" + key
	}
	inserted := map[string]bool{}
	stored := map[string]*store.WorkflowFiring{}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO workflow_firings (workflow, client_id, key, event_id, fired_at, due_at)
			SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::timestamptz[], $6::timestamptz[])
			ON CONFLICT DO NOTHING RETURNING workflow, client_id, key`, names, clients, keys, events, fired, due)
		if err != nil {
			return err
		}
		for rows.Next() {
			var w, k string
			var c uuid.UUID
			if err := rows.Scan(&w, &c, &k); err != nil {
				rows.Close()
				return err
			}
			inserted[id(w, c, k)] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(inserted) == n {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT f.workflow, f.client_id, f.key, f.event_id, f.fired_at, f.due_at, f.done_at FROM workflow_firings f
			JOIN unnest($1::text[], $2::uuid[], $3::text[]) AS k(workflow, client_id, key)
			ON f.workflow = k.workflow AND f.client_id = k.client_id AND f.key = k.key`, names, clients, keys)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFiring(rows)
			if err != nil {
				return err
			}
			stored[id(f.Workflow, f.ClientID, f.Key)] = f
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, mapError("record workflow firings", err)
	}
	out, first := make([]*store.WorkflowFiring, n), make([]bool, n)
	for i, f := range fs {
		k := id(f.Workflow, f.ClientID, f.Key)
		if inserted[k] {
			cp := *f
			out[i], first[i] = &cp, true
			inserted[k] = false // a key given twice: the first is first
			stored[k] = &cp
			continue
		}
		out[i] = stored[k]
		if out[i] == nil {
			return nil, nil, store.Errorf(store.EUNAVAILABLE, "workflow firing %s of %s vanished while recorded", f.Key, f.Workflow)
		}
	}
	return out, first, nil
}

// FinishWorkflowFirings implements store.WorkflowStore.
func (db *DB) FinishWorkflowFirings(ctx context.Context, at time.Time, fs ...*store.WorkflowFiring) error {
	if len(fs) == 0 {
		return nil
	}
	names, clients, keys := make([]string, len(fs)), make([]string, len(fs)), make([]string, len(fs))
	for i, f := range fs {
		names[i], clients[i], keys[i] = f.Workflow, f.ClientID.String(), f.Key
	}
	_, err := db.pool.Exec(ctx, `UPDATE workflow_firings f SET done_at = $4
		FROM unnest($1::text[], $2::uuid[], $3::text[]) AS k(workflow, client_id, key)
		WHERE f.workflow = k.workflow AND f.client_id = k.client_id AND f.key = k.key AND f.done_at IS NULL`,
		names, clients, keys, pgTime(at))
	return mapError("finish workflow firings", err)
}

// LastWorkflowFiring implements store.WorkflowStore.
func (db *DB) LastWorkflowFiring(ctx context.Context, workflow string, client uuid.UUID) (time.Time, error) {
	var at *time.Time
	err := db.pool.QueryRow(ctx, `SELECT max(fired_at) FROM workflow_firings WHERE workflow = $1 AND client_id = $2`, workflow, client).Scan(&at)
	if err != nil {
		return time.Time{}, mapError("read workflow firings", err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return at.UTC(), nil
}

// DueWorkflowFirings implements store.WorkflowStore.
func (db *DB) DueWorkflowFirings(ctx context.Context, now time.Time, limit int) ([]*store.WorkflowFiring, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+firingColumns+` FROM workflow_firings WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at, workflow, client_id, key LIMIT $2`, pgTime(now), limit)
	if err != nil {
		return nil, mapError("list due workflow firings", err)
	}
	defer rows.Close()
	var out []*store.WorkflowFiring
	for rows.Next() {
		f, err := scanFiring(rows)
		if err != nil {
			return nil, mapError("list due workflow firings", err)
		}
		out = append(out, f)
	}
	return out, mapError("list due workflow firings", rows.Err())
}
