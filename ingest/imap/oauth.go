package imap

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/jwt"
)

// Providers of OAuth2 tokens for IMAP (?auth= in a mailbox URL).
const (
	ProviderM365   = "m365"   // Microsoft 365: client credentials of an Entra app
	ProviderGoogle = "google" // Google Workspace: a service account with domain-wide delegation
)

// SASL mechanisms that carry a bearer token (?sasl= in a mailbox URL).
const (
	MechXOAuth2     = "XOAUTH2"
	MechOAuthBearer = "OAUTHBEARER"
)

// Default scopes: IMAP for Exchange Online, and full mail for Gmail (the
// only scope Gmail's IMAP accepts).
const (
	M365Scope   = "https://outlook.office365.com/.default"
	GoogleScope = "https://mail.google.com/"
)

// OAuth is how a mailbox gets its bearer tokens. Secrets are never in it:
// only the files or the environment they come from.
type OAuth struct {
	Provider string // ProviderM365 or ProviderGoogle
	// Mechanism is MechXOAuth2 or MechOAuthBearer; empty picks what the
	// server offers, XOAUTH2 first.
	Mechanism string
	// Tenant and ClientID identify the Microsoft Entra app (tenant id or
	// domain, application (client) id).
	Tenant   string
	ClientID string
	// SecretFile holds the app's client secret; without it, SecretEnv names
	// the environment variable that does. CertFile (with KeyFile, or a PEM
	// holding both) authenticates the app by certificate instead.
	SecretFile string
	SecretEnv  string
	CertFile   string
	KeyFile    string
	// KeyFile is, for Google, the service account's JSON key.
	// Subject is the mailbox impersonated (Google) or opened (both): the
	// URL's user name.
	Subject string
	// TokenURL replaces the provider's token endpoint (a sovereign cloud, a
	// test identity provider); for Google the key file's token_uri is the
	// default.
	TokenURL string
	// Scope replaces the default scope (M365Scope, GoogleScope).
	Scope string

	getenv func(string) string // reads SecretEnv; nil is os.Getenv
}

// tokenURL is the endpoint tokens are requested from.
func (o *OAuth) tokenURL() string {
	if o.TokenURL != "" {
		return o.TokenURL
	}
	if o.Provider == ProviderM365 {
		return "https://login.microsoftonline.com/" + url.PathEscape(o.Tenant) + "/oauth2/v2.0/token"
	}
	return "" // Google: the key file's token_uri
}

func (o *OAuth) scope() string {
	switch {
	case o.Scope != "":
		return o.Scope
	case o.Provider == ProviderM365:
		return M365Scope
	}
	return GoogleScope
}

// describe says in a few words where the tokens come from, for check mail
// and logs; it holds no secret.
func (o *OAuth) describe() string {
	if o.Provider == ProviderM365 {
		how := "client secret"
		if o.CertFile != "" {
			how = "certificate"
		}
		return fmt.Sprintf("Microsoft 365 app %s of tenant %s (%s)", o.ClientID, o.Tenant, how)
	}
	return "Google service account, impersonating " + o.Subject
}

// files are the credential files a token request reads; a change to one of
// them lets a mailbox stopped for its credentials try again at once.
func (o *OAuth) files() []string {
	var out []string
	for _, f := range []string{o.SecretFile, o.CertFile, o.KeyFile} {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validate reads the credentials once, so that a missing file or a
// malformed key stops start-up instead of the first token request.
func (o *OAuth) validate(getenv func(string) string) error {
	switch o.Provider {
	case ProviderM365:
		switch {
		case o.Tenant == "":
			return errors.New("auth=m365 needs tenant= (the directory (tenant) id or its domain), or BROKERSYNC_M365_TENANT")
		case o.ClientID == "":
			return errors.New("auth=m365 needs client= (the app's application (client) id), or BROKERSYNC_M365_CLIENT_ID")
		case o.CertFile != "":
			_, _, err := loadCertKey(o.CertFile, o.KeyFile)
			return err
		case o.SecretFile != "":
			_, err := readSecretFile(o.SecretFile)
			return err
		case o.SecretEnv != "" && getenv(o.SecretEnv) != "":
			return nil
		}
		return errors.New("auth=m365 needs the app's client secret (secret_file= or BROKERSYNC_M365_CLIENT_SECRET) or its certificate (cert_file=, or BROKERSYNC_M365_CERT_FILE)")
	case ProviderGoogle:
		if o.KeyFile == "" {
			return errors.New("auth=google needs the service account's JSON key (key_file=, or BROKERSYNC_GOOGLE_KEY_FILE)")
		}
		_, err := o.googleConfig()
		return err
	}
	return fmt.Errorf("auth=%q: use m365 or google (or leave it out for a password)", o.Provider)
}

func readSecretFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("client secret: %s is empty", name)
	}
	return s, nil
}

