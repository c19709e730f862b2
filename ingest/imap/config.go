package imap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Security is how a connection to the IMAP server is protected.
type Security int

const (
	// TLS is implicit TLS from the first byte (imaps://, port 993).
	TLS Security = iota
	// StartTLS upgrades a plaintext connection before logging in (imap://,
	// port 143); a server that does not offer STARTTLS is refused.
	StartTLS
	// Plaintext sends the password in the clear. It is only allowed to a
	// loopback address (a local test server, a proxy on the same host).
	Plaintext
)

func (s Security) String() string {
	switch s {
	case TLS:
		return "tls"
	case StartTLS:
		return "starttls"
	}
	return "plaintext"
}

// MailboxConfig is one folder of one IMAP account to ingest.
type MailboxConfig struct {
	// Account names the account in checkpoints, metrics and logs:
	// user@host, with the port when it is not the scheme's default.
	Account  string
	Addr     string // host:port
	Host     string // for TLS certificate checks
	Security Security
	Username string
	Password string
	Folder   string // default INBOX
	// Owner is the mailbox owner's address (?email=, or the user name when
	// it is an address); mail from it is outbound. Empty for a shared
	// logging mailbox that belongs to nobody.
	Owner string
	// Broker is the owner's Slack user id (?broker=U123), or the user name.
	Broker string
	// NoIdle turns IDLE off (?idle=off) for servers or proxies that drop
	// idle connections; the folder is then polled.
	NoIdle bool
	// OAuth, when set (?auth=m365 or ?auth=google), signs in with a bearer
	// token over XOAUTH2 or OAUTHBEARER instead of the password.
	OAuth *OAuth
}

// Defaults are the OAuth2 settings mailbox URLs leave out, from the
// environment (BROKERSYNC_M365_TENANT, ...): one Entra app or one Google
// service account usually serves every mailbox of the desk.
type Defaults struct {
	M365Tenant    string
	M365ClientID  string
	M365CertFile  string
	GoogleKeyFile string
	// Getenv reads the variable that holds the M365 client secret
	// (BROKERSYNC_M365_CLIENT_SECRET) when a token is requested; nil is
	// os.Getenv.
	Getenv func(string) string
}

// M365SecretEnv is the environment variable holding the Entra app's client
// secret for mailboxes whose URL names no secret_file= or cert_file=.
const M365SecretEnv = "BROKERSYNC_M365_CLIENT_SECRET"

func (d Defaults) getenv(k string) string {
	if d.Getenv != nil {
		return d.Getenv(k)
	}
	return os.Getenv(k)
}

// Label is account/folder, as shown in logs, metrics and event attributes.
func (c MailboxConfig) Label() string { return c.Account + "/" + c.Folder }

// String describes the mailbox without its password or any secret.
func (c MailboxConfig) String() string {
	if c.OAuth != nil {
		return fmt.Sprintf("%s (%s, %s, %s)", c.Label(), c.Addr, c.Security, c.OAuth.describe())
	}
	return fmt.Sprintf("%s (%s, %s)", c.Label(), c.Addr, c.Security)
}

// Mailboxes reads the mailboxes to ingest from BROKERSYNC_IMAP_URL (one URL,
// may be empty) and BROKERSYNC_IMAP_MAILBOXES (a file with one URL a line;
// blank lines and lines starting with # are ignored; may be empty). A URL
// looks like
//
//	imaps://user:password@imap.example.com/INBOX?broker=U123&email=jane@desk.example.com
//
// imaps:// is implicit TLS (port 993); imap:// requires STARTTLS (port 143)
// unless the host is a loopback address, where plaintext is allowed. The
// path is the folder (default INBOX); list one URL per folder to ingest
// several (INBOX and Sent, say). broker= is the owner's Slack id and
// email= the owner's address; the owners' domains are the desk's, so set
// email= on a BCC logging mailbox too (log@desk.example): mail from the
// desk's domain to a client is then outbound. idle=off polls instead of
// using IDLE. Errors never show the password.
func Mailboxes(rawURL, file string) ([]MailboxConfig, error) {
	return Defaults{}.Mailboxes(rawURL, file)
}

