package imap_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/internal/oauthtest"
	"github.com/brokersync/brokersync/internal/testenv"
)

// oauthDesk is an identity provider and a real Dovecot that asks it about
// every token.
type oauthDesk struct {
	idp *oauthtest.IdP
	dc  *oauthtest.Dovecot
	dir string
}

func newOAuthDesk(t *testing.T, lifetime time.Duration) *oauthDesk {
	t.Helper()
	idp := oauthtest.NewIdP(t, lifetime)
	return &oauthDesk{idp: idp, dc: oauthtest.StartDovecot(t, idp), dir: t.TempDir()}
}

// deliver puts mail into mailbox's INBOX, as its owner's mail client
// would (PLAIN login).
func (o *oauthDesk) deliver(t *testing.T, mailbox string, msgs ...letter) {
	t.Helper()
	c, err := imapclient.DialInsecure(o.dc.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(mailbox, o.dc.Password).Wait(); err != nil {
		t.Fatalf("PLAIN login %s: %v", mailbox, err)
	}
	raws := make([][]byte, len(msgs))
	for i, m := range msgs {
		raws[i] = m.raw()
	}
	appendMail(t, c, "INBOX", raws)
}

// m365 registers an app with a secret for mailbox and returns its URL.
func (o *oauthDesk) m365(t *testing.T, mailbox, sasl string) (url string, app *oauthtest.App, secretFile string) {
	t.Helper()
	tenant, client := "tenant-"+uniq(), "client-"+uniq()
	app = o.idp.AddApp(tenant, client, "s3cret-"+uniq(), mailbox)
	secretFile = filepath.Join(o.dir, client+".secret")
	if err := os.WriteFile(secretFile, []byte(app.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url = "imap://" + mailbox + "@" + o.dc.Addr + "/INBOX?auth=m365&tenant=" + tenant + "&client=" + client +
		"&secret_file=" + secretFile + "&token_url=" + o.idp.M365TokenURL(tenant)
	if sasl != "" {
		url += "&sasl=" + sasl
	}
	return url, app, secretFile
}

func parse(t *testing.T, raw string) imap.MailboxConfig {
	t.Helper()
	cfg, err := imap.ParseMailboxURL(raw)
	if err != nil {
		t.Fatalf("ParseMailboxURL: %v", err)
	}
	return cfg
}

// A client's mail, for a mailbox of the desk.
func clientMail(u, mailbox, subject string) letter {
	return letter{id: subject + "-" + u + "@client.example", from: "Tom <tom." + u + "@reyesgrain.example>", to: []string{mailbox},
		subject: subject, body: "Please work 10 Dec corn at 4.52."}
}

// Microsoft 365 over XOAUTH2 and Google over OAUTHBEARER, each against the
// real Dovecot's oauth2 passdb: the mailbox signs in with the token its
// provider issued and its mail reaches the client's timeline.
func TestOAuthSignInAndReadMail(t *testing.T) {
	o := newOAuthDesk(t, time.Hour)
	b := openEmbedded(t, t.TempDir())
	cases := []struct {
		name string
		url  func(mailbox string) string
	}{
		{"m365 secret xoauth2", func(mb string) string { u, _, _ := o.m365(t, mb, "xoauth2"); return u }},
		{"m365 certificate oauthbearer", func(mb string) string {
			tenant, client := "tenant-"+uniq(), "client-"+uniq()
			_, pemFile := o.idp.AddCertApp(t, o.dir, tenant, client, mb)
			return "imap://" + mb + "@" + o.dc.Addr + "/INBOX?auth=m365&tenant=" + tenant + "&client=" + client +
				"&cert_file=" + pemFile + "&token_url=" + o.idp.M365TokenURL(tenant) + "&sasl=oauthbearer"
		}},
		{"google oauthbearer", func(mb string) string {
			sa := o.idp.AddServiceAccount(t, o.dir, "mail-"+uniq()+"@brokersync-test.iam.gserviceaccount.com", "desk.example")
			return "imap://" + mb + "@" + o.dc.Addr + "/INBOX?auth=google&key_file=" + sa.KeyFile + "&sasl=oauthbearer"
		}},
		{"google xoauth2", func(mb string) string {
			sa := o.idp.AddServiceAccount(t, o.dir, "mail-"+uniq()+"@brokersync-test.iam.gserviceaccount.com", "desk.example")
			return "imap://" + mb + "@" + o.dc.Addr + "/INBOX?auth=google&key_file=" + sa.KeyFile
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := uniq()
			mailbox := "jane." + u + "@desk.example"
			tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
			o.deliver(t, mailbox, clientMail(u, mailbox, "Dec corn"))
			cfg := parse(t, tc.url(mailbox))
			if cfg.OAuth == nil || strings.Contains(cfg.String(), "s3cret") {
				t.Fatalf("config %s: want OAuth and no secret", cfg)
			}
			in, reg := newIngester(t, b, cfg, nil)
			issued := o.idp.Count("token")
			if err := in.Sync(context.Background()); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if evs := timeline(t, b.timeline, tom.ID); len(evs) != 1 || !strings.Contains(evs[0].Summary, "Dec corn") {
				t.Fatalf("timeline: %d events, want the Dec corn mail", len(evs))
			}
			if got := o.idp.Count("token") - issued; got != 1 {
				t.Errorf("%d tokens issued, want 1", got)
			}
			if got := metric(t, reg, "brokersync_imap_tokens_total"); got != 1 {
				t.Errorf("brokersync_imap_tokens_total = %v, want 1", got)
			}
		})
	}
}

// A token is replaced before it expires: the next sign-in after most of
// its life has passed fetches a new one and never shows the server a
// stale token.
func TestOAuthTokenRefreshedBeforeExpiry(t *testing.T) {
	o := newOAuthDesk(t, 3*time.Second)
	b := openEmbedded(t, t.TempDir())
	u := uniq()
	mailbox := "jane." + u + "@desk.example"
	tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
	url, _, _ := o.m365(t, mailbox, "")
	in, _ := newIngester(t, b, parse(t, url), nil)
	o.deliver(t, mailbox, clientMail(u, mailbox, "first"))
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Still young: the same token signs in again.
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := o.idp.Count("token"); got != 1 {
		t.Fatalf("%d tokens issued for two sign-ins within the token's life, want 1", got)
	}
	time.Sleep(2600 * time.Millisecond) // within the last fifth of its 3s life
	o.deliver(t, mailbox, clientMail(u, mailbox, "second"))
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := o.idp.Count("token"); got != 2 {
		t.Errorf("%d tokens issued, want 2: a token near its expiry is replaced", got)
	}
	if got := o.idp.Count("introspect_inactive"); got != 0 {
		t.Errorf("Dovecot was shown %d expired tokens, want 0", got)
	}
	if evs := timeline(t, b.timeline, tom.ID); len(evs) != 2 {
		t.Errorf("timeline: %d events, want 2", len(evs))
	}
}

// A token that the provider ended before the expiry it announced is
// refused by the server; the mailbox fetches one fresh token and signs in
// with it.
func TestOAuthExpiredTokenRefreshedOnce(t *testing.T) {
	for _, sasl := range []string{"xoauth2", "oauthbearer"} {
		t.Run(sasl, func(t *testing.T) {
			t.Parallel() // each has its own Dovecot and identity provider
			o := newOAuthDesk(t, time.Hour)
			b := openEmbedded(t, t.TempDir())
			u := uniq()
			mailbox := "jane." + u + "@desk.example"
			tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
			url, _, _ := o.m365(t, mailbox, sasl)
			in, reg := newIngester(t, b, parse(t, url), nil)
			if err := in.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			o.idp.ExpireTokens()
			o.deliver(t, mailbox, clientMail(u, mailbox, "after expiry"))
			if err := in.Sync(context.Background()); err != nil {
				t.Fatalf("Sync with an expired token: %v", err)
			}
			if got := o.idp.Count("token"); got != 2 {
				t.Errorf("%d tokens issued, want 2 (one refresh)", got)
			}
			if got := o.idp.Count("introspect_inactive"); got != 1 {
				t.Errorf("the server saw %d refused tokens, want 1", got)
			}
			if got := metric(t, reg, "brokersync_imap_auth_failures_total"); got != 0 {
				t.Errorf("auth failures counted: %v, want 0", got)
			}
			if evs := timeline(t, b.timeline, tom.ID); len(evs) != 1 {
				t.Errorf("timeline: %d events, want 1", len(evs))
			}
		})
	}
}

// logCapture collects an ingester's log lines.
func logCapture() (*slog.Logger, *testenv.LogBuffer) {
	buf := &testenv.LogBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})), buf
}

