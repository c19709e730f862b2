package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/store"
)

// Config is BrokerSync's configuration. Every setting comes from an
// environment variable and can be overridden by the flag of the same meaning.
type Config struct {
	HTTPAddr             string
	DataDir              string
	PostgresURL          string
	CassandraHosts       string
	CassandraKeyspace    string
	CassandraConsistency string
	CassandraReplication string
	SlackBotToken        string
	SlackSigningSecret   string
	SlackAppToken        string
	SlackAPIURL          string
	SlackLease           string
	IMAPURL              string
	IMAPMailboxes        string
	M365Tenant           string
	M365ClientID         string
	M365ClientSecret     string
	M365CertFile         string
	GoogleKeyFile        string
	FIXSettings          string
	WebhookSecret        string
	TwilioAuthToken      string
	AircallToken         string
	LinkKey              string
	PublicURL            string
	SlackClientID        string
	SlackClientSecret    string
	Admins               string
	Catalogue            string
	DormantAfter         string
	LogLevel             string
	ReplicaID            string

	// cat is the commodity catalogue, loaded once from Catalogue (the
	// built-in one when it is not set) and handed to whatever needs it.
	cat *store.Catalogue
}

// setting describes one configuration entry: its variable, flag, default and
// the check that rejects a malformed value at start-up.
type setting struct {
	env, flag, def, help string
	dst                  func(*Config) *string
	check                func(string) error
	secret               bool
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "brokersync")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "brokersync")
	}
	return "brokersync-data"
}

