package imap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// xoauth2 is Google's and Microsoft's XOAUTH2 SASL mechanism:
// "user=<mailbox>^Aauth=Bearer <token>^A^A". A refusal comes as a JSON
// challenge; the server says NO to whatever answers it. Google asks for an
// empty response, but go-imap writes an empty one as "=", which Dovecot
// refuses as bad base64 (BAD instead of NO); %x01, as OAUTHBEARER sends,
// ends the exchange on every server.
type xoauth2 struct {
	user, token string
	refusal     string // the JSON the server sent back, if any
}

func (m *xoauth2) Start() (string, []byte, error) {
	return MechXOAuth2, []byte("user=" + m.user + "\x01auth=Bearer " + m.token + "\x01\x01"), nil
}

func (m *xoauth2) Next(challenge []byte) ([]byte, error) {
	m.refusal = string(challenge)
	return []byte{0x01}, nil
}

// oauthBearer is RFC 7628's OAUTHBEARER from go-sasl, answering a refusal
// with the dummy response %x01 the RFC asks for, so that the server ends
// the exchange with NO instead of waiting.
type oauthBearer struct {
	sasl.Client
	refusal string
}

func (m *oauthBearer) Next(challenge []byte) ([]byte, error) {
	m.refusal = string(challenge)
	var e *sasl.OAuthBearerError
	if _, err := m.Client.Next(challenge); !errors.As(err, &e) {
		return nil, fmt.Errorf("OAUTHBEARER: unexpected challenge %q", challenge)
	}
	return []byte{0x01}, nil
}

// pickMechanism is the mechanism asked for, else the first of XOAUTH2 and
// OAUTHBEARER the server offers (XOAUTH2 when it says nothing, as some
// proxies do).
func pickMechanism(asked string, caps goimap.CapSet) string {
	if asked != "" {
		return asked
	}
	for _, m := range []string{MechXOAuth2, MechOAuthBearer} {
		if caps.Has(goimap.Cap("AUTH=" + m)) {
			return m
		}
	}
	return MechXOAuth2
}

// refused reports whether err is the server refusing the credentials
// (NO, not a temporary [UNAVAILABLE] failure or a broken connection).
func refused(err error) bool {
	var ie *goimap.Error
	if !errors.As(err, &ie) || ie.Type != goimap.StatusResponseTypeNo {
		return false
	}
	switch ie.Code {
	case goimap.ResponseCodeUnavailable, goimap.ResponseCodeServerBug:
		return false
	}
	return true
}

// saslAuth authenticates c as user with tok by mechanism mech. A refusal
// carries the JSON the server explained it with, if any.
func saslAuth(c *imapclient.Client, mech, user, tok string) error {
	var client sasl.Client
	var refusal *string
	switch mech {
	case MechOAuthBearer:
		ob := &oauthBearer{Client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: tok})}
		client, refusal = ob, &ob.refusal
	default:
		x := &xoauth2{user: user, token: tok}
		client, refusal = x, &x.refusal
	}
	err := c.Authenticate(client)
	if err != nil && json.Valid([]byte(*refusal)) {
		err = fmt.Errorf("%w %s", err, strings.TrimSpace(*refusal))
	}
	return err
}

// signIn authenticates an OAuth2 mailbox on c: with the cached token, and,
// if the server refuses it, once more with a fresh one. A fresh token
// refused is a permanent AuthError.
func (in *Ingester) signIn(ctx context.Context, c *imapclient.Client) (mech string, err error) {
	cfg := in.cfg
	mech = pickMechanism(cfg.OAuth.Mechanism, c.Caps())
	label := cfg.Label()
	for attempt := 0; ; attempt++ {
		tok, fresh, err := in.tokens.token(ctx)
		if err != nil {
			return mech, err
		}
		if fresh {
			in.metrics.tokens.WithLabelValues(label).Inc()
		}
		err = saslAuth(c, mech, cfg.Username, tok.AccessToken)
		if err == nil {
			return mech, nil
		}
		if !refused(err) {
			return mech, fmt.Errorf("%s with %s as %s: %w", mech, cfg.Addr, cfg.Username, err)
		}
		in.tokens.invalidate(tok)
		if fresh || attempt > 0 {
			return mech, &AuthError{Reason: ReasonTokenRefused, Permanent: true,
				msg: fmt.Sprintf("%s refused a fresh token for %s (%s): the app may not open this mailbox (consent revoked, or no mailbox permission)", cfg.Addr, cfg.Username, mech),
				Err: err}
		}
		in.log.Info("the server refused the token; fetching a fresh one", slog.String("mechanism", mech))
	}
}
