package web

import (
	"embed"
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

// Pages serves the web pages.
type Pages struct {
	Clients  store.ClientStore
	Timeline store.TimelineStore
	Links    Links
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
	if err != nil {
		p.fail(w, err)
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
	v := timelineView{Client: client, Count: len(page.Events), Zone: loc.String()}
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
	if err := p.tmpl.ExecuteTemplate(w, "timeline.html", v); err != nil {
		p.Logger.Error("render timeline", slog.Any("err", err))
	}
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
