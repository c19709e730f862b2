package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

var _ store.MilestoneStore = (*DB)(nil)

// DeskMilestones implements store.MilestoneStore.
func (db *DB) DeskMilestones(ctx context.Context, desk string) (*store.DeskMilestones, error) {
	d := &store.DeskMilestones{Desk: desk}
	var mins int
	err := db.pool.QueryRow(ctx, `SELECT enabled, lead_min, position_lead, large_trade, kyc_refresh, goal_threshold, zone, updated_by, updated_at
FROM desk_milestones WHERE desk = $1`, desk).Scan(&d.Enabled, &mins, &d.PositionLead, &d.LargeTrade, &d.KYCRefresh, &d.GoalThreshold, &d.Zone, &d.UpdatedBy, &d.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DefaultDeskMilestones(desk), nil
	}
	if err != nil {
		return nil, mapError("read desk milestones", err)
	}
	d.Lead = time.Duration(mins) * time.Minute
	return d, nil
}

// SetDeskMilestones implements store.MilestoneStore.
func (db *DB) SetDeskMilestones(ctx context.Context, d *store.DeskMilestones) error {
	if err := d.Validate(); err != nil {
		return err
	}
	d.UpdatedAt = db.now()
	_, err := db.pool.Exec(ctx, `INSERT INTO desk_milestones (desk, enabled, lead_min, position_lead, large_trade, kyc_refresh, goal_threshold, zone, updated_by, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (desk) DO UPDATE SET enabled = EXCLUDED.enabled, lead_min = EXCLUDED.lead_min, position_lead = EXCLUDED.position_lead,
    large_trade = EXCLUDED.large_trade, kyc_refresh = EXCLUDED.kyc_refresh, goal_threshold = EXCLUDED.goal_threshold,
    zone = EXCLUDED.zone, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
		d.Desk, d.Enabled, int(d.Lead/time.Minute), d.PositionLead, d.LargeTrade, d.KYCRefresh, d.GoalThreshold, d.Zone, d.UpdatedBy, pgTime(d.UpdatedAt))
	return mapError("store desk milestones", err)
}

// OpenPositions implements store.MilestoneStore.
func (db *DB) OpenPositions(ctx context.Context) ([]store.Position, error) {
	rows, err := db.pool.Query(ctx, `SELECT client_id, commodity, contract,
       sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END), min(at)
FROM client_fills WHERE contract <> ''
GROUP BY client_id, commodity, contract
HAVING abs(sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END)) > 1e-9
ORDER BY client_id, contract`)
	if err != nil {
		return nil, mapError("read open positions", err)
	}
	defer rows.Close()
	var out []store.Position
	for rows.Next() {
		var p store.Position
		if err := rows.Scan(&p.ClientID, &p.Commodity, &p.Contract, &p.Net, &p.Since); err != nil {
			return nil, mapError("read open positions", err)
		}
		out = append(out, p)
	}
	return out, mapError("read open positions", rows.Err())
}

// LargeFills implements store.MilestoneStore.
func (db *DB) LargeFills(ctx context.Context, min float64) ([]store.Fill, error) {
	rows, err := db.pool.Query(ctx, `SELECT event_id, client_id, at, commodity, contract, side, quantity, price
FROM client_fills WHERE notional > 0 AND notional >= $1 AND currency = $2 ORDER BY at, event_id`, min, store.NotionalCurrency)
	if err != nil {
		return nil, mapError("read large fills", err)
	}
	defer rows.Close()
	var out []store.Fill
	for rows.Next() {
		var f store.Fill
		var ev, client uuid.UUID
		if err := rows.Scan(&ev, &client, &f.At, &f.Commodity, &f.Contract, &f.Side, &f.Quantity, &f.Price); err != nil {
			return nil, mapError("read large fills", err)
		}
		f.EventID, f.ClientID = ev, client
		out = append(out, f)
	}
	return out, mapError("read large fills", rows.Err())
}