// loadCertKey reads the app's certificate and private key (PEM; one file
// may hold both).
func loadCertKey(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	if keyFile == "" {
		keyFile = certFile
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	keyPEM := certPEM
	if keyFile != certFile {
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return nil, nil, fmt.Errorf("certificate key: %w", err)
		}
	}
	var cert *x509.Certificate
	var key crypto.Signer
	for _, data := range [][]byte{certPEM, keyPEM} {
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			switch b.Type {
			case "CERTIFICATE":
				if cert == nil {
					if cert, err = x509.ParseCertificate(b.Bytes); err != nil {
						return nil, nil, fmt.Errorf("certificate %s: %w", certFile, err)
					}
				}
			case "PRIVATE KEY":
				k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("certificate key %s: %w", keyFile, err)
				}
				key, _ = k.(crypto.Signer)
			case "RSA PRIVATE KEY":
				k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("certificate key %s: %w", keyFile, err)
				}
				key = k
			}
		}
	}
	switch {
	case cert == nil:
		return nil, nil, fmt.Errorf("certificate: no CERTIFICATE block in %s", certFile)
	case key == nil:
		return nil, nil, fmt.Errorf("certificate key: no PRIVATE KEY block in %s", keyFile)
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return nil, nil, fmt.Errorf("certificate key %s: Microsoft Entra signs client assertions with RSA keys only", keyFile)
	}
	return cert, key, nil
}

// googleConfig reads the service account key into x/oauth2's JWT config,
// impersonating the mailbox.
func (o *OAuth) googleConfig() (*jwt.Config, error) {
	b, err := os.ReadFile(o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("service account key: %w", err)
	}
	conf, err := google.JWTConfigFromJSON(b, o.scope())
	if err != nil {
		return nil, fmt.Errorf("service account key %s: %w", o.KeyFile, err)
	}
	conf.Subject = o.Subject
	if o.TokenURL != "" {
		conf.TokenURL = o.TokenURL
	}
	return conf, nil
}

// Token endpoint errors (RFC 6749 §5.2) that say the app may not have a
// token for this mailbox (any more): retrying cannot help until someone
// changes something at the provider or in the configuration.
var (
	credentialErrors = map[string]bool{"invalid_client": true}
	consentErrors    = map[string]bool{"invalid_grant": true, "unauthorized_client": true, "access_denied": true,
		"consent_required": true, "invalid_scope": true, "interaction_required": true}
)

// Reasons counted in brokersync_imap_auth_failures_total.
const (
	ReasonInvalidClient  = "invalid_client"  // the provider refused the app's secret, certificate or key
	ReasonConsentRevoked = "consent_revoked" // the provider refused a token for the mailbox: consent or delegation gone
	ReasonTokenRefused   = "token_refused"   // the IMAP server refused a fresh token
	ReasonTokenEndpoint  = "token_endpoint"  // the token endpoint failed (network, 5xx): retried as usual
)

// AuthError is a failure to sign in to a mailbox with OAuth2. Permanent
// ones stop the mailbox until its credentials change or AuthRetry passes.
type AuthError struct {
	Reason    string
	Permanent bool
	msg       string
	Err       error
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return e.msg + ": " + e.Err.Error()
	}
	return e.msg
}

