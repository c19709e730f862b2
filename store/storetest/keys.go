package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunKeyStoreTests runs the server key contract against one backend. Subtests
// use their own random key names, so they may share one store.
func RunKeyStoreTests(t *testing.T, newStore func(t *testing.T) store.KeyStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.KeyStore)
	}{
		{"FirstKeyStays", testKeyFirstStays},
		{"ConcurrentCallersShareOneKey", testKeyConcurrent},
		{"NamesAreApart", testKeyNames},
		{"RejectsEmpty", testKeyInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func testKeyFirstStays(t *testing.T, s store.KeyStore) {
	ctx, name := context.Background(), "storetest-"+uuid.NewString()
	first := randomKey(t)
	got, err := s.Key(ctx, name, first)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first Key = %x, %v; want the fresh key %x", got, err, first)
	}
	got, err = s.Key(ctx, name, randomKey(t))
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("second Key = %x, %v; want the stored key %x, not the new one", got, err, first)
	}
}

func testKeyConcurrent(t *testing.T, s store.KeyStore) {
	ctx, name := context.Background(), "storetest-"+uuid.NewString()
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = s.Key(ctx, name, randomKey(t))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("callers got different keys: %x and %x", keys[0], keys[i])
		}
	}
}

func testKeyNames(t *testing.T, s store.KeyStore) {
	ctx := context.Background()
	a, b := randomKey(t), randomKey(t)
	gotA, errA := s.Key(ctx, "storetest-"+uuid.NewString(), a)
	gotB, errB := s.Key(ctx, "storetest-"+uuid.NewString(), b)
	if errA != nil || errB != nil || !bytes.Equal(gotA, a) || !bytes.Equal(gotB, b) {
		t.Fatalf("two names: %x %v, %x %v; want each its own key", gotA, errA, gotB, errB)
	}
}

func testKeyInvalid(t *testing.T, s store.KeyStore) {
	ctx := context.Background()
	if _, err := s.Key(ctx, "", randomKey(t)); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("no name: %v, want EINVALID", err)
	}
	if _, err := s.Key(ctx, "storetest-"+uuid.NewString(), nil); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("no key: %v, want EINVALID", err)
	}
}
