package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks/web"
)

// slackOIDC plays Slack's OpenID Connect side: discovery, keys, the
// authorization endpoint (the user agrees at once) and the token endpoint,
// which signs an id_token for the user it is told to name.
type slackOIDC struct {
	t         *testing.T
	srv       *httptest.Server
	key       *rsa.PrivateKey
	signWith  *rsa.PrivateKey // the key id_tokens are signed with (key unless a test forges)
	mu        sync.Mutex
	user      string
	nonces    map[string]string // code -> nonce asked for
	aud       string            // audience put in id_tokens ("" for the client id)
	nonce     string            // nonce put in id_tokens ("" for the one asked for)
	exchanges int
}

const (
	oidcClientID     = "1234.5678"
	oidcClientSecret = "client-secret-for-tests"
)

func newSlackOIDC(t *testing.T) *slackOIDC {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &slackOIDC{t: t, key: key, signWith: key, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": o.srv.URL, "authorization_endpoint": o.srv.URL + "/openid/connect/authorize",
			"token_endpoint": o.srv.URL + "/api/openid.connect.token", "jwks_uri": o.srv.URL + "/openid/connect/keys",
			"response_types_supported": []string{"code"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /openid/connect/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &o.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /openid/connect/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != oidcClientID || q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := "code-" + q.Get("state")
		o.mu.Lock()
		o.nonces[code] = q.Get("nonce")
		o.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /api/openid.connect.token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		nonce, known := o.nonces[r.FormValue("code")]
		if id != oidcClientID || secret != oidcClientSecret || !known {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		delete(o.nonces, r.FormValue("code"))
		o.exchanges++
		if o.nonce != "" {
			nonce = o.nonce
		}
		aud := oidcClientID
		if o.aud != "" {
			aud = o.aud
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: o.signWith}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Error(err)
			return
		}
		now := time.Now()
		idt, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: o.srv.URL, Subject: o.user, Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}).
			Claims(map[string]any{"nonce": nonce, "https://slack.com/user_id": o.user, "https://slack.com/team_id": "T1"}).Serialize()
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "access_token": "xoxp-test", "token_type": "Bearer", "id_token": idt})
	})
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	return o
}

// signInPages serves the pages with "Sign in with Slack" against o.
func signInPages(t *testing.T, st backing, o *slackOIDC) *page {
	p := &page{t: t, now: time.Now()}
	pages := &web.Pages{Clients: st.clients, Timeline: st.timeline, Rights: bot.Rights{Catalogue: store.DefaultCatalogue(), Teams: st.teams},
		Now: time.Now, Logger: slog.New(slog.DiscardHandler), Segments: st.segments, Reminders: st.reminders, Teams: st.teams,
		SignIn: &web.SignIn{Issuer: o.srv.URL, ClientID: oidcClientID, ClientSecret: oidcClientSecret}}
	r := chi.NewRouter()
	pages.Mount(r)
	p.srv = httptest.NewServer(r)
	t.Cleanup(p.srv.Close)
	p.links = web.Links{BaseURL: p.srv.URL, Key: []byte("0123456789abcdef0123456789abcdef")}
	pages.Links = p.links
	p.pages = pages
	return p
}

// With "Sign in with Slack" set up, a bookmarked page opened without a
// session goes through Slack's OpenID Connect and comes back to the page:
// the id_token's https://slack.com/user_id is the session's user, whose
// rights are then checked as for a link.
func TestSignInWithSlack(t *testing.T) {
	st := onEmbedded(t)
	f := newDesk(t, st, store.RoleBroker)
	o := newSlackOIDC(t)
	p := signInPages(t, st, o)
	o.user = f.broker
	b := p.browser()
	resp, body := p.getWith(b, "/clients/"+f.client.Handle+"/profile?x=1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Acme Grain") {
		t.Fatalf("bookmarked profile: %d %s", resp.StatusCode, body)
	}
	if got := resp.Request.URL.RequestURI(); got != "/clients/"+f.client.Handle+"/profile?x=1" {
		t.Errorf("came back to %s, want the bookmarked page", got)
	}
	// The session now opens the other pages without Slack.
	before := o.exchanges
	if code := codeWith(t, p, b, "/desk"); code != http.StatusOK || o.exchanges != before {
		t.Errorf("desk with the session: %d, %d more sign-ins", code, o.exchanges-before)
	}
	// Another user from Slack gets only their rights: none here.
	o.user = "UNOBODY1"
	if code := codeWith(t, p, p.browser(), "/clients/"+f.client.Handle+"/timeline"); code != http.StatusForbidden {
		t.Errorf("a Slack user on no desk: %d, want 403", code)
	}
}

// The state must be the one this browser left with, the nonce the one it
// asked for, the id_token signed by the issuer's key for this client; a
// next page elsewhere is not followed.
func TestSignInRefused(t *testing.T) {
	st := onEmbedded(t)
	f := newDesk(t, st, store.RoleBroker)
	o := newSlackOIDC(t)
	p := signInPages(t, st, o)
	o.user = f.broker
	noFollow := func() *http.Client {
		c := p.browser()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	// start begins a sign-in in browser c and returns Slack's answer: the
	// callback address with its code and state.
	start := func(c *http.Client, next string) *url.URL {
		t.Helper()
		resp, err := c.Get(p.srv.URL + "/signin?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("/signin: %d", resp.StatusCode)
		}
		resp, err = c.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasSuffix(u.Path, "/signin/callback") {
			t.Fatalf("the provider sent back to %v", u)
		}
		return u
	}
	finish := func(c *http.Client, u *url.URL) *http.Response {
		t.Helper()
		resp, err := c.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// The way it should go, for comparison.
	c := noFollow()
	if resp := finish(c, start(c, "/desk")); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/desk" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A next page on another site is not followed.
	c = noFollow()
	if resp := finish(c, start(c, "//evil.example/x")); resp.Header.Get("Location") != "/desk" {
		t.Errorf("next //evil.example/x: sent to %q", resp.Header.Get("Location"))
	}

	refused := func(name string, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "brokersync_session" && ck.MaxAge >= 0 {
				t.Errorf("%s: a session was opened", name)
			}
		}
	}
	// Another state than the one this browser left with.
	c = noFollow()
	u := start(c, "/desk")
	q := u.Query()
	q.Set("state", "forged-"+q.Get("state"))
	u.RawQuery = q.Encode()
	refused("another state", finish(c, u))
	// The callback in a browser that did not start the sign-in.
	c = noFollow()
	refused("another browser", finish(noFollow(), start(c, "/desk")))
	// An id_token with another nonce.
	o.nonce = "replayed-nonce"
	c = noFollow()
	refused("another nonce", finish(c, start(c, "/desk")))
	o.nonce = ""
	// An id_token for another client.
	o.aud = "someone-else"
	c = noFollow()
	refused("another audience", finish(c, start(c, "/desk")))
	o.aud = ""
	// An id_token signed with another key.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o.signWith = other
	c = noFollow()
	refused("forged id_token", finish(c, start(c, "/desk")))
	o.signWith = o.key
	// A Slack error.
	c = noFollow()
	u = start(c, "/desk")
	u.RawQuery = url.Values{"error": {"access_denied"}, "state": {u.Query().Get("state")}}.Encode()
	refused("denied at Slack", finish(c, u))
}
