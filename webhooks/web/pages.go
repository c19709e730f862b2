// Package web serves BrokerSync's web pages: a client's visual timeline and
// profile, reached from a link the bot posts in Slack.
//
// Slack users are not logged in to the web server, so a link carries its own
// proof: the handle, the Slack user it was made for and an expiry, signed
// with the server's link key (BROKERSYNC_LINK_KEY, else a random key kept in
// the store; never a secret that anyone else holds). Opening a link sets a
// session cookie bound to that Slack user (HttpOnly, SameSite=Lax, Secure
// when the public URL is https) and sends the browser on to the same page
// without the link's proof in its address. A link or a session proves only
// who opened it: every page checks again that this user may see the client
// now, so leaving a desk, or the client moving to another desk, closes the
// pages at once.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed assets/favicon.svg
var favicon []byte

// Rights says whether a user may see a client of a desk now (bot.Rights,
// the rules every command follows).
type Rights interface {
	CanSee(ctx context.Context, user, desk string) (bool, error)
}

// KYCRights, when Rights has it too, says whether a user may read a
// client's know-your-customer facts; without it no page shows them, only
// which are on file.
type KYCRights interface {
	CanSeeKYC(ctx context.Context, user string, c *store.Client) (bool, error)
}

// Pages serves the web pages. Rights is required: without it every link is
// refused.
type Pages struct {
	Clients  store.ClientStore
	Timeline store.TimelineStore
	Links    Links
	Rights   Rights
	Now      func() time.Time
	Logger   *slog.Logger
	// Names shows Slack users and channels by name, and gives the viewer's
	// time zone (the Slack directory, cached); nil shows ids plainly.
	Names *bot.Names
	// Trades and Sentiment, when set, add the client's trading and
	// sentiment statistics to the profile.
	Trades    store.TradeStore
	Sentiment store.SentimentStore
	// Segments, when set, adds the segment filter box and the saved
	// segments to the desk page.
	Segments bot.Segments
	// Reminders, when set, lists the follow-ups due and overdue on the
	// desk page.
	Reminders store.ReminderStore
	// Digests, when set, shows managers their desks' digest as a page.
	Digests *reminders.DigestBuilder
	// Teams, when set, lets admins pick any desk with someone on it.
	Teams store.TeamStore
	// SignIn, when set, offers "Sign in with Slack" to a browser without
	// a session (bookmarks), instead of refusing it.
	SignIn *SignIn

	tmpl *template.Template
}

// Mount adds the pages to r.
func (p *Pages) Mount(r chi.Router) {
	p.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"kindIcon":  kindIcon,
		"riskLabel": store.RiskLabel,
		"sentClass": sentimentClass,
		"join":      strings.Join,
		"duration":  store.FormatDuration,
		"num":       formatNumber,
		"money":     formatMoney,
		"pct":       func(f float64) string { return fmt.Sprintf("%.0f", clamp(f, 0, 100)) },
		"list":      joinAny,
	}).ParseFS(templates, "templates/*.html"))
	r.Get("/clients/{handle}/timeline", p.timeline)
	r.Get("/clients/{handle}/profile", p.profile)
	r.Get("/desk", p.desk)
	r.Get("/desk/digest", p.digest)
	if p.SignIn != nil {
		r.Get("/signin", p.signIn)
		r.Get("/signin/callback", p.signInDone)
	}
	r.Get("/web/favicon.svg", serveFavicon)
	r.Get("/favicon.ico", serveFavicon)
}

func serveFavicon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(favicon)
}

// refusal is what a page answers when it may not show the client: the same
// for a client that does not exist as for one the viewer may not see.
func refusal(handle string) string {
	return "This link no longer opens this page: the user it was made for may not see this client now. Ask BrokerSync for a new one with /timeline " + handle + " in Slack."
}

// open finds who is viewing and the client they asked for, and checks that
// they may see it now. A signed link in the address opens a session and
// sends the browser on to the same page without the link's proof; the
// caller then returns (nil). Otherwise the session cookie names the viewer.
func (p *Pages) open(w http.ResponseWriter, r *http.Request) (viewer string, client *store.Client) {
	handle := chi.URLParam(r, "handle")
	user, ok := p.viewer(w, r, handle, "/timeline "+handle)
	if !ok {
		return "", nil
	}
	ctx := r.Context()
	c, err := p.Clients.ClientByHandle(ctx, handle)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		p.fail(w, err)
		return "", nil
	}
	// A session carries no rights of its own: its user must still be
	// allowed to see the client, on the client's desk of today. A client
	// that is gone is answered the same way, so a page tells nothing about
	// clients its viewer may not see.
	allowed := false
	if err == nil && p.Rights != nil {
		if allowed, err = p.Rights.CanSee(ctx, user, c.Team); err != nil {
			p.fail(w, err)
			return "", nil
		}
	}
	if !allowed {
		p.Logger.Info("page refused: no rights now", slog.String("user", user), slog.String("handle", handle))
		http.Error(w, refusal(handle), http.StatusForbidden)
		return "", nil
	}
	return user, c
}