// A revoked consent stops the mailbox: one log line that says why, one
// failure counted, the mailbox marked stopped, and no further token
// requests while it waits, however short the reconnect backoff; putting
// new credentials in place resumes it.
func TestOAuthRevokedConsentStopsMailbox(t *testing.T) {
	cases := []struct {
		name, reason string
		revoke       func(o *oauthDesk, owner string)
	}{
		{"token endpoint refuses (invalid_grant)", imap.ReasonConsentRevoked, func(o *oauthDesk, owner string) { o.idp.Revoke(owner, "invalid_grant") }},
		{"token endpoint refuses (unauthorized_client)", imap.ReasonConsentRevoked, func(o *oauthDesk, owner string) { o.idp.Revoke(owner, "unauthorized_client") }},
		{"server refuses a fresh token", imap.ReasonTokenRefused, func(o *oauthDesk, owner string) { o.idp.Deny(owner); o.idp.ExpireTokens() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each has its own Dovecot and identity provider
			o := newOAuthDesk(t, time.Hour)
			b := openEmbedded(t, t.TempDir())
			u := uniq()
			mailbox := "jane." + u + "@desk.example"
			tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
			url, app, secretFile := o.m365(t, mailbox, "")
			cfg := parse(t, url)
			logger, logs := logCapture()
			in, reg := newIngester(t, b, cfg, func(opts *imap.Options) {
				opts.Logger = logger
				opts.PollInterval = 200 * time.Millisecond
				opts.CredentialsPoll = 100 * time.Millisecond
			})
			o.deliver(t, mailbox, clientMail(u, mailbox, "before"))
			runInBackground(t, in)
			eventually(t, 10*time.Second, "first mail not ingested", func() bool { return len(timeline(t, b.timeline, tom.ID)) == 1 })

			tc.revoke(o, app.ClientID)
			// Drop the connection so that the mailbox must sign in again.
			dropConnections(t, o, mailbox)
			eventually(t, 30*time.Second, "mailbox not stopped", func() bool {
				return metric(t, reg, "brokersync_imap_auth_stopped") == 1
			})
			tokens := o.idp.Count("token") + o.idp.Count("token_refused")
			time.Sleep(1500 * time.Millisecond) // many backoffs' worth
			if got := o.idp.Count("token") + o.idp.Count("token_refused"); got != tokens {
				t.Errorf("%d token requests while stopped, want none", got-tokens)
			}
			if got := metric(t, reg, "brokersync_imap_auth_failures_total", "reason", tc.reason); got != 1 {
				t.Errorf("brokersync_imap_auth_failures_total{reason=%s} = %v, want 1", tc.reason, got)
			}
			if n := strings.Count(logs.String(), "mailbox stopped"); n != 1 {
				t.Errorf("%d 'mailbox stopped' lines, want 1:\n%s", n, logs)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("the stop line does not give the reason %s:\n%s", tc.reason, logs)
			}
			if strings.Contains(logs.String(), app.Secret) {
				t.Errorf("the log shows the client secret")
			}

			// The admin grants consent again and rotates the secret: the
			// new secret file resumes the mailbox without a restart.
			newApp := o.idp.AddApp(app.Tenant, app.ClientID, "rotated-"+u, mailbox)
			if err := os.WriteFile(secretFile, []byte(newApp.Secret), 0o600); err != nil {
				t.Fatal(err)
			}
			o.deliver(t, mailbox, clientMail(u, mailbox, "after"))
			eventually(t, 30*time.Second, "mailbox did not resume after the new secret", func() bool {
				return len(timeline(t, b.timeline, tom.ID)) == 2
			})
			if got := metric(t, reg, "brokersync_imap_auth_stopped"); got != 0 {
				t.Errorf("brokersync_imap_auth_stopped = %v after resuming, want 0", got)
			}
		})
	}
}

