package embedded

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var (
	_ store.TeamStore = (*DB)(nil)
	_ store.LinkStore = (*DB)(nil)
)

// AddMember implements store.TeamStore. Adding someone again with the same
// role keeps who first added them and when.
func (d *DB) AddMember(ctx context.Context, m store.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.AddedAt.IsZero() {
		m.AddedAt = d.now()
	}
	at := m.AddedAt.UTC().UnixMicro()
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var before string
		err := tx.QueryRowContext(ctx, `SELECT role FROM team_members WHERE slack_id = ? AND desk = ?`, m.SlackID, m.Desk).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		if before == string(m.Role) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `
INSERT INTO team_members (slack_id, desk, role, added_by, added_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (slack_id, desk) DO UPDATE SET role = excluded.role, added_by = excluded.added_by, added_at = excluded.added_at`,
			m.SlackID, m.Desk, string(m.Role), m.AddedBy, at); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO desk_changes (at, actor, slack_id, desk, old_role, new_role) VALUES (?, ?, ?, ?, ?, ?)`,
			at, m.AddedBy, m.SlackID, m.Desk, before, string(m.Role))
		return mapErr(err)
	})
}

// RemoveMember implements store.TeamStore.
func (d *DB) RemoveMember(ctx context.Context, slackID, actor string) error {
	at := d.now().UTC().UnixMicro()
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO desk_changes (at, actor, slack_id, desk, old_role)
			SELECT ?, ?, slack_id, desk, role FROM team_members WHERE slack_id = ?`, at, actor, slackID); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE slack_id = ?`, slackID)
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return store.Errorf(store.ENOTFOUND, "%s is on no desk", slackID)
		}
		return nil
	})
}

// DeskHistory implements store.TeamStore.
func (d *DB) DeskHistory(ctx context.Context, desk string, limit int) ([]store.DeskChange, error) {
	if limit <= 0 {
		limit = store.DefaultHistoryLimit
	}
	const cols = `SELECT at, actor, slack_id, desk, old_role, new_role FROM desk_changes `
	q, args := cols+`ORDER BY at DESC, id DESC LIMIT ?`, []any{limit}
	if desk != "" {
		q, args = cols+`WHERE desk = ? ORDER BY at DESC, id DESC LIMIT ?`, []any{desk, limit}
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.DeskChange
	for rows.Next() {
		var c store.DeskChange
		var at int64
		var oldRole, newRole string
		if err := rows.Scan(&at, &c.Actor, &c.SlackID, &c.Desk, &oldRole, &newRole); err != nil {
			return nil, mapErr(err)
		}
		c.At, c.OldRole, c.NewRole = timeFromMicro(at), store.Role(oldRole), store.Role(newRole)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// Members implements store.TeamStore.
func (d *DB) Members(ctx context.Context, desk string) ([]store.Member, error) {
	q := `SELECT slack_id, desk, role, added_by, added_at FROM team_members ORDER BY desk, slack_id`
	var args []any
	if desk != "" {
		q = `SELECT slack_id, desk, role, added_by, added_at FROM team_members WHERE desk = ? ORDER BY slack_id`
		args = append(args, desk)
	}
	return d.members(ctx, q, args...)
}

// Memberships implements store.TeamStore.
func (d *DB) Memberships(ctx context.Context, slackID string) ([]store.Member, error) {
	return d.members(ctx, `SELECT slack_id, desk, role, added_by, added_at FROM team_members WHERE slack_id = ? ORDER BY desk`, slackID)
}

func (d *DB) members(ctx context.Context, q string, args ...any) ([]store.Member, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var role string
		var at int64
		if err := rows.Scan(&m.SlackID, &m.Desk, &role, &m.AddedBy, &at); err != nil {
			return nil, mapErr(err)
		}
		m.Role, m.AddedAt = store.Role(role), timeFromMicro(at)
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

// LinkChannel implements store.LinkStore.
func (d *DB) LinkChannel(ctx context.Context, channelID string, clientID uuid.UUID, actor string) error {
	if channelID == "" {
		return store.Invalid("channel", "a link needs a channel")
	}
	_, err := d.db.ExecContext(ctx, `
INSERT INTO channel_links (channel_id, client_id, linked_by, linked_at) VALUES (?, ?, ?, ?)
ON CONFLICT (channel_id) DO UPDATE SET client_id = excluded.client_id, linked_by = excluded.linked_by, linked_at = excluded.linked_at`,
		channelID, clientID.String(), actor, d.now().UTC().UnixMicro())
	if store.ErrorCode(mapErr(err)) == store.ECONFLICT { // the foreign key: no such client
		return store.Errorf(store.ENOTFOUND, "no client with id %s", clientID)
	}
	return mapErr(err)
}

// ChannelClient implements store.LinkStore.
func (d *DB) ChannelClient(ctx context.Context, channelID string) (uuid.UUID, error) {
	var id string
	err := d.db.QueryRowContext(ctx, `SELECT client_id FROM channel_links WHERE channel_id = ?`, channelID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, store.Errorf(store.ENOTFOUND, "channel %s is linked to no client", channelID)
	}
	if err != nil {
		return uuid.Nil, mapErr(err)
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, store.Internal("read channel link", err)
	}
	return u, nil
}

// DeskLifecycles implements store.TeamStore.
func (d *DB) DeskLifecycles(ctx context.Context) ([]store.DeskLifecycle, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT desk, dormant_after_days, updated_by, updated_at FROM desk_lifecycle ORDER BY desk`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.DeskLifecycle
	for rows.Next() {
		var l store.DeskLifecycle
		var at int64
		if err := rows.Scan(&l.Desk, &l.DormantAfterDays, &l.UpdatedBy, &at); err != nil {
			return nil, mapErr(err)
		}
		l.UpdatedAt = timeFromMicro(at)
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// SetDeskLifecycle implements store.TeamStore.
func (d *DB) SetDeskLifecycle(ctx context.Context, l store.DeskLifecycle) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if l.DormantAfterDays == 0 {
		_, err := d.db.ExecContext(ctx, `DELETE FROM desk_lifecycle WHERE desk = ?`, l.Desk)
		return mapErr(err)
	}
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = d.now()
	}
	_, err := d.db.ExecContext(ctx, `
INSERT INTO desk_lifecycle (desk, dormant_after_days, updated_by, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (desk) DO UPDATE SET dormant_after_days = excluded.dormant_after_days,
	updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		l.Desk, l.DormantAfterDays, l.UpdatedBy, micro(l.UpdatedAt))
	return mapErr(err)
}
