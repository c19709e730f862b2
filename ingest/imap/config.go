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
}

// Label is account/folder, as shown in logs, metrics and event attributes.
func (c MailboxConfig) Label() string { return c.Account + "/" + c.Folder }

// String describes the mailbox without its password.
func (c MailboxConfig) String() string {
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
	var out []MailboxConfig
	seen := map[string]string{}
	add := func(where, raw string) error {
		c, err := ParseMailboxURL(raw)
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
	if c.Username == "" || c.Password == "" {
		return c, fmt.Errorf("%s: no user name or password: write %s://user:password@%s/Folder (percent-encode @ and : in them)", u.Host, u.Scheme, u.Host)
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
	q := u.Query()
	for k := range q {
		switch k {
		case "broker", "email", "idle":
		default:
			return c, fmt.Errorf("%s: unknown parameter %q (known: broker, email, idle)", c.Label(), k)
		}
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
