// Package oauthtest plays the identity providers of Microsoft 365 and Google
// Workspace for tests, and starts a real Dovecot whose oauth2 passdb asks
// it whether a token is good.
//
// The identity provider issues access tokens with an expiry for the
// client-credentials grant (a client secret, or a certificate's signed
// client assertion) and for the JWT-bearer grant of a service account
// impersonating a mailbox, introspects them for Dovecot (RFC 7662, POST),
// and can expire tokens early, revoke an app's consent or deny it a
// mailbox, as an administrator would.
package oauthtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// IdP is the test identity provider.
type IdP struct {
	URL string // http://127.0.0.1:port

	mu       sync.Mutex
	apps     map[string]*App            // by client id
	accounts map[string]*ServiceAccount // by client_email
	tokens   map[string]*issued
	lifetime time.Duration
	counts   map[string]int
}

// App is a Microsoft Entra app registration with IMAP.AccessAsApp consented
// and a mailbox permission on Mailbox.
type App struct {
	Tenant, ClientID, Secret string
	Mailbox                  string
	Cert                     *x509.Certificate
	revoked                  string // the error code the token endpoint answers with
	denied                   bool   // tokens issued, but the mailbox refuses them
}

// ServiceAccount is a Google service account with domain-wide delegation
// for the mailboxes of Domain.
type ServiceAccount struct {
	Email   string
	Domain  string
	KeyFile string // the JSON key, as Google Cloud's console downloads it
	key     *rsa.PrivateKey
	revoked string
	denied  bool
}

type issued struct {
	mailbox string
	scope   string
	expiry  time.Time
	owner   string // client id or service account
}

// NewIdP starts the identity provider; tokens live lifetime.
func NewIdP(t testing.TB, lifetime time.Duration) *IdP {
	p := &IdP{apps: map[string]*App{}, accounts: map[string]*ServiceAccount{}, tokens: map[string]*issued{},
		lifetime: lifetime, counts: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// M365TokenURL is the token endpoint of tenant, as Entra's
// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token.
func (p *IdP) M365TokenURL(tenant string) string { return p.URL + "/" + tenant + "/oauth2/v2.0/token" }

// GoogleTokenURL is the endpoint of Google's https://oauth2.googleapis.com/token.
func (p *IdP) GoogleTokenURL() string { return p.URL + "/google/token" }

// IntrospectURL is what Dovecot's introspection_url names.
func (p *IdP) IntrospectURL() string { return p.URL + "/introspect" }

// SetLifetime changes the lifetime of tokens issued from now on.
func (p *IdP) SetLifetime(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lifetime = d
}

// AddApp registers an Entra app with a client secret for mailbox.
func (p *IdP) AddApp(tenant, clientID, secret, mailbox string) *App {
	a := &App{Tenant: tenant, ClientID: clientID, Secret: secret, Mailbox: strings.ToLower(mailbox)}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.apps[clientID] = a
	return a
}

// AddCertApp registers an Entra app authenticated by certificate, and
// writes the certificate and its key as one PEM file in dir.
func (p *IdP) AddCertApp(t testing.TB, dir, tenant, clientID, mailbox string) (a *App, pemFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "BrokerSync mail"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	pemFile = filepath.Join(dir, clientID+".pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := os.WriteFile(pemFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	a = p.AddApp(tenant, clientID, "", mailbox)
	a.Cert = cert
	return a, pemFile
}

// AddServiceAccount registers a service account delegated the mailboxes
// of domain and writes its JSON key in dir.
func (p *IdP) AddServiceAccount(t testing.TB, dir, email, domain string) *ServiceAccount {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	kid := make([]byte, 20)
	rand.Read(kid)
	js, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": "brokersync-test", "private_key_id": hex.EncodeToString(kid),
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		"client_email": email, "client_id": "1234567890", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
		"token_uri": p.GoogleTokenURL(),
	}, "", "  ")
	sa := &ServiceAccount{Email: email, Domain: strings.ToLower(domain), KeyFile: filepath.Join(dir, "sa-"+hex.EncodeToString(kid[:4])+".json"), key: key}
	if err := os.WriteFile(sa.KeyFile, js, 0o600); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accounts[email] = sa
	return sa
}

// Revoke withdraws the consent of an app (client id) or the delegation of
// a service account (email): its tokens stop working and the token
// endpoint answers code (invalid_grant, unauthorized_client, ...).
func (p *IdP) Revoke(owner, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.apps[owner]; a != nil {
		a.revoked = code
	}
	if sa := p.accounts[owner]; sa != nil {
		sa.revoked = code
	}
	for _, tok := range p.tokens {
		if tok.owner == owner {
			tok.expiry = time.Time{}
		}
	}
}

// Deny keeps issuing tokens to owner, but the mailbox refuses them (the
// mailbox permission was removed, the API permission lost).
func (p *IdP) Deny(owner string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.apps[owner]; a != nil {
		a.denied = true
	}
	if sa := p.accounts[owner]; sa != nil {
		sa.denied = true
	}
}

// ExpireTokens ends every token issued so far, before the expiry their
// holders were told.
func (p *IdP) ExpireTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tok := range p.tokens {
		tok.expiry = time.Time{}
	}
}