var settings = []setting{
	{"BROKERSYNC_HTTP_ADDR", "http-addr", "127.0.0.1:8080", "address the HTTP server listens on, host:port", func(c *Config) *string { return &c.HTTPAddr }, checkHostPort, false},
	{"BROKERSYNC_DATA_DIR", "data-dir", "", "directory of the embedded store (default $XDG_DATA_HOME/brokersync or ~/.local/share/brokersync)", func(c *Config) *string { return &c.DataDir }, nil, false},
	{"BROKERSYNC_POSTGRES_URL", "postgres-url", "", "PostgreSQL URL for profiles; empty uses the embedded store", func(c *Config) *string { return &c.PostgresURL }, checkURL("postgres", "postgresql"), true},
	{"BROKERSYNC_CASSANDRA_HOSTS", "cassandra-hosts", "", "Cassandra contact points host[:port],...; empty keeps the timeline in the embedded store", func(c *Config) *string { return &c.CassandraHosts }, checkHostList, false},
	{"BROKERSYNC_CASSANDRA_KEYSPACE", "cassandra-keyspace", "brokersync", "Cassandra keyspace", func(c *Config) *string { return &c.CassandraKeyspace }, checkIdent, false},
	{"BROKERSYNC_CASSANDRA_CONSISTENCY", "cassandra-consistency", "LOCAL_QUORUM", "Cassandra consistency level (ONE for a single node)", func(c *Config) *string { return &c.CassandraConsistency }, checkOneOf("ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"), false},
	{"BROKERSYNC_CASSANDRA_REPLICATION", "cassandra-replication", "{'class': 'SimpleStrategy', 'replication_factor': 1}", "replication map used when creating the keyspace", func(c *Config) *string { return &c.CassandraReplication }, checkReplication, false},
	{"SLACK_BOT_TOKEN", "slack-bot-token", "", "Slack bot token (xoxb-...); empty disables Slack", func(c *Config) *string { return &c.SlackBotToken }, checkPrefix("xoxb-"), true},
	{"SLACK_SIGNING_SECRET", "slack-signing-secret", "", "Slack signing secret, required with SLACK_BOT_TOKEN", func(c *Config) *string { return &c.SlackSigningSecret }, nil, true},
	{"SLACK_APP_TOKEN", "slack-app-token", "", "Slack app-level token (xapp-...) to use Socket Mode", func(c *Config) *string { return &c.SlackAppToken }, checkPrefix("xapp-"), true},
	{"SLACK_API_URL", "slack-api-url", "https://slack.com/api/", "Slack Web API base URL", func(c *Config) *string { return &c.SlackAPIURL }, checkURL("http", "https"), false},
	{"BROKERSYNC_SLACK_LEASE", "slack-lease", "30s", "how long a Slack delivery being applied holds off Slack's retries of it; after a crash the first retry past it applies the delivery (1s to 5m)", func(c *Config) *string { return &c.SlackLease }, checkLease, false},
	{"BROKERSYNC_IMAP_URL", "imap-url", "", "mailbox to ingest: imaps://user:pass@host[:port] or imap://... (STARTTLS)", func(c *Config) *string { return &c.IMAPURL }, checkURL("imap", "imaps"), true},
	{"BROKERSYNC_IMAP_MAILBOXES", "imap-mailboxes", "", "file listing several mailboxes, one IMAP URL a line", func(c *Config) *string { return &c.IMAPMailboxes }, nil, false},
	{"BROKERSYNC_M365_TENANT", "m365-tenant", "", "Microsoft Entra tenant (directory id or domain) of mailboxes with auth=m365 that name no tenant=", func(c *Config) *string { return &c.M365Tenant }, nil, false},
	{"BROKERSYNC_M365_CLIENT_ID", "m365-client-id", "", "application (client) id of the Entra app reading auth=m365 mailboxes that name no client=", func(c *Config) *string { return &c.M365ClientID }, nil, false},
	{"BROKERSYNC_M365_CLIENT_SECRET", "m365-client-secret", "", "client secret of that app, for auth=m365 mailboxes with no secret_file= or cert_file=", func(c *Config) *string { return &c.M365ClientSecret }, nil, true},
	{"BROKERSYNC_M365_CERT_FILE", "m365-cert-file", "", "PEM file with that app's certificate and private key, instead of a client secret", func(c *Config) *string { return &c.M365CertFile }, nil, false},
	{"BROKERSYNC_GOOGLE_KEY_FILE", "google-key-file", "", "JSON key of the Google service account with domain-wide delegation, for auth=google mailboxes with no key_file=", func(c *Config) *string { return &c.GoogleKeyFile }, nil, false},
	{"BROKERSYNC_FIX_SETTINGS", "fix-settings", "", "quickfix session settings file of the FIX 4.4 drop-copy session(s) BrokerSync initiates; empty takes no drop copy", func(c *Config) *string { return &c.FIXSettings }, nil, false},
	{"BROKERSYNC_WEBHOOK_SECRET", "webhook-secret", "", "secret for X-BrokerSync-Signature on /webhooks/*; empty disables the webhooks", func(c *Config) *string { return &c.WebhookSecret }, nil, true},
	{"BROKERSYNC_TWILIO_AUTH_TOKEN", "twilio-auth-token", "", "Twilio auth token that signs call status and transcription callbacks on /webhooks/twilio; empty refuses them", func(c *Config) *string { return &c.TwilioAuthToken }, nil, true},
	{"BROKERSYNC_AIRCALL_TOKEN", "aircall-token", "", "token of the Aircall webhook posting to /webhooks/aircall; empty refuses it", func(c *Config) *string { return &c.AircallToken }, nil, true},
	{"BROKERSYNC_LINK_KEY", "link-key", "", "key that signs links to the web pages, at least 32 characters; empty uses a random key generated once and kept in the store", func(c *Config) *string { return &c.LinkKey }, checkMinLen(32), true},
	{"BROKERSYNC_PUBLIC_URL", "public-url", "", "public base URL of this server, for links in Slack (default http://HTTP_ADDR)", func(c *Config) *string { return &c.PublicURL }, checkURL("http", "https"), false},
	{"BROKERSYNC_SLACK_CLIENT_ID", "slack-client-id", "", "client id of the Slack app, to offer Sign in with Slack (OpenID Connect) on the web pages so they can be bookmarked; needs BROKERSYNC_SLACK_CLIENT_SECRET and a public URL whose /signin/callback is a redirect URL of the app", func(c *Config) *string { return &c.SlackClientID }, nil, false},
	{"BROKERSYNC_SLACK_CLIENT_SECRET", "slack-client-secret", "", "client secret of that Slack app", func(c *Config) *string { return &c.SlackClientSecret }, nil, true},
	{"BROKERSYNC_ADMINS", "admins", "", "Slack user ids that are BrokerSync admins, comma separated", func(c *Config) *string { return &c.Admins }, nil, false},
	{"BROKERSYNC_CATALOGUE", "catalogue", "", "commodity catalogue file (JSON) whose entries replace built-in ones with the same key and add the others", func(c *Config) *string { return &c.Catalogue }, nil, false}, // loaded by loadConfig
	{"BROKERSYNC_DORMANT_AFTER", "dormant-after", "90d", "days without a fill or real contact after which an active client becomes dormant, e.g. 60d", func(c *Config) *string { return &c.DormantAfter }, checkDays, false},
	{"BROKERSYNC_REPLICA_ID", "replica-id", "", "this replica's name in mailbox leases, the same across its restarts and different from every other replica's, so that a restarted replica takes back its mailboxes at once (default: host name and the port of BROKERSYNC_HTTP_ADDR)", func(c *Config) *string { return &c.ReplicaID }, checkReplicaID, false},
	{"BROKERSYNC_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }, checkOneOf("DEBUG", "INFO", "WARN", "ERROR"), false},
}

// loadConfig reads the environment, then flags from args, then checks every
// value. The error names the first bad setting in one line. A secret's value
// never appears in the flags' usage (its default there is empty whatever the
// environment holds) nor in an error.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	var c Config
	for _, s := range settings {
		def, help := s.def, s.help+" ("+s.env+")"
		if v := getenv(s.env); v != "" {
			if s.secret {
				help = s.help + " (" + s.env + ", set in the environment)"
			} else {
				def = v
			}
		}
		fs.StringVar(s.dst(&c), s.flag, def, help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{fmt.Sprintf("%v: %q lists the flags", err, fs.Name()+" -h")}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if v := getenv(s.env); s.secret && v != "" && !given[s.flag] {
			*s.dst(&c) = v
		}
	}
	for _, s := range settings {
		v := strings.TrimSpace(*s.dst(&c))
		*s.dst(&c) = v
		if v == "" || s.check == nil {
			continue
		}
		if err := s.check(v); err != nil {
			shown := v
			if s.secret {
				shown = redact(v)
			}
			return c, fmt.Errorf("config: %s (-%s) %s: %v", s.env, s.flag, shown, err)
		}
	}
	var err error
	if c.cat, err = loadCatalogue(c.Catalogue); err != nil {
		return c, fmt.Errorf("config: BROKERSYNC_CATALOGUE (-catalogue) %s: %v", c.Catalogue, err)
	}
	if c.DataDir == "" {
		c.DataDir = defaultDataDir()
	}
	if c.SlackBotToken != "" && c.SlackSigningSecret == "" {
		return c, fmt.Errorf("config: SLACK_SIGNING_SECRET (-slack-signing-secret) is required when SLACK_BOT_TOKEN is set")
	}
	if c.SlackAppToken != "" && c.SlackBotToken == "" {
		return c, fmt.Errorf("config: SLACK_BOT_TOKEN (-slack-bot-token) is required when SLACK_APP_TOKEN is set")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTPAddr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c, nil
}

// MailDefaults are what OAuth2 mailbox URLs leave out.
func (c Config) MailDefaults() imap.Defaults {
	secret := c.M365ClientSecret
	return imap.Defaults{M365Tenant: c.M365Tenant, M365ClientID: c.M365ClientID, M365CertFile: c.M365CertFile,
		GoogleKeyFile: c.GoogleKeyFile, Getenv: func(k string) string {
			if k == imap.M365SecretEnv {
				return secret
			}
			return ""
		}}
}

// Replica is this replica's name in mailbox leases: BROKERSYNC_REPLICA_ID,
// else the host name and the HTTP port, which no other process on the host
// can listen on and which a restarted process keeps (a port of 0 gives a
// name of its own to every run).
func (c Config) Replica() string {
	if c.ReplicaID != "" {
		return c.ReplicaID
	}
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(c.HTTPAddr)
	if host == "" || port == "" || port == "0" {
		return imap.ReplicaID()
	}
	return host + ":" + port
}

func checkReplicaID(v string) error {
	if len(v) > 200 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("is not a name of at most 200 characters without spaces")
	}
	return nil
}

// AdminIDs returns the configured admin Slack ids.
func (c Config) AdminIDs() []string { return splitList(c.Admins) }

// Hosts returns the Cassandra contact points.
func (c Config) Hosts() []string { return splitList(c.CassandraHosts) }

// splitList reads a comma-separated setting, ignoring spaces and empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (c Config) logLevel() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.LogLevel))
	return l
}