// dropConnections makes Dovecot close the mailbox's connections, as a
// restart or a network failure would.
func dropConnections(t *testing.T, o *oauthDesk, mailbox string) {
	t.Helper()
	out, err := o.dc.Doveadm("kick", mailbox)
	if err != nil {
		t.Fatalf("doveadm kick: %v\n%s", err, out)
	}
}

// A wrong client secret fails with the provider's reason, counted, and the
// secret itself shows nowhere.
func TestOAuthWrongClientSecret(t *testing.T) {
	o := newOAuthDesk(t, time.Hour)
	b := openEmbedded(t, t.TempDir())
	mailbox := "jane." + uniq() + "@desk.example"
	url, _, secretFile := o.m365(t, mailbox, "")
	if err := os.WriteFile(secretFile, []byte("not-the-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, _ := newIngester(t, b, parse(t, url), nil)
	err := in.Sync(context.Background())
	var ae *imap.AuthError
	if !errors.As(err, &ae) || ae.Reason != imap.ReasonInvalidClient || !ae.Permanent {
		t.Fatalf("Sync = %v, want a permanent invalid_client AuthError", err)
	}
	for _, want := range []string{"Microsoft Entra refused the app's client secret", "AADSTS7000215"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if bytes.Contains([]byte(err.Error()), []byte("not-the-secret")) {
		t.Errorf("the error shows the secret: %v", err)
	}
}

// A Google service account whose key was replaced (deleted at Google)
// fails as a refused key; one whose delegation was revoked, as consent
// revoked; both say so in words.
func TestOAuthGoogleRefusals(t *testing.T) {
	o := newOAuthDesk(t, time.Hour)
	b := openEmbedded(t, t.TempDir())
	mailbox := "jane." + uniq() + "@desk.example"
	sa := o.idp.AddServiceAccount(t, o.dir, "mail-"+uniq()+"@brokersync-test.iam.gserviceaccount.com", "desk.example")
	other := o.idp.AddServiceAccount(t, t.TempDir(), "other-"+uniq()+"@brokersync-test.iam.gserviceaccount.com", "desk.example")
	url := "imap://" + mailbox + "@" + o.dc.Addr + "/INBOX?auth=google&key_file=" + sa.KeyFile

	// The key file holds another account's key under this account's name.
	good, _ := os.ReadFile(sa.KeyFile)
	otherKey, _ := os.ReadFile(other.KeyFile)
	forged := strings.Replace(string(otherKey), other.Email, sa.Email, 1)
	os.WriteFile(sa.KeyFile, []byte(forged), 0o600)
	in, _ := newIngester(t, b, parse(t, url), nil)
	err := in.Sync(context.Background())
	var ae *imap.AuthError
	if !errors.As(err, &ae) || ae.Reason != imap.ReasonInvalidClient || !strings.Contains(err.Error(), "Google refused the service account's key") {
		t.Errorf("a key Google does not know: %v", err)
	}

	os.WriteFile(sa.KeyFile, good, 0o600)
	o.idp.Revoke(sa.Email, "unauthorized_client")
	in, _ = newIngester(t, b, parse(t, url), nil)
	err = in.Sync(context.Background())
	if !errors.As(err, &ae) || ae.Reason != imap.ReasonConsentRevoked || !strings.Contains(err.Error(), "may not impersonate "+mailbox) {
		t.Errorf("delegation revoked: %v", err)
	}
}
