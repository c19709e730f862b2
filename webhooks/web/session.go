package web

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SessionTTL is how long a session opened by a link lasts.
const SessionTTL = 12 * time.Hour

// sessionCookie names the cookie that keeps a viewer signed in between pages.
const sessionCookie = "brokersync_session"

// A session is a cookie "user.expiry.signature", signed with the link key
// for another purpose than links, so that neither can pass for the other.
// It proves only who opened a link: every page asks again what that user
// may see now. Changing the link key ends every session and every link.
func (l Links) sessionSig(user string, exp int64) string {
	return l.mac("session\x00" + user + "\x00" + strconv.FormatInt(exp, 10))
}

// secure reports whether cookies are for HTTPS only: when the public URL is.
func (l Links) secure() bool { return strings.HasPrefix(strings.ToLower(l.BaseURL), "https://") }

// NewSession returns the session cookie for user, from now.
func (l Links) NewSession(user string, now time.Time) *http.Cookie {
	exp := now.Add(SessionTTL)
	return &http.Cookie{
		Name:     sessionCookie,
		Value:    user + "." + strconv.FormatInt(exp.Unix(), 10) + "." + l.sessionSig(user, exp.Unix()),
		Path:     "/",
		Expires:  exp,
		MaxAge:   int(SessionTTL / time.Second),
		Secure:   l.secure(),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// VerifySession returns the user of a session cookie's value; an expired,
// forged or altered session, or one longer than any session this server
// opens, is refused.
func (l Links) VerifySession(value string, now time.Time) (string, bool) {
	parts := strings.Split(value, ".")
	if len(parts) != 3 || len(l.Key) == 0 || parts[0] == "" {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() > exp || exp > now.Add(SessionTTL+linkClockSkew).Unix() {
		return "", false
	}
	if !hmac.Equal([]byte(l.sessionSig(parts[0], exp)), []byte(parts[2])) {
		return "", false
	}
	return parts[0], true
}
