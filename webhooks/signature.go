package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries an inbound webhook's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">". A sender rotating
// secrets may send several v1 values; one matching is enough.
const SignatureHeader = "X-BrokerSync-Signature"

// ReplayWindow is how far a signature's timestamp may be from our clock. A
// captured request replayed later is refused even though its signature is
// valid; within the window, event ids make a replay harmless.
const ReplayWindow = 5 * time.Minute

// Sign returns the SignatureHeader value for body sent at t. Senders and
// tests use it; the server only verifies.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// errUnsigned is returned when a request carries no signature at all, so
// that the market endpoint can fall back to its token.
var errUnsigned = errors.New("missing " + SignatureHeader + " header: sign the body as t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">")

// VerifySignature checks header against body and the secret: the timestamp
// must lie within ReplayWindow of now and one v1 value must match. The
// comparison takes the same time however many leading bytes match. The
// error says what is wrong, never what the right signature would be.
func VerifySignature(secret, header string, body []byte, now time.Time) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return errUnsigned
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("malformed %s header: %q is not key=value", SignatureHeader, part)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
		// Other schemes (v0, a future v2) are ignored, so senders can add
		// one before we accept it.
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("malformed %s header: t must be the Unix time in seconds", SignatureHeader)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("malformed %s header: no v1 signature (64 hex digits)", SignatureHeader)
	}
	age := now.Sub(time.Unix(unix, 0))
	if age > ReplayWindow {
		return fmt.Errorf("signature timestamp is %s old; requests older than %s are refused (check the sender's clock)", age.Round(time.Second), ReplayWindow)
	}
	if age < -ReplayWindow {
		return fmt.Errorf("signature timestamp is %s in the future; check the sender's clock", (-age).Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return errors.New("signature does not match the body: sign \"t.body\" with BROKERSYNC_WEBHOOK_SECRET")
}

// tokenMatches compares a query-string token with the secret without
// leaking their lengths or common prefix through timing.
func tokenMatches(secret, token string) bool {
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(token))
	return token != "" && subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
