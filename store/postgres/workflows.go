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

// BeginWorkflowFiring implements store.WorkflowStore.
func (db *DB) BeginWorkflowFiring(ctx context.Context, f *store.WorkflowFiring) (*store.WorkflowFiring, bool, error) {
	if err := f.Validate(); err != nil {
		return nil, false, err
	}
	var event *uuid.UUID
	if f.EventID != uuid.Nil {
		event = &f.EventID
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO workflow_firings (workflow, client_id, key, event_id, fired_at, due_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, f.Workflow, f.ClientID, f.Key, event, f.FiredAt, f.Due)
	if err != nil {
		return nil, false, mapError("record workflow firing", err)
	}
	if tag.RowsAffected() == 1 {
		out := *f
		return &out, true, nil
	}
	got, err := scanFiring(db.pool.QueryRow(ctx, `SELECT `+firingColumns+` FROM workflow_firings WHERE workflow = $1 AND client_id = $2 AND key = $3`, f.Workflow, f.ClientID, f.Key))
	if err != nil {
		return nil, false, mapError("read workflow firing", err)
	}
	return got, false, nil
}

// FinishWorkflowFiring implements store.WorkflowStore.
func (db *DB) FinishWorkflowFiring(ctx context.Context, workflow string, client uuid.UUID, key string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE workflow_firings SET done_at = coalesce(done_at, $4) WHERE workflow = $1 AND client_id = $2 AND key = $3`,
		workflow, client, key, pgTime(at))
	if err != nil {
		return mapError("finish workflow firing", err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ENOTFOUND, "no firing of %q on %s for %q", workflow, client, key)
	}
	return nil
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
