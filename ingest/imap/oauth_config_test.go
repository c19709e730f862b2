package imap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/ingest/imap"
)

func TestParseOAuthMailboxURL(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	env := map[string]string{imap.M365SecretEnv: "from-env"}
	d := imap.Defaults{M365Tenant: "contoso.onmicrosoft.com", M365ClientID: "app-1", Getenv: func(k string) string { return env[k] }}

	c, err := d.ParseMailboxURL("imaps://jane@desk.example@outlook.office365.com/INBOX?auth=m365&tenant=t-1&client=c-1&secret_file=" + secret + "&broker=U1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "jane@desk.example" || c.Host != "outlook.office365.com" || c.Addr != "outlook.office365.com:993" ||
		c.OAuth == nil || c.OAuth.Tenant != "t-1" || c.OAuth.ClientID != "c-1" || c.OAuth.SecretFile != secret || c.Owner != "jane@desk.example" {
		t.Fatalf("parsed %+v %+v", c, c.OAuth)
	}
	if strings.Contains(c.String(), "s3cret") || !strings.Contains(c.String(), "Microsoft 365 app c-1 of tenant t-1") {
		t.Errorf("String() = %q", c.String())
	}

	// Tenant, client and secret from the environment's defaults.
	c, err = d.ParseMailboxURL("imaps://luis@desk.example@outlook.office365.com?auth=m365")
	if err != nil {
		t.Fatal(err)
	}
	if c.OAuth.Tenant != "contoso.onmicrosoft.com" || c.OAuth.ClientID != "app-1" || c.OAuth.SecretEnv != imap.M365SecretEnv {
		t.Errorf("defaults not applied: %+v", c.OAuth)
	}

	bad := map[string]string{
		"imaps://jane@desk.example:pw@outlook.office365.com?auth=m365":                           "leave the password out",
		"imaps://jane@desk.example@outlook.office365.com?auth=m365&secret=abc":                   "would put a secret in the URL",
		"imaps://jane@desk.example@outlook.office365.com?auth=m365&client_secret=abc":            "would put a secret in the URL",
		"imaps://jane@desk.example@imap.gmail.com?auth=google":                                   "needs the service account's JSON key",
		"imaps://jane@desk.example@imap.gmail.com?auth=google&key_file=/nonexistent/key.json":    "no such file",
		"imaps://jane@desk.example@outlook.office365.com?auth=m365&sasl=plain":                   "use xoauth2 or oauthbearer",
		"imaps://jane@desk.example@outlook.office365.com?auth=m365&token_url=http://idp.example": "use an https:// URL",
		"imaps://jane@desk.example@outlook.office365.com?auth=kerberos":                          "use m365 or google",
		"imaps://jane%40desk.example:pw@outlook.office365.com?tenant=x":                          "unknown parameter",
		"imaps://outlook.office365.com?auth=m365":                                                "no mailbox",
	}
	for raw, want := range bad {
		_, err := d.ParseMailboxURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", raw, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), ":pw@")) {
			t.Errorf("%s: the error shows the secret: %v", raw, err)
		}
	}
	noSecret := imap.Defaults{Getenv: func(string) string { return "" }}
	if _, err := noSecret.ParseMailboxURL("imaps://jane@desk.example@outlook.office365.com?auth=m365&tenant=t&client=c"); err == nil ||
		!strings.Contains(err.Error(), "BROKERSYNC_M365_CLIENT_SECRET") {
		t.Errorf("no secret anywhere: err %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"imaps://jane:hunter2@mail.example/INBOX":                  "imaps://jane:xxxxx@mail.example/INBOX",
		"imaps://jane@x@o.example/INBOX?auth=m365&secret=abc":      "imaps://jane%40x@o.example/INBOX?auth=m365&secret=xxxxx",
		"imaps://jane@x@o.example/INBOX?auth=m365&secret_file=/s":  "imaps://jane%40x@o.example/INBOX?auth=m365&secret_file=%2Fs",
		"imaps://jane@x@o.example/INBOX?client_secret=abc&token=t": "imaps://jane%40x@o.example/INBOX?client_secret=xxxxx&token=xxxxx",
	} {
		if got := imap.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%s) = %s, want %s", raw, got, want)
		}
	}
}