// redact shows a secret setting in an error: a URL without its password
// (postgres://brokersync:xxxxx@db/brokersync), anything else not at all.
func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(hidden)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") || strings.Contains(strings.ToLower(k), "secret") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// checkLease accepts a duration Slack's retries can outlast: Slack retries a
// failed event after about a minute and again after five.
func checkLease(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 5*time.Minute {
		return fmt.Errorf("is not a duration from 1s to 5m, such as 30s")
	}
	return nil
}

// Lease returns the Slack delivery lease (0 for the default).
func (c Config) Lease() time.Duration {
	d, _ := time.ParseDuration(c.SlackLease)
	return d
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("is not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// days reads a number of days written 60d (or 60).
func days(v string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("is not a number of days from 1d to 3650d")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func checkDays(v string) error { _, err := days(v); return err }

// DormantAfterDuration is the dormancy setting as a duration.
func (c Config) DormantAfterDuration() time.Duration {
	d, err := days(c.DormantAfter)
	if err != nil {
		return 0 // the lifecycle's default
	}
	return d
}

// loadCatalogue loads the catalogue file at path over the built-in
// catalogue; with no path, the built-in catalogue.
func loadCatalogue(path string) (*store.Catalogue, error) {
	if path == "" {
		return store.DefaultCatalogue(), nil
	}
	cat, err := store.LoadCatalogue(path)
	var se *store.Error
	if errors.As(err, &se) {
		return nil, errors.New(se.Message)
	}
	return cat, err
}

func checkMinLen(n int) func(string) error {
	return func(v string) error {
		if len(v) < n {
			return fmt.Errorf("is %d characters; use at least %d (for example: openssl rand -hex 32)", len(v), n)
		}
		return nil
	}
}

func checkHostList(v string) error {
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" || strings.ContainsAny(h, "/ ") {
			return fmt.Errorf("is not a comma-separated list of host[:port]")
		}
	}
	return nil
}

func checkURL(schemes ...string) func(string) error {
	return func(v string) error {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
			return fmt.Errorf("is not a %s:// URL", strings.Join(schemes, ":// or "))
		}
		return nil
	}
}

func checkOneOf(allowed ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(allowed, strings.ToUpper(v)) {
			return fmt.Errorf("is not one of %s", strings.ToLower(strings.Join(allowed, ", ")))
		}
		return nil
	}
}

func checkPrefix(p string) func(string) error {
	return func(v string) error {
		if !strings.HasPrefix(v, p) {
			return fmt.Errorf("does not start with %s", p)
		}
		return nil
	}
}

func checkIdent(v string) error {
	for i, r := range v {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return fmt.Errorf("is not a keyspace name (lower-case letters, digits, underscores)")
		}
	}
	return nil
}

func checkReplication(v string) error {
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") || !strings.Contains(v, "'class'") {
		return fmt.Errorf("is not a CQL replication map such as {'class': 'NetworkTopologyStrategy', 'dc1': 3}")
	}
	return nil
}
