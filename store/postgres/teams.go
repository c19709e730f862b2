package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokersync/brokersync/store"
)

var (
	_ store.TeamStore = (*DB)(nil)
	_ store.LinkStore = (*DB)(nil)
)

// AddMember implements store.TeamStore. Adding someone again with the same
// role keeps who first added them and when.
func (db *DB) AddMember(ctx context.Context, m store.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.AddedAt.IsZero() {
		m.AddedAt = db.clock()
	}
	// One statement: the change is recorded only when the row changed, with
	// the role it had before.
	_, err := db.pool.Exec(ctx, `
WITH before AS (
	SELECT role FROM team_members WHERE slack_id = $1 AND desk = $2
), changed AS (
	INSERT INTO team_members (slack_id, desk, role, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (slack_id, desk) DO UPDATE SET role = excluded.role, added_by = excluded.added_by, added_at = excluded.added_at
	WHERE team_members.role <> excluded.role
	RETURNING 1
)
INSERT INTO desk_changes (at, actor, slack_id, desk, old_role, new_role)
SELECT $5, $4, $1, $2, coalesce((SELECT role FROM before), ''), $3 FROM changed`,
		m.SlackID, m.Desk, string(m.Role), m.AddedBy, m.AddedAt.UTC())
	return mapError("add team member", err)
}

// RemoveMember implements store.TeamStore.
func (db *DB) RemoveMember(ctx context.Context, slackID, actor string) error {
	tag, err := db.pool.Exec(ctx, `
WITH gone AS (DELETE FROM team_members WHERE slack_id = $1 RETURNING desk, role)
INSERT INTO desk_changes (at, actor, slack_id, desk, old_role)
SELECT $3, $2, $1, desk, role FROM gone`,
		slackID, actor, db.clock())
	if err != nil {
		return mapError("remove team member", err)
	}
	if tag.RowsAffected() == 0 {
		return store.Errorf(store.ENOTFOUND, "%s is on no desk", slackID)
	}
	return nil
}

// DeskHistory implements store.TeamStore.
func (db *DB) DeskHistory(ctx context.Context, desk string, limit int) ([]store.DeskChange, error) {
	if limit <= 0 {
		limit = store.DefaultHistoryLimit
	}
	const cols = `SELECT at, actor, slack_id, desk, old_role, new_role FROM desk_changes `
	q, args := cols+`ORDER BY at DESC, id DESC LIMIT $1`, []any{limit}
	if desk != "" {
		q, args = cols+`WHERE desk = $2 ORDER BY at DESC, id DESC LIMIT $1`, append(args, desk)
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError("read desk history", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DeskChange, error) {
		var c store.DeskChange
		var oldRole, newRole string
		err := row.Scan(&c.At, &c.Actor, &c.SlackID, &c.Desk, &oldRole, &newRole)
		c.At, c.OldRole, c.NewRole = c.At.UTC(), store.Role(oldRole), store.Role(newRole)
		return c, err
	})
	return out, mapError("read desk history", err)
}

// Members implements store.TeamStore.
func (db *DB) Members(ctx context.Context, desk string) ([]store.Member, error) {
	if desk == "" {
		return db.members(ctx, `SELECT slack_id, desk, role, added_by, added_at FROM team_members ORDER BY desk, slack_id`)
	}
	return db.members(ctx, `SELECT slack_id, desk, role, added_by, added_at FROM team_members WHERE desk = $1 ORDER BY slack_id`, desk)
}

// Memberships implements store.TeamStore.
func (db *DB) Memberships(ctx context.Context, slackID string) ([]store.Member, error) {
	return db.members(ctx, `SELECT slack_id, desk, role, added_by, added_at FROM team_members WHERE slack_id = $1 ORDER BY desk`, slackID)
}

func (db *DB) members(ctx context.Context, q string, args ...any) ([]store.Member, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError("list team members", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Member, error) {
		var m store.Member
		var role string
		err := row.Scan(&m.SlackID, &m.Desk, &role, &m.AddedBy, &m.AddedAt)
		m.Role, m.AddedAt = store.Role(role), m.AddedAt.UTC()
		return m, err
	})
	return out, mapError("list team members", err)
}

// LinkChannel implements store.LinkStore. ENOTFOUND for an unknown client.
func (db *DB) LinkChannel(ctx context.Context, channelID string, clientID uuid.UUID, actor string) error {
	if channelID == "" {
		return store.Invalid("channel", "a link needs a channel")
	}
	_, err := db.pool.Exec(ctx, `
INSERT INTO channel_links (channel_id, client_id, linked_by, linked_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (channel_id) DO UPDATE SET client_id = excluded.client_id, linked_by = excluded.linked_by, linked_at = excluded.linked_at`,
		channelID, clientID, actor, db.clock())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // foreign key violation
		return store.Errorf(store.ENOTFOUND, "no client with id %s", clientID)
	}
	return mapError("link channel", err)
}

// ChannelClient implements store.LinkStore.
func (db *DB) ChannelClient(ctx context.Context, channelID string) (uuid.UUID, error) {
	var id uuid.UUID
	err := db.pool.QueryRow(ctx, `SELECT client_id FROM channel_links WHERE channel_id = $1`, channelID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, store.Errorf(store.ENOTFOUND, "channel %s is linked to no client", channelID)
	}
	return id, mapError("read channel link", err)
}

// DeskLifecycles implements store.TeamStore.
func (db *DB) DeskLifecycles(ctx context.Context) ([]store.DeskLifecycle, error) {
	rows, err := db.pool.Query(ctx, `SELECT desk, dormant_after_days, updated_by, updated_at FROM desk_lifecycle ORDER BY desk`)
	if err != nil {
		return nil, mapError("read desk lifecycle settings", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DeskLifecycle, error) {
		var d store.DeskLifecycle
		err := row.Scan(&d.Desk, &d.DormantAfterDays, &d.UpdatedBy, &d.UpdatedAt)
		d.UpdatedAt = d.UpdatedAt.UTC()
		return d, err
	})
	return out, mapError("read desk lifecycle settings", err)
}

// SetDeskLifecycle implements store.TeamStore.
func (db *DB) SetDeskLifecycle(ctx context.Context, d store.DeskLifecycle) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if d.DormantAfterDays == 0 {
		_, err := db.pool.Exec(ctx, `DELETE FROM desk_lifecycle WHERE desk = $1`, d.Desk)
		return mapError("store desk lifecycle settings", err)
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = db.clock()
	}
	_, err := db.pool.Exec(ctx, `
INSERT INTO desk_lifecycle (desk, dormant_after_days, updated_by, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (desk) DO UPDATE SET dormant_after_days = excluded.dormant_after_days,
	updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		d.Desk, d.DormantAfterDays, d.UpdatedBy, d.UpdatedAt.UTC())
	return mapError("store desk lifecycle settings", err)
}