// Count is how many requests of a kind the provider answered: "token" (a
// token issued), "token_refused", "introspect_active",
// "introspect_inactive".
func (p *IdP) Count(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[kind]
}

func (p *IdP) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.URL.Path == "/introspect":
		p.introspect(w, r.PostForm.Get("token"))
	case r.URL.Path == "/google/token":
		p.googleToken(w, r)
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		p.m365Token(w, r, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token"))
	default:
		http.NotFound(w, r)
	}
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (p *IdP) issue(w http.ResponseWriter, owner, mailbox, scope string) {
	b := make([]byte, 24)
	rand.Read(b)
	tok := "at-" + base64.RawURLEncoding.EncodeToString(b)
	p.tokens[tok] = &issued{mailbox: mailbox, scope: scope, expiry: time.Now().Add(p.lifetime), owner: owner}
	p.counts["token"]++
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(p.lifetime.Round(time.Second) / time.Second)})
}

func (p *IdP) refuse(w http.ResponseWriter, status int, code, desc string) {
	p.counts["token_refused"]++
	oauthError(w, status, code, desc)
}

// m365Token is Entra's client-credentials grant.
func (p *IdP) m365Token(w http.ResponseWriter, r *http.Request, tenant string) {
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		p.refuse(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: grant_type must be client_credentials")
		return
	}
	a := p.apps[f.Get("client_id")]
	if a == nil || a.Tenant != tenant {
		p.refuse(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+f.Get("client_id")+"' was not found in the directory '"+tenant+"'.")
		return
	}
	if a.Cert != nil {
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
			!verifyJWT(f.Get("client_assertion"), a.Cert.PublicKey.(*rsa.PublicKey), a.ClientID, a.ClientID, p.M365TokenURL(tenant), a.Cert) {
			p.refuse(w, http.StatusUnauthorized, "invalid_client", "AADSTS700027: Client assertion failed signature validation.")
			return
		}
	} else if f.Get("client_secret") != a.Secret {
		p.refuse(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	if f.Get("scope") != "https://outlook.office365.com/.default" {
		p.refuse(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope "+f.Get("scope")+" is not valid.")
		return
	}
	if a.revoked != "" {
		p.refuse(w, http.StatusBadRequest, a.revoked, "AADSTS65001: The user or administrator has not consented to use the application.")
		return
	}
	p.issue(w, a.ClientID, a.Mailbox, f.Get("scope"))
}

// googleToken is Google's JWT-bearer grant of a service account.
func (p *IdP) googleToken(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		p.refuse(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type")
		return
	}
	claims, ok := jwtClaims(f.Get("assertion"))
	if !ok {
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT")
		return
	}
	sa := p.accounts[claims.Iss]
	if sa == nil || !verifyJWT(f.Get("assertion"), &sa.key.PublicKey, claims.Iss, "", p.GoogleTokenURL(), nil) {
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	mailbox := strings.ToLower(claims.Sub)
	if sa.revoked != "" || !strings.HasSuffix(mailbox, "@"+sa.Domain) || claims.Scope != "https://mail.google.com/" {
		code := sa.revoked
		if code == "" {
			code = "unauthorized_client"
		}
		p.refuse(w, http.StatusUnauthorized, code, "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
		return
	}
	p.issue(w, sa.Email, mailbox, claims.Scope)
}

// introspect answers Dovecot (RFC 7662). An inactive token still names its
// mailbox, so that Dovecot refuses it as the user's failed login rather
// than as its own internal failure.
func (p *IdP) introspect(w http.ResponseWriter, token string) {
	w.Header().Set("Content-Type", "application/json")
	tok := p.tokens[token]
	if tok == nil {
		p.counts["introspect_inactive"]++
		json.NewEncoder(w).Encode(map[string]any{"active": false, "username": ""})
		return
	}
	denied := false
	if a := p.apps[tok.owner]; a != nil {
		denied = a.denied
	}
	if sa := p.accounts[tok.owner]; sa != nil {
		denied = sa.denied
	}
	active := !denied && time.Now().Before(tok.expiry)
	if active {
		p.counts["introspect_active"]++
	} else {
		p.counts["introspect_inactive"]++
	}
	json.NewEncoder(w).Encode(map[string]any{"active": active,
		"username": tok.mailbox, "scope": tok.scope, "exp": tok.expiry.Unix()})
}

type claimSet struct {
	Iss, Sub, Aud, Scope string
	Exp, Nbf             int64
}

func jwtClaims(jwt string) (claimSet, bool) {
	var c claimSet
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, false
	}
	return c, json.Unmarshal(b, &c) == nil
}

// verifyJWT checks an RS256 assertion: signature, issuer, subject (when
// sub is not empty), audience, expiry, and for a certificate its x5t#S256
// thumbprint.
func verifyJWT(jwt string, pub *rsa.PublicKey, iss, sub, aud string, cert *x509.Certificate) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return false
	}
	var h map[string]string
	if json.Unmarshal(hb, &h) != nil || h["alg"] != "RS256" {
		return false
	}
	if cert != nil {
		sum := sha256.Sum256(cert.Raw)
		if h["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return false
		}
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return false
	}
	c, ok := jwtClaims(jwt)
	now := time.Now().Unix()
	return ok && c.Iss == iss && (sub == "" || c.Sub == sub) && c.Aud == aud && c.Exp > now && c.Exp < now+3700
}
