package web

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SlackIssuer is Slack's OpenID Connect issuer.
const SlackIssuer = "https://slack.com"

// slackUserClaim is the id_token claim that holds the Slack user id.
const slackUserClaim = "https://slack.com/user_id"

// signInTTL is how long a sign-in may take, from leaving for Slack to
// coming back.
const signInTTL = 10 * time.Minute

// signInCookie keeps the state and nonce of a sign-in under way.
const signInCookie = "brokersync_signin"

// SignIn is "Sign in with Slack" (OpenID Connect), so that pages can be
// bookmarked: a page opened without a session sends the browser to Slack,
// and the id_token's Slack user id becomes the session's user. It proves
// only who the viewer is; every page still checks their rights now.
type SignIn struct {
	Issuer       string // SlackIssuer unless set (tests run their own provider)
	ClientID     string
	ClientSecret string
	// HTTPClient, when set, is used to reach the issuer.
	HTTPClient *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// signInState is what the sign-in cookie holds, signed with the link key.
type signInState struct {
	State string `json:"s"`
	Nonce string `json:"n"`
	Next  string `json:"p"`
	Exp   int64  `json:"e"`
}

func (l Links) signInSig(payload string) string {
	return l.mac("signin\x00" + payload)
}

// localPath keeps next to a path on this server ("/..." but not "//..."
// nor "/\..."), else "/desk".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/desk"
	}
	return next
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// discover finds the issuer's endpoints and keys, once it answers.
func (s *SignIn) discover(r *http.Request) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	ctx := r.Context()
	if s.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, s.HTTPClient)
	}
	issuer := s.Issuer
	if issuer == "" {
		issuer = SlackIssuer
	}
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	s.provider = p
	return p, nil
}

func (p *Pages) oauth(provider *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: p.SignIn.ClientID, ClientSecret: p.SignIn.ClientSecret, Endpoint: provider.Endpoint(),
		RedirectURL: p.Links.BaseURL + "/signin/callback", Scopes: []string{oidc.ScopeOpenID}}
}

// signIn serves GET /signin?next=<path>: it sends the browser to Slack
// with a fresh state and nonce, kept in a signed cookie for the way back.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	provider, err := p.SignIn.discover(r)
	if err != nil {
		p.Logger.Warn("sign in with Slack: discovery failed", slog.Any("err", err))
		w.Header().Set("Retry-After", "30")
		http.Error(w, "Slack sign-in is unavailable right now; open a link BrokerSync gives you in Slack instead.", http.StatusServiceUnavailable)
		return
	}
	st := signInState{Next: localPath(r.URL.Query().Get("next")), Exp: p.Now().Add(signInTTL).Unix()}
	if st.State, err = randomToken(); err == nil {
		st.Nonce, err = randomToken()
	}
	if err != nil {
		p.fail(w, err)
		return
	}
	raw, _ := json.Marshal(st)
	payload := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: payload + "." + p.Links.signInSig(payload), Path: "/signin",
		MaxAge: int(signInTTL / time.Second), Secure: p.Links.secure(), HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, p.oauth(provider).AuthCodeURL(st.State, oidc.Nonce(st.Nonce)), http.StatusSeeOther)
}

// signInDone serves GET /signin/callback: the state must be the one this
// browser left with, the id_token signed by the issuer for this client,
// unexpired and carrying the nonce; its Slack user id opens a session.
func (p *Pages) signInDone(w http.ResponseWriter, r *http.Request) {
	refuse := func(why string, err error) {
		p.Logger.Info("sign in with Slack refused", slog.String("why", why), slog.Any("err", err))
		http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: "/signin", MaxAge: -1, Secure: p.Links.secure(), HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Error(w, "Signing in with Slack did not work ("+why+"). Try again from the page you wanted, or open a link BrokerSync gives you in Slack.", http.StatusForbidden)
	}
	st, err := p.signInCookieState(r)
	if err != nil {
		refuse("the sign-in expired or was not started here", err)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		refuse("Slack said "+e, nil)
		return
	}
	if q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(st.State)) {
		refuse("the state does not match", nil)
		return
	}
	provider, err := p.SignIn.discover(r)
	if err != nil {
		refuse("Slack is not answering", err)
		return
	}
	ctx := r.Context()
	if p.SignIn.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, p.SignIn.HTTPClient)
	}
	tok, err := p.oauth(provider).Exchange(ctx, q.Get("code"))
	if err != nil {
		refuse("the code was not accepted", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse("no id_token", nil)
		return
	}
	idt, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: p.SignIn.ClientID, Now: p.Now}).Verify(ctx, raw)
	if err != nil {
		refuse("the id_token is not valid", err)
		return
	}
	if !hmac.Equal([]byte(idt.Nonce), []byte(st.Nonce)) {
		refuse("the nonce does not match", nil)
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		refuse("the id_token's claims do not read", err)
		return
	}
	user, _ := claims[slackUserClaim].(string)
	if user == "" || strings.ContainsAny(user, ". \x00") {
		refuse("the id_token names no Slack user", nil)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: "/signin", MaxAge: -1, Secure: p.Links.secure(), HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, p.Links.NewSession(user, p.Now()))
	p.Logger.Info("signed in with Slack", slog.String("user", user))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, st.Next, http.StatusSeeOther)
}

func (p *Pages) signInCookieState(r *http.Request) (signInState, error) {
	var st signInState
	ck, err := r.Cookie(signInCookie)
	if err != nil {
		return st, err
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok || len(p.Links.Key) == 0 || !hmac.Equal([]byte(sig), []byte(p.Links.signInSig(payload))) {
		return st, errors.New("sign-in cookie not signed by this server")
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, err
	}
	if p.Now().Unix() > st.Exp || st.State == "" || st.Nonce == "" {
		return st, errors.New("sign-in expired")
	}
	st.Next = localPath(st.Next)
	return st, nil
}

// signInRedirect sends a browser without a session to sign in with Slack,
// coming back to the page it asked for.
func (p *Pages) signInRedirect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/signin?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
}
