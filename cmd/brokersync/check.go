package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/webhooks"
)

// checkMail signs in to one mailbox (rawURL) or every configured one, as
// serve would, and says what it found. It stores nothing.
func checkMail(ctx context.Context, cfg Config, rawURL string, stdout io.Writer) error {
	d := cfg.MailDefaults()
	var mailboxes []imap.MailboxConfig
	var err error
	if rawURL != "" {
		var mb imap.MailboxConfig
		if mb, err = d.ParseMailboxURL(rawURL); err != nil {
			return fmt.Errorf("check mail: %s: %w", imap.RedactURL(rawURL), err)
		}
		mailboxes = []imap.MailboxConfig{mb}
	} else {
		if mailboxes, err = d.Mailboxes(cfg.IMAPURL, cfg.IMAPMailboxes); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if len(mailboxes) == 0 {
			return usageError{"check mail: name a mailbox URL, or set BROKERSYNC_IMAP_URL or BROKERSYNC_IMAP_MAILBOXES"}
		}
	}
	failed := 0
	var last error
	for _, mb := range mailboxes {
		fmt.Fprintln(stdout, mb.String())
		r, err := imap.Check(ctx, mb, imap.Options{})
		if err != nil {
			failed++
			last = fmt.Errorf("check mail: %s: %w", mb.Label(), err)
			fmt.Fprintf(stdout, "  FAILED: %v\n", err)
			continue
		}
		how := "signed in as " + mb.Username + " with " + r.Mechanism
		if !r.TokenExpiry.IsZero() {
			how += "; the token is valid until " + r.TokenExpiry.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(stdout, "  %s\n  %d folders on the account\n", how, r.Folders)
		fmt.Fprintf(stdout, "  %s: UIDVALIDITY %d, %d messages", mb.Folder, r.UIDValidity, r.Messages)
		if r.Messages > 0 {
			fmt.Fprintf(stdout, ", newest received %s", r.Newest.UTC().Format("2006-01-02 15:04 UTC"))
			if r.NewestSubject != "" {
				fmt.Fprintf(stdout, ": %q", r.NewestSubject)
			}
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "nothing was stored")
	switch {
	case failed == 1 && len(mailboxes) == 1:
		return last
	case failed > 0:
		return fmt.Errorf("check mail: %d of %d mailboxes failed; the last: %w", failed, len(mailboxes), last)
	}
	return nil
}

// checkCalls says which telephony endpoints the settings enable and
// whether their secrets look right; with baseURL it sends the running
// serve one signed test request per endpoint, of a kind it acknowledges
// and stores nothing for, and reports the answers.
func checkCalls(ctx context.Context, cfg Config, baseURL string, stdout io.Writer) error {
	var problems []string
	enabled := 0
	public := cfg.PublicURL
	if cfg.WebhookSecret != "" {
		enabled++
		fmt.Fprintf(stdout, "/webhooks/calls    enabled: our call JSON, signed with BROKERSYNC_WEBHOOK_SECRET (%d characters)\n", len(cfg.WebhookSecret))
		if len(cfg.WebhookSecret) < 16 {
			problems = append(problems, fmt.Sprintf("BROKERSYNC_WEBHOOK_SECRET is %d characters: use at least 16 (openssl rand -hex 32)", len(cfg.WebhookSecret)))
		}
	} else {
		fmt.Fprintln(stdout, "/webhooks/calls    disabled: BROKERSYNC_WEBHOOK_SECRET is not set")
	}
	if tok := cfg.TwilioAuthToken; tok != "" {
		enabled++
		fmt.Fprintf(stdout, "/webhooks/twilio   enabled: in Twilio, set the number's call status callback and the recording's transcribe callback to\n                   %s/webhooks/twilio\n", public)
		if _, err := hex.DecodeString(tok); err != nil || len(tok) != 32 {
			problems = append(problems, fmt.Sprintf("BROKERSYNC_TWILIO_AUTH_TOKEN is %d characters and not the shape of a Twilio auth token (32 hexadecimal characters: Twilio Console, Account, API keys & tokens, Auth token; an API key secret cannot check Twilio's signatures)", len(tok)))
		}
		if u, err := url.Parse(public); err == nil {
			host := u.Hostname()
			if ip := net.ParseIP(host); host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsPrivate()) || u.Scheme != "https" {
				fmt.Fprintf(stdout, "                   note: Twilio calls only public https:// addresses; BROKERSYNC_PUBLIC_URL is %s\n", public)
			}
		}
	} else {
		fmt.Fprintln(stdout, "/webhooks/twilio   disabled: BROKERSYNC_TWILIO_AUTH_TOKEN is not set")
	}
	if tok := cfg.AircallToken; tok != "" {
		enabled++
		fmt.Fprintf(stdout, "/webhooks/aircall  enabled: in Aircall, a webhook for call.ended to %s/webhooks/aircall, its token in BROKERSYNC_AIRCALL_TOKEN\n", public)
		if strings.ContainsAny(tok, " \t\"") || len(tok) < 16 {
			problems = append(problems, fmt.Sprintf("BROKERSYNC_AIRCALL_TOKEN is %d characters: copy the webhook's token from the Aircall dashboard (Integrations, Webhook)", len(tok)))
		}
	} else {
		fmt.Fprintln(stdout, "/webhooks/aircall  disabled: BROKERSYNC_AIRCALL_TOKEN is not set")
	}
	if enabled == 0 {
		return errors.New("check calls: no call endpoint is enabled: set BROKERSYNC_WEBHOOK_SECRET, BROKERSYNC_TWILIO_AUTH_TOKEN or BROKERSYNC_AIRCALL_TOKEN")
	}
	if baseURL != "" {
		baseURL = strings.TrimRight(baseURL, "/")
		if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError{fmt.Sprintf("check calls: --url %q is not an http:// or https:// URL", baseURL)}
		}
		fmt.Fprintf(stdout, "test requests to %s (each acknowledged and stored nothing, or refused):\n", baseURL)
		client := &http.Client{Timeout: 20 * time.Second}
		for _, p := range callProbes(cfg) {
			verdict, err := p.run(ctx, client, baseURL)
			if err != nil {
				problems = append(problems, p.path+": "+err.Error())
				fmt.Fprintf(stdout, "  %-18s FAILED: %v\n", p.path, err)
				continue
			}
			fmt.Fprintf(stdout, "  %-18s ok: %s\n", p.path, verdict)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("check calls: %s", strings.Join(problems, "; "))
	}
	return nil
}

// callProbe is one signed test request that serve acknowledges without
// storing anything.
type callProbe struct {
	path        string
	contentType string
	body        []byte
	header      http.Header
	// ok reads serve's answer: what it proves, or why it is wrong.
	ok func(status int, msg string) (string, error)
}

func callProbes(cfg Config) []callProbe {
	var out []callProbe
	refused := func(what string) func(int, string) (string, error) {
		return func(status int, msg string) (string, error) {
			switch status {
			case http.StatusUnauthorized:
				return "", fmt.Errorf("serve refused the %s (401): %s", what, msg)
			case http.StatusForbidden:
				return "", fmt.Errorf("the endpoint is disabled on that serve (403): %s", msg)
			}
			return "", fmt.Errorf("unexpected answer %d: %s", status, msg)
		}
	}
	if cfg.WebhookSecret != "" {
		// An empty batch: authenticated first, then refused as empty, so
		// nothing can be stored.
		body := []byte(`{"events":[]}`)
		h := http.Header{}
		h.Set(webhooks.SignatureHeader, webhooks.Sign(cfg.WebhookSecret, time.Now(), body))
		other := refused("signature")
		out = append(out, callProbe{path: "/webhooks/calls", contentType: "application/json", body: body, header: h,
			ok: func(status int, msg string) (string, error) {
				if status == http.StatusBadRequest && strings.Contains(msg, `"events" is empty`) {
					return "the signature was accepted (an empty batch, refused as such)", nil
				}
				return other(status, msg)
			}})
	}
	if cfg.TwilioAuthToken != "" {
		// A call still ringing: signed as Twilio signs, over the public URL
		// Twilio would call; serve acknowledges it and records nothing.
		sid := make([]byte, 16)
		rand.Read(sid)
		form := url.Values{"CallSid": {"CA" + hex.EncodeToString(sid)}, "AccountSid": {"ACbrokersynccheck"},
			"From": {"+15005550006"}, "To": {"+15005550006"}, "Direction": {"inbound"}, "CallStatus": {"ringing"}, "ApiVersion": {"2010-04-01"}}
		h := http.Header{}
		h.Set(webhooks.TwilioSignatureHeader, webhooks.TwilioSignature(cfg.TwilioAuthToken, cfg.PublicURL+"/webhooks/twilio", form))
		other := refused("Twilio signature (BROKERSYNC_TWILIO_AUTH_TOKEN or BROKERSYNC_PUBLIC_URL differs there)")
		out = append(out, callProbe{path: "/webhooks/twilio", contentType: "application/x-www-form-urlencoded",
			body: []byte(form.Encode()), header: h, ok: ignoredOK("the Twilio signature over "+cfg.PublicURL+"/webhooks/twilio was accepted", other)})
	}
	if cfg.AircallToken != "" {
		body, _ := json.Marshal(map[string]any{"event": "brokersync.check", "resource": "call", "token": cfg.AircallToken,
			"timestamp": time.Now().Unix(), "data": map[string]any{}})
		out = append(out, callProbe{path: "/webhooks/aircall", contentType: "application/json", body: body,
			ok: ignoredOK("the Aircall token was accepted", refused("Aircall token"))})
	}
	return out
}

// ignoredOK accepts serve's 200 that acknowledges a request and records
// nothing.
func ignoredOK(what string, other func(int, string) (string, error)) func(int, string) (string, error) {
	return func(status int, msg string) (string, error) {
		if status == http.StatusOK && strings.Contains(msg, `"accepted":0`) {
			return what + " (acknowledged, nothing recorded)", nil
		}
		return other(status, msg)
	}
}

func (p callProbe) run(ctx context.Context, client *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+p.path, bytes.NewReader(p.body))
	if err != nil {
		return "", err
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", p.contentType)
	req.Header.Set("User-Agent", "brokersync-check/"+buildVersion())
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusOK && json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	}
	return p.ok(resp.StatusCode, msg)
}
