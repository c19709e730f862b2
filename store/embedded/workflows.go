package embedded

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.WorkflowStore = (*DB)(nil)

const workflowColumns = `name, desk, definition, enabled, cooldown_s, created_by, created_at, updated_by, updated_at`

func scanWorkflow(row interface{ Scan(...any) error }) (*store.Workflow, error) {
	var w store.Workflow
	var cooldown, created, updated int64
	if err := row.Scan(&w.Name, &w.Desk, &w.Definition, &w.Enabled, &cooldown, &w.CreatedBy, &created, &w.UpdatedBy, &updated); err != nil {
		return nil, err
	}
	w.Cooldown = time.Duration(cooldown) * time.Second
	w.CreatedAt, w.UpdatedAt = timeFromMicro(created), timeFromMicro(updated)
	return &w, nil
}

func workflowName(name string) string {
	if n, err := store.NormalizeWorkflowName(name); err == nil {
		return n
	}
	return name
}

// PutWorkflow implements store.WorkflowStore.
func (d *DB) PutWorkflow(ctx context.Context, w *store.Workflow) (bool, error) {
	if err := w.Validate(); err != nil {
		return false, err
	}
	if w.UpdatedAt.IsZero() {
		w.UpdatedAt = d.now()
	}
	w.UpdatedAt = w.UpdatedAt.UTC().Truncate(time.Microsecond)
	changed := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanWorkflow(tx.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE name = ?`, w.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			w.CreatedBy, w.CreatedAt, changed = w.UpdatedBy, w.UpdatedAt, true
			_, err = tx.ExecContext(ctx, `INSERT INTO workflows (`+workflowColumns+`) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?7)`,
				w.Name, w.Desk, w.Definition, w.Enabled, int64(w.Cooldown/time.Second), w.UpdatedBy, w.UpdatedAt.UnixMicro())
			return mapErr(err)
		case err != nil:
			return mapErr(err)
		case old.Desk != w.Desk:
			return store.Errorf(store.ECONFLICT, "the name %q is taken by a workflow of another desk", w.Name)
		case old.Same(w):
			*w = *old
			return nil
		}
		w.CreatedBy, w.CreatedAt, changed = old.CreatedBy, old.CreatedAt, true
		_, err = tx.ExecContext(ctx, `UPDATE workflows SET definition = ?2, enabled = ?3, cooldown_s = ?4, updated_by = ?5, updated_at = ?6 WHERE name = ?1`,
			w.Name, w.Definition, w.Enabled, int64(w.Cooldown/time.Second), w.UpdatedBy, w.UpdatedAt.UnixMicro())
		return mapErr(err)
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// Workflow implements store.WorkflowStore.
func (d *DB) Workflow(ctx context.Context, name string) (*store.Workflow, error) {
	w, err := scanWorkflow(d.db.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE name = ?`, workflowName(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.Errorf(store.ENOTFOUND, "no workflow %q", name)
	}
	return w, mapErr(err)
}

// Workflows implements store.WorkflowStore.
func (d *DB) Workflows(ctx context.Context, desks []string) ([]*store.Workflow, error) {
	if desks != nil && len(desks) == 0 {
		return nil, nil
	}
	want := map[string]bool{}
	for _, desk := range desks {
		want[desk] = true
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+workflowColumns+` FROM workflows ORDER BY name`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.Workflow
	for rows.Next() {
		w, err := scanWorkflow(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		if desks == nil || want[w.Desk] {
			out = append(out, w)
		}
	}
	return out, mapErr(rows.Err())
}

// DeleteWorkflow implements store.WorkflowStore.
func (d *DB) DeleteWorkflow(ctx context.Context, name string) error {
	n := workflowName(name)
	return d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM workflows WHERE name = ?`, n)
		if err != nil {
			return mapErr(err)
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			if err != nil {
				return mapErr(err)
			}
			return store.Errorf(store.ENOTFOUND, "no workflow %q", name)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM workflow_firings WHERE workflow = ?`, n)
		return mapErr(err)
	})
}

const firingColumns = `workflow, client_id, key, event_id, fired_at, due_at, done_at`

func scanFiring(row interface{ Scan(...any) error }) (*store.WorkflowFiring, error) {
	var f store.WorkflowFiring
	var client, event string
	var fired, due, done int64
	if err := row.Scan(&f.Workflow, &client, &f.Key, &event, &fired, &due, &done); err != nil {
		return nil, err
	}
	f.ClientID, _ = uuid.Parse(client)
	if event != "" {
		f.EventID, _ = uuid.Parse(event)
	}
	f.FiredAt, f.Due = timeFromMicro(fired), timeFromMicro(due)
	if done != 0 {
		f.DoneAt = timeFromMicro(done)
	}
	return &f, nil
}

// BeginWorkflowFirings implements store.WorkflowStore.
func (d *DB) BeginWorkflowFirings(ctx context.Context, fs ...*store.WorkflowFiring) ([]*store.WorkflowFiring, []bool, error) {
	if len(fs) == 0 {
		return nil, nil, nil
	}
	for _, f := range fs {
		if err := f.Validate(); err != nil {
			return nil, nil, err
		}
	}
	out, first := make([]*store.WorkflowFiring, len(fs)), make([]bool, len(fs))
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		for i, f := range fs {
			event := ""
			if f.EventID != uuid.Nil {
				event = f.EventID.String()
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO workflow_firings (`+firingColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`,
				f.Workflow, f.ClientID.String(), f.Key, event, f.FiredAt.UnixMicro(), f.Due.UnixMicro())
			if err != nil {
				return mapErr(err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return mapErr(err)
			} else if n == 1 {
				cp := *f
				out[i], first[i] = &cp, true
				continue
			}
			got, err := scanFiring(tx.QueryRowContext(ctx, `SELECT `+firingColumns+` FROM workflow_firings WHERE workflow = ? AND client_id = ? AND key = ?`,
				f.Workflow, f.ClientID.String(), f.Key))
			if err != nil {
				return mapErr(err)
			}
			out[i] = got
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, first, nil
}

// FinishWorkflowFirings implements store.WorkflowStore.
func (d *DB) FinishWorkflowFirings(ctx context.Context, at time.Time, fs ...*store.WorkflowFiring) error {
	if len(fs) == 0 {
		return nil
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		for _, f := range fs {
			if _, err := tx.ExecContext(ctx, `UPDATE workflow_firings SET done_at = ? WHERE workflow = ? AND client_id = ? AND key = ? AND done_at = 0`,
				at.UTC().Truncate(time.Microsecond).UnixMicro(), f.Workflow, f.ClientID.String(), f.Key); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// LastWorkflowFiring implements store.WorkflowStore.
func (d *DB) LastWorkflowFiring(ctx context.Context, workflow string, client uuid.UUID) (time.Time, error) {
	var at sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT max(fired_at) FROM workflow_firings WHERE workflow = ? AND client_id = ?`, workflow, client.String()).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, mapErr(err)
	}
	return timeFromMicro(at.Int64), nil
}

// DueWorkflowFirings implements store.WorkflowStore.
func (d *DB) DueWorkflowFirings(ctx context.Context, now time.Time, limit int) ([]*store.WorkflowFiring, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+firingColumns+` FROM workflow_firings WHERE done_at = 0 AND due_at <= ? ORDER BY due_at, workflow, client_id, key LIMIT ?`,
		now.UTC().Truncate(time.Microsecond).UnixMicro(), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.WorkflowFiring
	for rows.Next() {
		f, err := scanFiring(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}
