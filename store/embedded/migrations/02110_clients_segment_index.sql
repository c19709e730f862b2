-- Segment filters look at every client of the viewer's desks. The columns
-- their terms read are kept in one index, so that counting a segment reads
-- the index instead of the clients table, whose rows hold the whole
-- profile (a page each). The profile's horizon and commodities get columns
-- of their own for it, written with the profile.

-- +goose Up
ALTER TABLE clients ADD COLUMN horizon TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN commodities TEXT NOT NULL DEFAULT '[]'; -- JSON array of catalogue keys
UPDATE clients SET horizon = coalesce(json_extract(profile, '$.Risk.Horizon'), ''),
    commodities = coalesce(json_extract(profile, '$.Trading.Commodities'), '[]');
CREATE INDEX clients_segment ON clients (team, stage, risk_tolerance, broker, horizon, commodities, id);

-- +goose Down
DROP INDEX clients_segment;
ALTER TABLE clients DROP COLUMN commodities;
ALTER TABLE clients DROP COLUMN horizon;
