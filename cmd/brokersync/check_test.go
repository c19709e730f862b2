package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/brokersync/brokersync/internal/oauthtest"
	"github.com/brokersync/brokersync/internal/testenv"
)

// check mail signs in to a Microsoft 365 mailbox with the app's token (the
// real Dovecot asks the test identity provider), says what is there and
// stores nothing; a wrong client secret fails with Entra's reason and never
// shows the secret.
func TestCheckMailOAuth(t *testing.T) {
	idp := oauthtest.NewIdP(t, time.Hour)
	dc := oauthtest.StartDovecot(t, idp)
	dir := t.TempDir()
	mailbox := "jane.check@desk.example"
	app := idp.AddApp("tenant-check", "client-check", "the-right-secret", mailbox)

	c, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(mailbox, dc.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Sent", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msg := "From: tom@reyesgrain.example\r\nTo: " + mailbox + "\r\nSubject: Dec corn order\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\nMessage-ID: <check-1@reyesgrain.example>\r\n\r\nWork 10 Dec corn.\r\n"
	for i := 0; i < 3; i++ {
		cmd := c.Append("INBOX", int64(len(msg)), &goimap.AppendOptions{Time: time.Date(2026, 12, 7, 9, i, 0, 0, time.UTC)})
		cmd.Write([]byte(msg))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()

	secretFile := filepath.Join(dir, "m365-secret")
	os.WriteFile(secretFile, []byte(app.Secret), 0o600)
	url := "imap://" + mailbox + "@" + dc.Addr + "/INBOX?auth=m365&token_url=" + idp.M365TokenURL("tenant-check")
	getenv := env(t, "BROKERSYNC_M365_TENANT", "tenant-check", "BROKERSYNC_M365_CLIENT_ID", "client-check",
		"BROKERSYNC_M365_CLIENT_SECRET", app.Secret)
	out, err := runCmd(t, getenv, "", "check", "mail", url)
	if err != nil {
		t.Fatalf("check mail: %v\n%s", err, out)
	}
	for _, want := range []string{"signed in as " + mailbox + " with XOAUTH2", "the token is valid until", "2 folders on the account",
		"INBOX: UIDVALIDITY ", ", 3 messages, newest received 2026-12-07 09:02 UTC: \"Dec corn order\"", "nothing was stored"} {
		if !strings.Contains(out, want) {
			t.Errorf("check mail says:\n%s\nwant %q", out, want)
		}
	}
	if strings.Contains(out, app.Secret) {
		t.Errorf("check mail shows the secret:\n%s", out)
	}

	// OAUTHBEARER and a secret file named in the URL.
	out, err = runCmd(t, env(t), "", "check", "mail", url+"&tenant=tenant-check&client=client-check&secret_file="+secretFile+"&sasl=oauthbearer")
	if err != nil || !strings.Contains(out, "with OAUTHBEARER") {
		t.Fatalf("check mail over OAUTHBEARER: %v\n%s", err, out)
	}

	// The wrong secret: a clear failure, no secret shown.
	getenv = env(t, "BROKERSYNC_M365_TENANT", "tenant-check", "BROKERSYNC_M365_CLIENT_ID", "client-check",
		"BROKERSYNC_M365_CLIENT_SECRET", "a-wrong-secret")
	out, err = runCmd(t, getenv, "", "check", "mail", url)
	if err == nil {
		t.Fatalf("check mail with a wrong secret succeeded:\n%s", out)
	}
	for _, want := range []string{"Microsoft Entra refused the app's client secret", "invalid_client", "AADSTS7000215"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error()+out, "a-wrong-secret") {
		t.Errorf("the failure shows the secret: %v\n%s", err, out)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit status %d, want 1", exitCode(err))
	}

	// A password in an auth=m365 URL is refused without being shown.
	_, err = runCmd(t, getenv, "", "check", "mail", "imaps://jane%40desk.example:hunter2@outlook.office365.com/INBOX?auth=m365")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "leave the password out") {
		t.Errorf("password with auth=m365: %v", err)
	}
}

// check mail with a password mailbox of the shared test Dovecot, and a
// wrong password refused.
func TestCheckMailPassword(t *testing.T) {
	addr := testenv.IMAPAddr(t)
	users, pass := os.Getenv("BROKERSYNC_TEST_IMAP_USERS"), os.Getenv("BROKERSYNC_TEST_IMAP_PASSWORD")
	user := strings.Split(users, ",")[0]
	out, err := runCmd(t, env(t, "BROKERSYNC_IMAP_URL", "imap://"+user+":"+pass+"@"+addr+"/INBOX"), "", "check", "mail")
	if err != nil || !strings.Contains(out, "signed in as "+user+" with LOGIN") || !strings.Contains(out, "INBOX: UIDVALIDITY") {
		t.Fatalf("check mail: %v\n%s", err, out)
	}
	out, err = runCmd(t, env(t), "", "check", "mail", "imap://"+user+":wrong-pass@"+addr+"/INBOX")
	if err == nil || !strings.Contains(err.Error(), "the server refused the user name or password") {
		t.Fatalf("wrong password: %v\n%s", err, out)
	}
	if strings.Contains(err.Error()+out, "wrong-pass") {
		t.Errorf("the failure shows the password: %v\n%s", err, out)
	}
}

// check calls names what the settings enable, refuses a token that cannot
// be Twilio's, and with --url sends a running serve one signed request per
// endpoint, which serve acknowledges and stores nothing for; a serve with
// another Twilio token refuses it and check calls says so.
func TestCheckCalls(t *testing.T) {
	twilio := "0123456789abcdef0123456789abcdef"
	out, err := runCmd(t, env(t, "BROKERSYNC_TWILIO_AUTH_TOKEN", "SKnotatwiliotoken"), "", "check", "calls")
	if err == nil || !strings.Contains(err.Error(), "not the shape of a Twilio auth token") || strings.Contains(err.Error(), "SKnotatwiliotoken") {
		t.Errorf("a token of the wrong shape: %v\n%s", err, out)
	}
	if _, err := runCmd(t, env(t), "", "check", "calls"); err == nil || !strings.Contains(err.Error(), "no call endpoint is enabled") {
		t.Errorf("nothing enabled: %v", err)
	}

	addr := freeAddr(t)
	settings := []string{"BROKERSYNC_HTTP_ADDR", addr, "BROKERSYNC_WEBHOOK_SECRET", "whsec-0123456789abcdef",
		"BROKERSYNC_TWILIO_AUTH_TOKEN", twilio, "BROKERSYNC_AIRCALL_TOKEN", "aircall-token-0123456789",
		"BROKERSYNC_PUBLIC_URL", "https://brokersync.desk.example"}
	serveEnv := env(t, settings...)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, serveEnv) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, err := get("http://" + addr + "/healthz")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	out, err = runCmd(t, env(t, settings...), "", "check", "calls", "--url", "http://"+addr)
	if err != nil {
		t.Fatalf("check calls: %v\n%s", err, out)
	}
	for _, want := range []string{"/webhooks/twilio   enabled", "https://brokersync.desk.example/webhooks/twilio",
		"/webhooks/calls    ok: the signature was accepted", "/webhooks/twilio   ok: the Twilio signature over https://brokersync.desk.example/webhooks/twilio was accepted",
		"/webhooks/aircall  ok: the Aircall token was accepted"} {
		if !strings.Contains(out, want) {
			t.Errorf("check calls says:\n%s\nwant %q", out, want)
		}
	}

	// This side has another Twilio token than serve, and another public URL.
	other := append([]string{}, settings...)
	other[5] = "fedcba9876543210fedcba9876543210"
	out, err = runCmd(t, env(t, other...), "", "check", "calls", "--url", "http://"+addr)
	if err == nil || !strings.Contains(err.Error(), "/webhooks/twilio: serve refused the Twilio signature") {
		t.Errorf("another Twilio token: %v\n%s", err, out)
	}
	if !strings.Contains(out, "/webhooks/calls    ok") || !strings.Contains(out, "/webhooks/twilio   FAILED") {
		t.Errorf("check calls says:\n%s", out)
	}
}
