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
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

//go:embed templates/*.html
var templates embed.FS

// Rights says whether a user may see a client of a desk now (bot.Rights,
// the rules every command follows).
type Rights interface {
	CanSee(ctx context.Context, user, desk string) (bool, error)
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

	tmpl *template.Template
}

// Mount adds the pages to r.
func (p *Pages) Mount(r chi.Router) {
	p.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"kindIcon":  kindIcon,
		"riskLabel": store.RiskLabel,
		"sentClass": sentimentClass,
		"signed":    func(s *store.Sentiment) string { return fmt.Sprintf("%+.2f", s.Score) },
		"join":      strings.Join,
		"duration":  store.FormatDuration,
	}).ParseFS(templates, "templates/*.html"))
	r.Get("/clients/{handle}/timeline", p.timeline)
}

type day struct {
	Date   string
	Events []row
}

// row is one event as the page shows it: mentions as names, the time in the
// viewer's zone and, when it differs, in the client's.
type row struct {
	*store.Event
	Actor      string
	Summary    string
	Body       string
	When       string // "09:04 CST"
	ClientWhen string // "16:04 CET", or "" when the zones agree
}

type timelineView struct {
	Nonce  string // of the page's one <style> element (Content-Security-Policy)
	Client *store.Client
	Days   []day
	Kinds  []kindFilter
	Older  string
	Newest string
	Zone   string // the viewer's zone, named on the page
	Count  int
}

type kindFilter struct {
	Kind   store.Kind
	On     bool
	Toggle string
}

func (p *Pages) timeline(w http.ResponseWriter, r *http.Request) {
	handle := chi.URLParam(r, "handle")
	q := r.URL.Query()
	viewer, ok := p.Links.Verify(handle, q, p.Now())
	if !ok {
		http.Error(w, "This link is not valid or has expired. Ask BrokerSync for a new one with /timeline "+handle+" in Slack.", http.StatusForbidden)
		return
	}
	ctx := r.Context()
	client, err := p.Clients.ClientByHandle(ctx, handle)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		p.fail(w, err)
		return
	}
	// A link carries no rights of its own: the user it was made for must
	// still be allowed to see the client, on the client's desk of today. A
	// client that is gone is answered the same way, so a link tells nothing
	// about clients its user may not see.
	allowed := false
	if err == nil && p.Rights != nil {
		if allowed, err = p.Rights.CanSee(ctx, viewer, client.Team); err != nil {
			p.fail(w, err)
			return
		}
	}
	if !allowed {
		p.Logger.Info("timeline link refused: no rights now", slog.String("user", viewer), slog.String("handle", handle))
		http.Error(w, "This link no longer opens this timeline: the user it was made for may not see this client now. Ask BrokerSync for a new one with /timeline "+handle+" in Slack.", http.StatusForbidden)
		return
	}
	var kinds []store.Kind
	for _, k := range q["kind"] {
		kind, err := store.ParseKind(k)
		if err != nil {
			http.Error(w, store.ErrorMessage(err), http.StatusBadRequest)
			return
		}
		kinds = append(kinds, kind)
	}
	page, err := p.Timeline.Events(ctx, client.ID, store.EventQuery{Kinds: kinds, Limit: 100, Cursor: q.Get("cursor")})
	if err != nil {
		p.fail(w, err)
		return
	}
	// Times are the viewer's (Slack's tz for them), with the client's
	// beside them; without a directory, the client's zone, else UTC.
	names := p.Names.Memo()
	clientLoc, clientZoned := store.Location(client.TimeZone)
	loc, ok := names.Location(ctx, viewer)
	switch {
	case ok:
	case clientZoned:
		loc = clientLoc
	default:
		loc = time.UTC
	}
	nonce, err := newNonce()
	if err != nil {
		p.fail(w, err)
		return
	}
	v := timelineView{Nonce: nonce, Client: client, Count: len(page.Events), Zone: loc.String()}
	for _, e := range page.Events {
		d := e.Time.In(loc).Format("Monday 2 January 2006")
		if len(v.Days) == 0 || v.Days[len(v.Days)-1].Date != d {
			v.Days = append(v.Days, day{Date: d})
		}
		r := row{Event: e, Actor: names.User(ctx, e.Actor), Summary: names.Text(ctx, e.Summary), Body: names.Text(ctx, e.Body),
			When: e.Time.In(loc).Format("15:04 MST")}
		if clientZoned && clientLoc.String() != loc.String() {
			if cw := e.Time.In(clientLoc).Format("15:04 MST"); cw != r.When {
				r.ClientWhen = cw
			}
		}
		v.Days[len(v.Days)-1].Events = append(v.Days[len(v.Days)-1].Events, r)
	}
	base := url.Values{"u": q["u"], "exp": q["exp"], "sig": q["sig"]}
	on := map[store.Kind]bool{}
	for _, k := range kinds {
		on[k] = true
	}
	for _, k := range store.Kinds {
		next := url.Values{}
		for _, other := range kinds {
			if other != k {
				next.Add("kind", string(other))
			}
		}
		if !on[k] {
			next.Add("kind", string(k))
		}
		v.Kinds = append(v.Kinds, kindFilter{Kind: k, On: on[k], Toggle: withParams(base, next)})
	}
	filters := url.Values{"kind": q["kind"]}
	if page.Next != "" {
		v.Older = withParams(base, filters, url.Values{"cursor": {page.Next}})
	}
	if q.Get("cursor") != "" {
		v.Newest = withParams(base, filters)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", PageCSP(nonce))
	if err := p.tmpl.ExecuteTemplate(w, "timeline.html", v); err != nil {
		p.Logger.Error("render timeline", slog.Any("err", err))
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
		p.Logger.Error("timeline page", slog.Any("err", err))
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