func (e *AuthError) Unwrap() error { return e.Err }

// tokenError classifies an error from the token endpoint.
func (o *OAuth) tokenError(err error) error {
	who := "Microsoft Entra"
	if o.Provider == ProviderGoogle {
		who = "Google"
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return &AuthError{Reason: ReasonTokenEndpoint, msg: "no token from " + who + " (" + o.tokenURLShown() + ")", Err: err}
	}
	code, desc := re.ErrorCode, re.ErrorDescription
	if code == "" {
		// x/oauth2's JWT flow leaves the body unparsed.
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(re.Body, &body) == nil {
			code, desc = body.Error, body.Description
		}
	}
	detail := code
	if desc != "" {
		detail += ": " + firstLine(desc)
	}
	status := re.Response.StatusCode
	// Google answers a deleted or disabled key with invalid_grant.
	keyGone := o.Provider == ProviderGoogle && code == "invalid_grant" && strings.Contains(desc, "JWT Signature")
	switch {
	case credentialErrors[code] || keyGone:
		what := "the app's client secret or certificate (wrong, expired, or not the app's)"
		if o.Provider == ProviderGoogle {
			what = "the service account's key (deleted or disabled?)"
		}
		return &AuthError{Reason: ReasonInvalidClient, Permanent: true, msg: who + " refused " + what + " (" + detail + ")"}
	case consentErrors[code]:
		what := "the app may not read this mailbox: admin consent for IMAP.AccessAsApp revoked, app or service principal removed, or no mailbox permission"
		if o.Provider == ProviderGoogle {
			what = "the service account may not impersonate " + o.Subject + ": domain-wide delegation for " + GoogleScope + " revoked or never granted, or no such user"
		}
		return &AuthError{Reason: ReasonConsentRevoked, Permanent: true, msg: who + " refused a token: " + what + " (" + detail + ")"}
	case status >= 500 || status == http.StatusTooManyRequests:
		return &AuthError{Reason: ReasonTokenEndpoint, msg: fmt.Sprintf("no token from %s: HTTP %d %s", who, status, detail)}
	}
	return &AuthError{Reason: ReasonConsentRevoked, Permanent: true, msg: fmt.Sprintf("%s refused a token: HTTP %d %s", who, status, detail)}
}

func (o *OAuth) tokenURLShown() string {
	if u := o.tokenURL(); u != "" {
		return u
	}
	return "the key file's token_uri"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// tokens fetches and caches a mailbox's access token. A token is reused
// until it nears its expiry (the last fifth of its life, at most five
// minutes), so logins never present an expired one; invalidate drops it
// after the server refused it.
type tokens struct {
	o      *OAuth
	getenv func(string) string
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	tok      *oauth2.Token
	issued   time.Time
	expiry   time.Time // by now's clock
	fetches  int
	fileSums string
}

func newTokens(o *OAuth, client *http.Client) *tokens {
	getenv := o.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	t := &tokens{o: o, getenv: getenv, client: client, now: time.Now}
	t.fileSums = t.sums()
	return t
}

// refreshMargin is how long before its expiry a token is replaced.
func refreshMargin(lifetime time.Duration) time.Duration {
	return min(5*time.Minute, lifetime/5)
}

// token returns a usable token; fresh reports that it was fetched by this
// call (so a refusal of it is not the token's age).
func (t *tokens) token(ctx context.Context) (tok *oauth2.Token, fresh bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.tok != nil && (t.expiry.IsZero() || now.Before(t.expiry.Add(-refreshMargin(t.expiry.Sub(t.issued))))) {
		return t.tok, false, nil
	}
	tok, err = t.fetch(ctx)
	if err != nil {
		return nil, false, err
	}
	t.tok, t.issued, t.expiry = tok, now, time.Time{}
	if !tok.Expiry.IsZero() {
		// x/oauth2 dates the expiry by the wall clock; keep the lifetime.
		t.expiry = now.Add(time.Until(tok.Expiry))
	}
	t.fetches++
	return tok, true, nil
}

// invalidate drops tok if it is still the cached one (nil: whatever is).
func (t *tokens) invalidate(tok *oauth2.Token) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok == nil || t.tok == tok {
		t.tok = nil
	}
}

