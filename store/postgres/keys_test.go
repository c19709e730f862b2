package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

// The key suite isolates itself by random key names, so its subtests share
// one database.
func TestKeyStore(t *testing.T) {
	db := openStore(t)
	storetest.RunKeyStoreTests(t, func(*testing.T) store.KeyStore { return db })
}
