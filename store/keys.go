package store

import "context"

// KeyStore keeps the server's own keys, such as the key that signs links to
// the web pages, so that every replica and every restart uses the same one.
type KeyStore interface {
	// Key returns the key stored under name. When there is none yet it
	// stores fresh and returns it; when several callers race, every one of
	// them gets the key that was stored first.
	Key(ctx context.Context, name string, fresh []byte) ([]byte, error)
}
