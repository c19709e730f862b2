package imap_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/internal/testenv"
)

// dovecot is the real IMAP server `make test` starts (scripts/services.sh).
type dovecot struct {
	addr     string
	users    []string
	password string
}

func needDovecot(t testing.TB) *dovecot {
	t.Helper()
	d := &dovecot{addr: testenv.IMAPAddr(t), password: os.Getenv("BROKERSYNC_TEST_IMAP_PASSWORD"),
		users: strings.Split(os.Getenv("BROKERSYNC_TEST_IMAP_USERS"), ",")}
	if d.password == "" || len(d.users) < 2 || d.users[0] == "" {
		t.Fatalf("BROKERSYNC_TEST_IMAP_USERS (two or more) and BROKERSYNC_TEST_IMAP_PASSWORD must be set with BROKERSYNC_TEST_IMAP_ADDR")
	}
	return d
}

// login opens a session of the test's own, as a mail client would: to
// append mail, recreate folders and look at flags.
func (d *dovecot) login(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(d.addr, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", d.addr, err)
	}
	if err := c.Login(user, d.password).Wait(); err != nil {
		c.Close()
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// folder creates a folder of the test's own, deleted at the end: tests and
// parallel runs never share one.
func (d *dovecot) folder(t testing.TB, c *imapclient.Client) string {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	name := "bstest-" + hex.EncodeToString(b)
	if err := c.Create(name, nil).Wait(); err != nil {
		t.Fatalf("create folder %s: %v", name, err)
	}
	t.Cleanup(func() { c.Delete(name).Wait() })
	return name
}

// url is the mailbox URL an operator would write for user's folder.
func (d *dovecot) url(user, folder, query string) string {
	raw := fmt.Sprintf("imap://%s:%s@%s/%s", url.PathEscape(user), url.PathEscape(d.password), d.addr, url.PathEscape(folder))
	if query != "" {
		raw += "?" + query
	}
	return raw
}

func (d *dovecot) mailbox(t testing.TB, user, folder, query string) imap.MailboxConfig {
	t.Helper()
	cfg, err := imap.ParseMailboxURL(d.url(user, folder, query))
	if err != nil {
		t.Fatalf("ParseMailboxURL: %v", err)
	}
	return cfg
}

// appendMail appends raw messages with their flags (nil: none), in order.
func appendMail(t testing.TB, c *imapclient.Client, folder string, msgs [][]byte, flags ...[]goimap.Flag) {
	t.Helper()
	for i, raw := range msgs {
		opts := &goimap.AppendOptions{Time: time.Date(2025, 3, 3, 9, 0, i, 0, time.UTC)}
		if i < len(flags) {
			opts.Flags = flags[i]
		}
		cmd := c.Append(folder, int64(len(raw)), opts)
		if _, err := cmd.Write(raw); err != nil {
			t.Fatalf("append: %v", err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append: %v", err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append to %s: %v", folder, err)
		}
	}
}

// flagsOf returns each message's flags by UID, read without changing them.
func flagsOf(t testing.TB, c *imapclient.Client, folder string) map[goimap.UID][]goimap.Flag {
	t.Helper()
	if _, err := c.Select(folder, &goimap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("examine %s: %v", folder, err)
	}
	defer func() { c.Unselect().Wait() }()
	bufs, err := c.Fetch(goimap.UIDSet{{Start: 1, Stop: 0}}, &goimap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatalf("fetch flags: %v", err)
	}
	out := map[goimap.UID][]goimap.Flag{}
	for _, b := range bufs {
		f := slices.Clone(b.Flags)
		slices.Sort(f)
		out[b.UID] = f
	}
	return out
}

func uidValidity(t testing.TB, c *imapclient.Client, folder string) uint32 {
	t.Helper()
	st, err := c.Status(folder, &goimap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatalf("status %s: %v", folder, err)
	}
	return st.UIDValidity
}

// letter is a mail to build for a test.
type letter struct {
	id       string // Message-ID without <>; "" for none
	from     string
	to, cc   []string
	subject  string
	body     string
	date     time.Time
	inReply  string
	attach   string // a file name: adds a small PDF part
	padBytes int    // extra body text, to make a large mail
}

func (l letter) raw() []byte {
	var b strings.Builder
	date := l.date
	if date.IsZero() {
		date = time.Date(2025, 3, 3, 8, 1, 57, 0, time.FixedZone("CST", -6*3600))
	}
	fmt.Fprintf(&b, "From: %s\r\n", l.from)
	if len(l.to) > 0 {
		fmt.Fprintf(&b, "To: %s\r\n", strings.Join(l.to, ", "))
	}
	if len(l.cc) > 0 {
		fmt.Fprintf(&b, "Cc: %s\r\n", strings.Join(l.cc, ", "))
	}
	fmt.Fprintf(&b, "Subject: %s\r\nDate: %s\r\n", l.subject, date.Format(time.RFC1123Z))
	if l.id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", l.id)
	}
	if l.inReply != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", l.inReply, l.inReply)
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	body := l.body
	if l.padBytes > 0 {
		body += "\r\n\r\n" + strings.Repeat("Position report line: ZCZ5 long 10 @ 4.52, ZSF6 short 5 @ 10.31.\r\n", l.padBytes/68+1)
	}
	if l.attach == "" {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(body)
		b.WriteString("\r\n")
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	b.WriteString("--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(body)
	fmt.Fprintf(&b, "\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", l.attach)
	b.WriteString("JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK\r\n")
	b.WriteString("--b1--\r\n")
	return []byte(b.String())
}

// uniq returns a random token for addresses and Message-IDs, so that tests
// and runs sharing a database never see each other's clients or events.
func uniq() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
