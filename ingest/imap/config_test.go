package imap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/ingest/imap"
)

func TestParseMailboxURL(t *testing.T) {
	tests := []struct {
		url  string
		want imap.MailboxConfig
	}{
		{"imaps://jane%40desk.example:p%40ss@imap.example.com",
			imap.MailboxConfig{Account: "jane@desk.example@imap.example.com", Addr: "imap.example.com:993", Host: "imap.example.com", Security: imap.TLS,
				Username: "jane@desk.example", Password: "p@ss", Folder: "INBOX", Owner: "jane@desk.example", Broker: "jane@desk.example"}},
		{"imap://jane:pw@imap.example.com/Sent%20Items?broker=U123&email=Jane@Desk.example",
			imap.MailboxConfig{Account: "jane@imap.example.com", Addr: "imap.example.com:143", Host: "imap.example.com", Security: imap.StartTLS,
				Username: "jane", Password: "pw", Folder: "Sent Items", Owner: "jane@desk.example", Broker: "U123"}},
		{"imap://log:pw@127.0.0.1:10143/inbox?idle=off",
			imap.MailboxConfig{Account: "log@127.0.0.1:10143", Addr: "127.0.0.1:10143", Host: "127.0.0.1", Security: imap.Plaintext,
				Username: "log", Password: "pw", Folder: "INBOX", Broker: "log", NoIdle: true}},
		{"imap://log:pw@localhost/Archive/2025",
			imap.MailboxConfig{Account: "log@localhost", Addr: "localhost:143", Host: "localhost", Security: imap.Plaintext,
				Username: "log", Password: "pw", Folder: "Archive/2025", Broker: "log"}},
		{"imap://log:pw@[::1]:1143/",
			imap.MailboxConfig{Account: "log@::1:1143", Addr: "[::1]:1143", Host: "::1", Security: imap.Plaintext,
				Username: "log", Password: "pw", Folder: "INBOX", Broker: "log"}},
	}
	for _, tc := range tests {
		got, err := imap.ParseMailboxURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.url, got, tc.want)
		}
	}
}

func TestParseMailboxURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://u:hunter2@imap.example.com", "scheme"},
		{"imaps://imap.example.com", "no user name or password"},
		{"imaps://u@imap.example.com", "no user name or password"},
		{"imaps://u:hunter2@/INBOX", "no host"},
		{"imaps://u:hunter2@imap.example.com/?brokr=U1", `unknown parameter "brokr"`},
		{"imaps://u:hunter2@imap.example.com/?idle=sometimes", "idle"},
		{"imaps://u:hunter2@imap.example.com/?email=jane", "not an address"},
		{"imaps://u:hunter2@imap.example.com:99999999x/", "not a URL"},
	}
	for _, tc := range tests {
		_, err := imap.ParseMailboxURL(tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %q", tc.url, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", tc.url, err)
		}
	}
}

func TestMailboxes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mailboxes")
	os.WriteFile(file, []byte(`# the desk's mailboxes
imaps://anna%40desk.example:pw@imap.example.com/INBOX?broker=U0ANNA

imaps://anna%40desk.example:pw@imap.example.com/Sent?broker=U0ANNA
  imaps://log%40desk.example:pw@imap.example.com
`), 0o600)
	got, err := imap.Mailboxes("imaps://ben%40desk.example:pw@imap.example.com/?broker=U0BEN", file)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, m := range got {
		labels = append(labels, m.Label())
	}
	want := "ben@desk.example@imap.example.com/INBOX anna@desk.example@imap.example.com/INBOX anna@desk.example@imap.example.com/Sent log@desk.example@imap.example.com/INBOX"
	if strings.Join(labels, " ") != want {
		t.Errorf("got %v\nwant %s", labels, want)
	}

	if got, err := imap.Mailboxes("", ""); err != nil || len(got) != 0 {
		t.Errorf("nothing configured: %v, %v; want no mailboxes and no error", got, err)
	}

	os.WriteFile(file, []byte("imaps://a:hunter2@h/INBOX\nimaps://a:hunter2@h/inbox\n"), 0o600)
	if _, err := imap.Mailboxes("", file); err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "already listed") {
		t.Errorf("a folder listed twice: %v, want an error naming line 2", err)
	}
	os.WriteFile(file, []byte("# only comments\n"), 0o600)
	if _, err := imap.Mailboxes("", file); err == nil {
		t.Error("a file without mailboxes was accepted")
	}
	os.WriteFile(file, []byte("\nimaps://a:hunter2@h/?x=1\n"), 0o600)
	if _, err := imap.Mailboxes("", file); err == nil || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad line: %v, want an error naming line 2 without the password", err)
	}
	if _, err := imap.Mailboxes("", filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}
