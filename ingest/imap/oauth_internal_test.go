package imap

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// A token is reused until the last fifth of its life, at most five
// minutes before it expires, then replaced; an invalidated one is
// replaced at once; a changed secret file is noticed.
func TestTokenCacheRefreshesBeforeExpiry(t *testing.T) {
	var fetched atomic.Int32
	lifetime := 3600
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": "Bearer", "expires_in": lifetime})
	}))
	defer srv.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("s"), 0o600)
	o := &OAuth{Provider: ProviderM365, Tenant: "t", ClientID: "c", SecretFile: secret, TokenURL: srv.URL}
	tk := newTokens(o, nil)
	clock := time.Now()
	tk.now = func() time.Time { return clock }
	get := func(wantFresh bool, when string) {
		t.Helper()
		_, fresh, err := tk.token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if fresh != wantFresh {
			t.Errorf("%s: fresh = %v, want %v", when, fresh, wantFresh)
		}
	}
	get(true, "first")
	clock = clock.Add(54 * time.Minute)
	get(false, "54 min into a 60 min token")
	clock = clock.Add(2 * time.Minute)
	get(true, "56 min into a 60 min token")
	// A 100 s token is replaced in its last 20 s.
	lifetime = 100
	tk.invalidate(nil)
	get(true, "after invalidate")
	clock = clock.Add(79 * time.Second)
	get(false, "79 s into a 100 s token")
	clock = clock.Add(2 * time.Second)
	get(true, "81 s into a 100 s token")
	if got := fetched.Load(); got != 4 {
		t.Errorf("%d token requests, want 4", got)
	}
	if tk.credentialsChanged() {
		t.Error("credentials changed with no change")
	}
	os.WriteFile(secret, []byte("rotated"), 0o600)
	if !tk.credentialsChanged() {
		t.Error("a rotated secret file was not noticed")
	}
}
