// Package web serves BrokerSync's web pages: a client's visual timeline,
// reached from a link the bot posts in Slack.
//
// Slack users are not logged in to the web server, so a link carries its own
// proof: the handle, the Slack user it was made for and an expiry, signed
// with the server's link key (BROKERSYNC_LINK_KEY, else a random key kept in
// the store; never a secret that anyone else holds). A link proves only who
// asked for it: every view checks again that this user may see the client
// now, so leaving a desk, or the client moving to another desk, closes the
// link at once.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// LinkTTL is how long a timeline link stays valid.
const LinkTTL = 24 * time.Hour

// linkClockSkew is how far ahead of this server's clock the replica that
// made a link may run: an expiry later than now+LinkTTL+linkClockSkew was
// not made by BrokerSync and is refused.
const linkClockSkew = time.Minute

// Links makes and checks signed timeline links.
type Links struct {
	BaseURL string // public base URL, no trailing slash
	Key     []byte // at least 32 bytes; a Links without a key verifies nothing
}

// mac is msg's HMAC-SHA256 under the link key, in hex: what links,
// sessions and the sign-in cookie are signed with. Each signs its words
// after a prefix of its own ("link", "session", "signin"), so no value of
// one can ever be taken for another's.
func (l Links) mac(msg string) string {
	m := hmac.New(sha256.New, l.Key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func (l Links) sign(handle, user string, exp int64) string {
	return l.mac("link\x00" + handle + "\x00" + user + "\x00" + strconv.FormatInt(exp, 10))
}

// query is a link's signed query for subject and user, valid for LinkTTL.
func (l Links) query(subject, user string, now time.Time) string {
	exp := now.Add(LinkTTL).Unix()
	q := url.Values{"u": {user}, "exp": {strconv.FormatInt(exp, 10)}, "sig": {l.sign(subject, user, exp)}}
	return q.Encode()
}

// Timeline returns a link to handle's timeline for user, valid for LinkTTL.
func (l Links) Timeline(handle, user string, now time.Time) string {
	return l.BaseURL + "/clients/" + url.PathEscape(handle) + "/timeline?" + l.query(handle, user, now)
}

// Verify checks a link's query for handle; it returns the user the link was
// made for. A link that has expired, or whose expiry lies further ahead than
// any link this server makes (a forged or future link), is refused.
func (l Links) Verify(handle string, q url.Values, now time.Time) (string, bool) {
	user := q.Get("u")
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil || len(l.Key) == 0 || user == "" || now.Unix() > exp || exp > now.Add(LinkTTL+linkClockSkew).Unix() {
		return "", false
	}
	want := l.sign(handle, user, exp)
	if !hmac.Equal([]byte(want), []byte(q.Get("sig"))) {
		return "", false
	}
	return user, true
}

// deskSubject is what a desk link is signed for: no client handle can be
// it, so a desk link never opens a client's page nor the other way round.
const deskSubject = "\x01desk"

// Desk returns a link to the desk pages for user, valid for LinkTTL.
func (l Links) Desk(user string, now time.Time) string { return l.DeskPage(user, "", false, now) }

// DeskPage returns a link for user, valid for LinkTTL, to the desk page of
// desk ("" for every desk the user sees) or, with digest, to the managers'
// digest page. Like every link it proves only whom it was made for: the
// pages check that user's rights to the desk on every view.
func (l Links) DeskPage(user, desk string, digest bool, now time.Time) string {
	path := "/desk"
	if digest {
		path = "/desk/digest"
	}
	link := l.BaseURL + path + "?" + l.query(deskSubject, user, now)
	if desk != "" {
		link += "&" + url.Values{"desk": {desk}}.Encode()
	}
	return link
}