// Mailboxes is the package's Mailboxes with d filling in what OAuth2 URLs
// leave out.
func (d Defaults) Mailboxes(rawURL, file string) ([]MailboxConfig, error) {
	var out []MailboxConfig
	seen := map[string]string{}
	add := func(where, raw string) error {
		c, err := d.ParseMailboxURL(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if prev, dup := seen[c.Label()]; dup {
			return fmt.Errorf("%s: %s is already listed (%s)", where, c.Label(), prev)
		}
		seen[c.Label()] = where
		out = append(out, c)
		return nil
	}
	if strings.TrimSpace(rawURL) != "" {
		if err := add("BROKERSYNC_IMAP_URL", rawURL); err != nil {
			return nil, err
		}
	}
	if file == "" {
		return out, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("BROKERSYNC_IMAP_MAILBOXES: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := add(fmt.Sprintf("%s line %d", file, n), line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("BROKERSYNC_IMAP_MAILBOXES: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("BROKERSYNC_IMAP_MAILBOXES: %s lists no mailbox", file)
	}
	return out, nil
}

// ParseMailboxURL parses one mailbox URL; see Mailboxes.
func ParseMailboxURL(raw string) (MailboxConfig, error) {
	return Defaults{}.ParseMailboxURL(raw)
}

// oauthParams are the URL parameters of OAuth2 mailboxes.
var oauthParams = []string{"auth", "sasl", "tenant", "client", "secret_file", "cert_file", "key_file", "token_url", "scope"}

// ParseMailboxURL parses one mailbox URL, d filling in what an OAuth2 URL
// leaves out:
//
//	imaps://jane@desk.example@outlook.office365.com/INBOX?auth=m365&tenant=…&client=…&secret_file=/run/secrets/m365
//	imaps://jane@desk.example@imap.gmail.com/INBOX?auth=google&key_file=/run/secrets/google-sa.json
//
// The user name is the mailbox; a URL with auth= carries no password, and
// no secret at all: the client secret comes from secret_file= or
// BROKERSYNC_M365_CLIENT_SECRET, a certificate from cert_file= (and
// key_file=), a Google service account's JSON key from key_file=. sasl=
// picks XOAUTH2 or OAUTHBEARER; token_url= and scope= replace the
// provider's endpoint and scope (sovereign clouds, a test identity
// provider).
func (d Defaults) ParseMailboxURL(raw string) (MailboxConfig, error) {
	var c MailboxConfig
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url's errors quote the whole URL, password included.
		return c, errors.New("not a URL: write imaps://user:password@host/Folder")
	}
	defaultPort := ""
	switch u.Scheme {
	case "imaps":
		c.Security, defaultPort = TLS, "993"
	case "imap":
		c.Security, defaultPort = StartTLS, "143"
	default:
		return c, fmt.Errorf("scheme %q: use imaps:// (TLS) or imap:// (STARTTLS)", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("no host: write imaps://user:password@host/Folder")
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	c.Addr = net.JoinHostPort(c.Host, port)
	if c.Security == StartTLS && isLoopback(c.Host) {
		c.Security = Plaintext
	}
	c.Username = u.User.Username()
	c.Password, _ = u.User.Password()
	q := u.Query()
	auth := strings.ToLower(q.Get("auth"))
	if auth == "password" {
		auth = ""
	}
	switch {
	case auth != "" && c.Password != "":
		return c, fmt.Errorf("%s: auth=%s signs in with a token: leave the password out of the URL (the client secret comes from secret_file= or %s)", u.Host, auth, M365SecretEnv)
	case auth != "" && c.Username == "":
		return c, fmt.Errorf("%s: no mailbox: write %s://jane@desk.example@%s/INBOX?auth=%s", u.Host, u.Scheme, u.Host, auth)
	case auth == "" && (c.Username == "" || c.Password == ""):
		return c, fmt.Errorf("%s: no user name or password: write %s://user:password@%s/Folder (percent-encode @ and : in them), or sign in with a token (auth=m365 or auth=google)", u.Host, u.Scheme, u.Host)
	}
	c.Account = c.Username + "@" + c.Host
	if port != defaultPort {
		c.Account += ":" + port
	}
	c.Folder = strings.Trim(u.Path, "/")
	if c.Folder == "" {
		c.Folder = "INBOX"
	}
	if strings.EqualFold(c.Folder, "INBOX") {
		c.Folder = "INBOX" // INBOX is case-insensitive; one spelling keeps one checkpoint
	}
	for k := range q {
		switch {
		case k == "broker", k == "email", k == "idle":
		case k == "secret" || k == "client_secret" || k == "password":
			return c, fmt.Errorf("%s: %s= would put a secret in the URL: use secret_file= or %s", c.Label(), k, M365SecretEnv)
		case auth != "" && slices.Contains(oauthParams, k), k == "auth":
		default:
			known := "broker, email, idle, auth"
			if auth != "" {
				known = "broker, email, idle, " + strings.Join(oauthParams, ", ")
			}
			return c, fmt.Errorf("%s: unknown parameter %q (known: %s)", c.Label(), k, known)
		}
	}
	if auth != "" {
		o, err := d.oauth(auth, c.Username, q)
		if err != nil {
			return c, fmt.Errorf("%s: %w", c.Label(), err)
		}
		c.OAuth = o
	}
	c.Broker = q.Get("broker")
	if c.Broker == "" {
		c.Broker = c.Username
	}
	c.Owner = strings.ToLower(q.Get("email"))
	if c.Owner == "" && strings.Contains(c.Username, "@") {
		c.Owner = strings.ToLower(c.Username)
	}
	if c.Owner != "" && !strings.Contains(c.Owner, "@") {
		return c, fmt.Errorf("%s: email=%q is not an address", c.Label(), c.Owner)
	}
	switch strings.ToLower(q.Get("idle")) {
	case "", "on", "true", "1":
	case "off", "false", "0":
		c.NoIdle = true
	default:
		return c, fmt.Errorf("%s: idle=%q: use on or off", c.Label(), q.Get("idle"))
	}
	return c, nil
}

// isLoopback reports whether host is localhost or a loopback IP, where a
// plaintext password never leaves the machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// oauth reads an OAuth2 mailbox's parameters and checks its credentials
// can be read.
func (d Defaults) oauth(provider, user string, q url.Values) (*OAuth, error) {
	o := &OAuth{Provider: provider, Subject: user, Tenant: q.Get("tenant"), ClientID: q.Get("client"),
		SecretFile: q.Get("secret_file"), CertFile: q.Get("cert_file"), KeyFile: q.Get("key_file"),
		TokenURL: q.Get("token_url"), Scope: q.Get("scope"), getenv: d.getenv}
	switch m := strings.ToUpper(q.Get("sasl")); m {
	case "", MechXOAuth2, MechOAuthBearer:
		o.Mechanism = m
	default:
		return nil, fmt.Errorf("sasl=%q: use xoauth2 or oauthbearer", q.Get("sasl"))
	}
	if o.TokenURL != "" {
		if tu, err := url.Parse(o.TokenURL); err != nil || (tu.Scheme != "https" && !(tu.Scheme == "http" && isLoopback(tu.Hostname()))) {
			return nil, fmt.Errorf("token_url=%q: use an https:// URL (http:// only to a loopback address)", o.TokenURL)
		}
	}
	switch provider {
	case ProviderM365:
		if o.Tenant == "" {
			o.Tenant = d.M365Tenant
		}
		if o.ClientID == "" {
			o.ClientID = d.M365ClientID
		}
		if o.SecretFile == "" && o.CertFile == "" {
			o.CertFile = d.M365CertFile
		}
		if o.SecretFile == "" && o.CertFile == "" {
			o.SecretEnv = M365SecretEnv
		}
	case ProviderGoogle:
		if o.KeyFile == "" {
			o.KeyFile = d.GoogleKeyFile
		}
	}
	if err := o.validate(d.getenv); err != nil {
		return nil, err
	}
	return o, nil
}

// RedactURL shows a mailbox URL without its password or any parameter
// that could hold a secret, for logs and errors.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "(a mailbox URL that does not parse)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		if lk := strings.ToLower(k); strings.Contains(lk, "secret") && !strings.HasSuffix(lk, "_file") || strings.Contains(lk, "password") || lk == "token" {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