// viewer finds who is viewing: a signed link for subject in the address
// opens a session and sends the browser on to the same page without the
// link's proof (ok is false: the answer is sent); otherwise the session
// cookie names the viewer. command names what gives a new link in Slack.
func (p *Pages) viewer(w http.ResponseWriter, r *http.Request, subject, command string) (string, bool) {
	q := r.URL.Query()
	now := p.Now()
	if q.Has("sig") || q.Has("u") || q.Has("exp") {
		user, ok := p.Links.Verify(subject, q, now)
		if !ok {
			http.Error(w, "This link is not valid or has expired. Ask BrokerSync for a new one with "+command+" in Slack.", http.StatusForbidden)
			return "", false
		}
		http.SetCookie(w, p.Links.NewSession(user, now))
		for _, k := range []string{"u", "exp", "sig"} {
			q.Del(k)
		}
		to := r.URL.EscapedPath()
		if len(q) > 0 {
			to += "?" + q.Encode()
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, to, http.StatusSeeOther)
		return "", false
	}
	ck, err := r.Cookie(sessionCookie)
	user, ok := "", false
	if err == nil {
		user, ok = p.Links.VerifySession(ck.Value, now)
	}
	if !ok && p.SignIn != nil {
		p.signInRedirect(w, r)
		return "", false
	}
	if !ok {
		http.Error(w, "Open this page from a link BrokerSync gives you in Slack ("+command+"); a link or session that has expired, or was changed, is not accepted.", http.StatusForbidden)
		return "", false
	}
	return user, true
}

// zones returns the viewer's zone (Slack's tz for them; without a
// directory, the client's zone, else UTC) and the client's, when it has one.
func (p *Pages) zones(ctx context.Context, names *bot.Names, viewer string, c *store.Client) (viewerLoc, clientLoc *time.Location, clientZoned bool) {
	clientLoc, clientZoned = store.Location(c.TimeZone)
	loc, ok := names.Location(ctx, viewer)
	switch {
	case ok:
	case clientZoned:
		loc = clientLoc
	default:
		loc = time.UTC
	}
	return loc, clientLoc, clientZoned
}

func (p *Pages) render(w http.ResponseWriter, name, nonce string, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", PageCSP(nonce))
	if err := p.tmpl.ExecuteTemplate(w, name, v); err != nil {
		p.Logger.Error("render page", slog.String("page", name), slog.Any("err", err))
	}
}

// PageCSP is the Content-Security-Policy of a page whose one <style>
// element carries nonce: no scripts, no frames around it, nothing loaded
// from elsewhere, links and forms only to this server.
func PageCSP(nonce string) string {
	return "default-src 'none'; style-src 'nonce-" + nonce + "'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func withParams(sets ...url.Values) string {
	all := url.Values{}
	for _, s := range sets {
		for k, vs := range s {
			all[k] = append(all[k], vs...)
		}
	}
	return "?" + all.Encode()
}

func (p *Pages) fail(w http.ResponseWriter, err error) {
	switch store.ErrorCode(err) {
	case store.ENOTFOUND:
		http.Error(w, "No such client.", http.StatusNotFound)
	case store.EINVALID:
		http.Error(w, store.ErrorMessage(err), http.StatusBadRequest)
	case store.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "The timeline is unavailable right now; try again in a moment.", http.StatusServiceUnavailable)
	default:
		p.Logger.Error("web page", slog.Any("err", err))
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
	}
}

func kindIcon(k store.Kind) string {
	switch k {
	case store.KindEmail:
		return "✉"
	case store.KindChat:
		return "💬"
	case store.KindCall:
		return "☎"
	case store.KindMeeting:
		return "👥"
	case store.KindOrder:
		return "📈"
	case store.KindNote:
		return "📝"
	case store.KindFeedback:
		return "⭐"
	case store.KindRecommendation:
		return "💡"
	case store.KindReminder:
		return "⏰"
	}
	return "•"
}

func sentimentClass(s *store.Sentiment) string {
	if s == nil {
		return ""
	}
	return s.Label
}

func clamp(f, lo, hi float64) float64 { return max(lo, min(hi, f)) }

// formatNumber writes f with thousands separators and no needless decimals.
func formatNumber(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

func formatMoney(f *float64) string {
	if f == nil {
		return ""
	}
	return formatNumber(*f)
}

// joinAny joins the elements of a slice of strings or string types with
// ", ".
func joinAny(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return fmt.Sprint(v)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return strings.Join(parts, ", ")
}
