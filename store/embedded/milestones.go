package embedded

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.MilestoneStore = (*DB)(nil)

// DeskMilestones implements store.MilestoneStore.
func (d *DB) DeskMilestones(ctx context.Context, desk string) (*store.DeskMilestones, error) {
	m := &store.DeskMilestones{Desk: desk}
	var mins int
	var updated int64
	err := d.db.QueryRowContext(ctx, `SELECT enabled, lead_min, position_lead, large_trade, kyc_refresh, goal_threshold, zone, updated_by, updated_at
FROM desk_milestones WHERE desk = ?`, desk).Scan(&m.Enabled, &mins, &m.PositionLead, &m.LargeTrade, &m.KYCRefresh, &m.GoalThreshold, &m.Zone, &m.UpdatedBy, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultDeskMilestones(desk), nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	m.Lead, m.UpdatedAt = time.Duration(mins)*time.Minute, timeFromMicro(updated)
	return m, nil
}

// SetDeskMilestones implements store.MilestoneStore.
func (d *DB) SetDeskMilestones(ctx context.Context, m *store.DeskMilestones) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.UpdatedAt = d.now()
	_, err := d.db.ExecContext(ctx, `INSERT INTO desk_milestones (desk, enabled, lead_min, position_lead, large_trade, kyc_refresh, goal_threshold, zone, updated_by, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (desk) DO UPDATE SET enabled = excluded.enabled, lead_min = excluded.lead_min, position_lead = excluded.position_lead,
    large_trade = excluded.large_trade, kyc_refresh = excluded.kyc_refresh, goal_threshold = excluded.goal_threshold,
    zone = excluded.zone, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		m.Desk, m.Enabled, int(m.Lead/time.Minute), m.PositionLead, m.LargeTrade, m.KYCRefresh, m.GoalThreshold, m.Zone, m.UpdatedBy, micro(m.UpdatedAt))
	return mapErr(err)
}

// OpenPositions implements store.MilestoneStore.
func (d *DB) OpenPositions(ctx context.Context) ([]store.Position, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT client_id, commodity, contract,
       sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END), min(at)
FROM client_fills WHERE contract <> ''
GROUP BY client_id, commodity, contract
HAVING abs(sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END)) > 1e-9
ORDER BY client_id, contract`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Position
	for rows.Next() {
		var p store.Position
		var client string
		var since int64
		if err := rows.Scan(&client, &p.Commodity, &p.Contract, &p.Net, &since); err != nil {
			return nil, mapErr(err)
		}
		if p.ClientID, err = uuid.Parse(client); err != nil {
			return nil, mapErr(err)
		}
		p.Since = timeFromMicro(since)
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// LargeFills implements store.MilestoneStore.
func (d *DB) LargeFills(ctx context.Context, min float64) ([]store.Fill, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT event_id, client_id, at, commodity, contract, side, quantity, price
FROM client_fills WHERE notional > 0 AND notional >= ? AND currency = ? ORDER BY at, event_id`, min, store.NotionalCurrency)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Fill
	for rows.Next() {
		var f store.Fill
		var ev, client string
		var at int64
		if err := rows.Scan(&ev, &client, &at, &f.Commodity, &f.Contract, &f.Side, &f.Quantity, &f.Price); err != nil {
			return nil, mapErr(err)
		}
		if f.EventID, err = uuid.Parse(ev); err != nil {
			return nil, mapErr(err)
		}
		if f.ClientID, err = uuid.Parse(client); err != nil {
			return nil, mapErr(err)
		}
		f.At = timeFromMicro(at)
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}
