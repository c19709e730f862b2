package postgres

import (
	"context"

	"github.com/brokersync/brokersync/store"
)

var _ store.KeyStore = (*DB)(nil)

// Key implements store.KeyStore: insert if absent, then read what is there,
// so replicas starting together all end up with the first key stored.
func (db *DB) Key(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	if name == "" || len(fresh) == 0 {
		return nil, store.Invalid("key", "a key needs a name and a value")
	}
	if _, err := db.pool.Exec(ctx,
		`INSERT INTO server_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, mapError("store server key", err)
	}
	var key []byte
	if err := db.pool.QueryRow(ctx, `SELECT key FROM server_keys WHERE name = $1`, name).Scan(&key); err != nil {
		return nil, mapError("read server key", err)
	}
	return key, nil
}
