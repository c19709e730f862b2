package embedded

import (
	"context"

	"github.com/brokersync/brokersync/store"
)

var _ store.KeyStore = (*DB)(nil)

// Key implements store.KeyStore: insert if absent, then read what is there.
func (d *DB) Key(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	if name == "" || len(fresh) == 0 {
		return nil, store.Invalid("key", "a key needs a name and a value")
	}
	if _, err := d.db.ExecContext(ctx,
		`INSERT INTO server_keys (name, key, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, fresh, d.now().UTC().UnixMicro()); err != nil {
		return nil, mapErr(err)
	}
	var key []byte
	if err := d.db.QueryRowContext(ctx, `SELECT key FROM server_keys WHERE name = ?`, name).Scan(&key); err != nil {
		return nil, mapErr(err)
	}
	return key, nil
}