// sums fingerprints the credential files and the secret variable.
func (t *tokens) sums() string {
	h := sha256.New()
	for _, f := range t.o.files() {
		b, _ := os.ReadFile(f)
		h.Write(b)
		h.Write([]byte{0})
	}
	if t.o.SecretEnv != "" {
		h.Write([]byte(t.getenv(t.o.SecretEnv)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// credentialsChanged reports whether the credential files changed since
// the last call (or since the start).
func (t *tokens) credentialsChanged() bool {
	s := t.sums()
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := s != t.fileSums
	t.fileSums = s
	return changed
}

func (t *tokens) fetch(ctx context.Context) (*oauth2.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.client)
	var src oauth2.TokenSource
	o := t.o
	switch o.Provider {
	case ProviderM365:
		cc := &clientcredentials.Config{
			ClientID:  o.ClientID,
			TokenURL:  o.tokenURL(),
			Scopes:    []string{o.scope()},
			AuthStyle: oauth2.AuthStyleInParams,
		}
		switch {
		case o.CertFile != "":
			cert, key, err := loadCertKey(o.CertFile, o.KeyFile)
			if err != nil {
				return nil, &AuthError{Reason: ReasonInvalidClient, Permanent: true, msg: "Microsoft 365 app certificate", Err: err}
			}
			assertion, err := clientAssertion(cert, key, o.ClientID, cc.TokenURL, t.now())
			if err != nil {
				return nil, &AuthError{Reason: ReasonInvalidClient, Permanent: true, msg: "Microsoft 365 client assertion", Err: err}
			}
			cc.EndpointParams = url.Values{
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {assertion},
			}
		case o.SecretFile != "":
			s, err := readSecretFile(o.SecretFile)
			if err != nil {
				return nil, &AuthError{Reason: ReasonInvalidClient, Permanent: true, msg: "Microsoft 365 app", Err: err}
			}
			cc.ClientSecret = s
		default:
			cc.ClientSecret = strings.TrimSpace(t.getenv(o.SecretEnv))
			if cc.ClientSecret == "" {
				return nil, &AuthError{Reason: ReasonInvalidClient, Permanent: true, msg: "Microsoft 365 app: " + o.SecretEnv + " is empty"}
			}
		}
		src = cc.TokenSource(ctx)
	case ProviderGoogle:
		conf, err := o.googleConfig()
		if err != nil {
			return nil, &AuthError{Reason: ReasonInvalidClient, Permanent: true, msg: "Google service account", Err: err}
		}
		// A new source per fetch: x/oauth2 would otherwise hand back its
		// own cached token until ten seconds before it expires.
		src = conf.TokenSource(ctx)
	default:
		return nil, fmt.Errorf("auth=%q is not a token provider", o.Provider)
	}
	tok, err := src.Token()
	if err != nil {
		return nil, o.tokenError(err)
	}
	if tok.AccessToken == "" {
		return nil, &AuthError{Reason: ReasonTokenEndpoint, msg: "the token endpoint answered without an access token"}
	}
	return tok, nil
}

// clientAssertion is the signed JWT by which an Entra app proves it holds
// its certificate's key (RFC 7523; Microsoft's "certificate credentials"):
// RS256, with the certificate's SHA-1 and SHA-256 thumbprints in x5t and
// x5t#S256, for the token endpoint as audience, valid five minutes.
func clientAssertion(cert *x509.Certificate, key crypto.Signer, clientID, aud string, now time.Time) (string, error) {
	s1 := sha1.Sum(cert.Raw)
	s256 := sha256.Sum256(cert.Raw)
	header := map[string]string{
		"alg": "RS256", "typ": "JWT",
		"x5t":      base64.RawURLEncoding.EncodeToString(s1[:]),
		"x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:]),
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := map[string]any{
		"aud": aud, "iss": clientID, "sub": clientID,
		"jti": hex.EncodeToString(jti),
		"nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
