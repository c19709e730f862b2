package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks/web"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

// backing is what the pages read: profiles and desks, and the timeline.
type backing struct {
	clients  store.ClientStore
	teams    store.TeamStore
	timeline store.TimelineStore
	// segments and reminders feed the desk pages.
	segments  bot.Segments
	reminders store.ReminderStore
}

func onEmbedded(t *testing.T) backing {
	db, err := embedded.Open(context.Background(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return backing{clients: db, teams: db, timeline: db.Timeline(), segments: db, reminders: db}
}

func onBackends(t *testing.T) backing {
	pg := backendtest.Postgres(t)
	return backing{clients: pg, teams: pg, timeline: backendtest.Cassandra(t), segments: pg, reminders: pg}
}

// eachBackend runs fn on the embedded store and on PostgreSQL + Cassandra.
func eachBackend(t *testing.T, fn func(t *testing.T, st backing)) {
	t.Run("embedded", func(t *testing.T) { fn(t, onEmbedded(t)) })
	t.Run("postgres+cassandra", func(t *testing.T) { fn(t, onBackends(t)) })
}

// page is a served timeline page over st, at a fixed time.
type page struct {
	t     *testing.T
	srv   *httptest.Server
	pages *web.Pages
	links web.Links
	now   time.Time
}

func newPage(t *testing.T, st backing, admins ...string) *page {
	p := &page{t: t, links: web.Links{BaseURL: "http://brokersync.test", Key: []byte("0123456789abcdef0123456789abcdef")},
		now: time.Date(2026, 11, 30, 16, 4, 0, 0, time.UTC)}
	pages := &web.Pages{Clients: st.clients, Timeline: st.timeline, Links: p.links,
		Rights: bot.Rights{Catalogue: store.DefaultCatalogue(), Teams: st.teams, Admins: admins},
		Now:    func() time.Time { return p.now }, Logger: slog.New(slog.DiscardHandler),
		Segments: st.segments, Reminders: st.reminders, Teams: st.teams}
	if st.reminders != nil {
		pages.Digests = &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: st.clients, Timeline: st.timeline, Teams: st.teams, Reminders: st.reminders}
	}
	p.pages = pages
	r := chi.NewRouter()
	pages.Mount(r)
	p.srv = httptest.NewServer(r)
	t.Cleanup(p.srv.Close)
	return p
}

// get fetches a link the bot made (or its path and query) as a browser
// that has no session yet: a signed link opens one and the browser follows
// on to the page.
func (p *page) get(link string) (*http.Response, string) {
	p.t.Helper()
	return p.getWith(p.browser(), link)
}

// browser is a client that keeps cookies, as a browser does.
func (p *page) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		p.t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func (p *page) getWith(c *http.Client, link string) (*http.Response, string) {
	p.t.Helper()
	resp, err := c.Get(p.srv.URL + strings.TrimPrefix(link, p.links.BaseURL))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (p *page) code(link string) int {
	p.t.Helper()
	resp, _ := p.get(link)
	return resp.StatusCode
}

// unique gives each test its own handle and desk, so tests sharing a
// database keep apart.
func unique(prefix string) string { return prefix + "-" + uuid.NewString()[:8] }

func TestTimelinePage(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		ctx := context.Background()
		desk, user := unique("grain"), "U1"+strings.ToUpper(uuid.NewString()[:6])
		if err := st.teams.AddMember(ctx, store.Member{SlackID: user, Desk: desk, Role: store.RoleBroker, AddedBy: "UADMIN"}); err != nil {
			t.Fatal(err)
		}
		c := &store.Client{Handle: unique("acme-grain"), Name: "Acme Grain <Co-op>", Team: desk, TimeZone: "America/Chicago", Tags: []string{"hedger"}}
		if err := st.clients.CreateClient(ctx, c, user); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 30, 15, 4, 0, 0, time.UTC)
		events := []*store.Event{
			{ClientID: c.ID, Time: at, Kind: store.KindOrder, Source: "orders", SourceID: "E-1", Summary: "Filled buy 10 ZCZ6 (Dec 2026 corn) @ 452.25",
				Attrs: store.Attrs{Order: &store.OrderAttrs{Status: "filled", Side: "buy", Quantity: 10, Contract: "ZCZ6", Price: 452.25}}},
			{ClientID: c.ID, Time: at.Add(-time.Hour), Kind: store.KindEmail, Source: "imap", SourceID: "m1", Summary: "Slippage <script>",
				Body: "I'm not happy with the slippage.", Sentiment: &store.Sentiment{Score: -0.8, Label: "negative"}},
		}
		for _, e := range events {
			if err := e.Prepare(); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.timeline.AppendEvents(ctx, events...); err != nil {
			t.Fatal(err)
		}
		p := newPage(t, st)
		link := p.links.Timeline(c.Handle, user, p.now)
		resp, body := p.get(link)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed link: %d %s", resp.StatusCode, body)
		}
		for _, want := range []string{"Acme Grain &lt;Co-op&gt;", "Filled buy 10 ZCZ6", "Slippage &lt;script&gt;", "negative -0.80", "Monday 30 November 2026", "09:04"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Index(body, "Filled buy") > strings.Index(body, "Slippage") {
			t.Error("events are not newest first")
		}
		_, body = p.get(link + "&kind=email")
		if strings.Contains(body, "Filled buy") || !strings.Contains(body, "Slippage") {
			t.Errorf("kind filter: order shown: %v", strings.Contains(body, "Filled buy"))
		}

		for name, l := range map[string]string{
			"unsigned":     "/clients/" + c.Handle + "/timeline",
			"other client": "/clients/other/timeline?" + strings.SplitN(link, "?", 2)[1],
			"tampered":     strings.Replace(link, "u="+user, "u=U2", 1),
		} {
			if code := p.code(l); code != http.StatusForbidden {
				t.Errorf("%s link: %d, want 403", name, code)
			}
		}
		if _, ok := p.links.Verify(c.Handle, mustQuery(t, link), p.now.Add(web.LinkTTL+time.Minute)); ok {
			t.Error("an expired link verified")
		}
	})
}

// The page allows no script, no frame around it and no other origin: its
// one <style> element carries the nonce its Content-Security-Policy names.
func TestTimelinePageSecurityHeaders(t *testing.T) {
	st := onEmbedded(t)
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain", Team: "grain"}
	if err := st.clients.CreateClient(context.Background(), c, "UADMIN"); err != nil {
		t.Fatal(err)
	}
	p := newPage(t, st, "UADMIN")
	resp, body := p.get(p.links.Timeline(c.Handle, "UADMIN", p.now))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin's link: %d %s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`style-src 'nonce-([A-Za-z0-9_-]+)'`).FindStringSubmatch(csp)
	if m == nil || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("Content-Security-Policy %q: want default-src 'none', a style nonce and frame-ancestors 'none'", csp)
	}
	if !strings.Contains(body, `<style nonce="`+m[1]+`">`) {
		t.Errorf("the page's <style> does not carry the nonce %s", m[1])
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<script") {
		t.Error("the page has inline style attributes or scripts, which its policy blocks")
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}
	_, again := p.get(p.links.Timeline(c.Handle, "UADMIN", p.now))
	if strings.Contains(again, m[1]) {
		t.Error("two pages share a nonce")
	}
}

// A link carries no rights of its own: it opens only while its user may see
// the client, on the client's desk of now.
func TestTimelineLinkFollowsRightsNow(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		ctx := context.Background()
		desk, other := unique("grain"), unique("energy")
		jane, joe, mgr := "UJANE"+uuid.NewString()[:6], "UJOE"+uuid.NewString()[:6], "UMGR"+uuid.NewString()[:6]
		for _, m := range []store.Member{
			{SlackID: jane, Desk: desk, Role: store.RoleBroker},
			{SlackID: joe, Desk: desk, Role: store.RoleBroker},
			{SlackID: mgr, Desk: desk, Role: store.RoleManager},
		} {
			m.AddedBy = "UADMIN"
			if err := st.teams.AddMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		c := &store.Client{Handle: unique("acme"), Name: "Acme", Team: desk}
		if err := st.clients.CreateClient(ctx, c, jane); err != nil {
			t.Fatal(err)
		}
		p := newPage(t, st, "UADMIN")
		janeLink := p.links.Timeline(c.Handle, jane, p.now)
		joeLink := p.links.Timeline(c.Handle, joe, p.now)
		mgrLink := p.links.Timeline(c.Handle, mgr, p.now)
		adminLink := p.links.Timeline(c.Handle, "UADMIN", p.now)
		strangerLink := p.links.Timeline(c.Handle, "USTRANGER", p.now)
		for name, l := range map[string]string{"broker": janeLink, "manager": mgrLink, "admin": adminLink} {
			if code := p.code(l); code != http.StatusOK {
				t.Fatalf("%s's link: %d, want 200", name, code)
			}
		}
		if code := p.code(strangerLink); code != http.StatusForbidden {
			t.Errorf("a link made for someone on no desk: %d, want 403", code)
		}

		// Jane leaves the desk: her link stops at once, Joe's does not.
		if err := st.teams.RemoveMember(ctx, jane, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		resp, body := p.get(janeLink)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Acme") {
			t.Errorf("link of a user removed from the desk: %d %q, want 403 showing nothing", resp.StatusCode, body)
		}
		if code := p.code(joeLink); code != http.StatusOK {
			t.Errorf("link of a broker still on the desk: %d, want 200", code)
		}

		// The client moves desks: the old desk's links stop; an admin's
		// still opens.
		if _, _, err := st.clients.UpdateClient(ctx, c.ID, "UADMIN", func(c *store.Client) error { c.Team = other; return nil }); err != nil {
			t.Fatal(err)
		}
		for name, l := range map[string]string{"broker": joeLink, "manager": mgrLink} {
			if code := p.code(l); code != http.StatusForbidden {
				t.Errorf("%s's link after the client moved desks: %d, want 403", name, code)
			}
		}
		if code := p.code(adminLink); code != http.StatusOK {
			t.Errorf("admin's link after the move: %d, want 200", code)
		}

		// A link to a client that no longer has that handle says the same as
		// one its user may not see.
		gone := p.links.Timeline(unique("gone"), "UADMIN", p.now)
		if resp, body := p.get(gone); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not see") {
			t.Errorf("link to no client: %d %q, want the same 403 as no rights", resp.StatusCode, body)
		}
	})
}

// A link whose expiry lies beyond a link's lifetime was not made by
// BrokerSync (or was made by a clock far ahead): refused, even when signed
// with the right key.
func TestTimelineLinkExpiryWithinLifetime(t *testing.T) {
	links := web.Links{BaseURL: "http://brokersync.test", Key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		made time.Time
		ok   bool
	}{
		{"made now", now, true},
		{"made 23 hours ago", now.Add(-23 * time.Hour), true},
		{"made 25 hours ago", now.Add(-25 * time.Hour), false},
		{"made by a replica 30 seconds ahead", now.Add(30 * time.Second), true},
		{"made an hour from now", now.Add(time.Hour), false},
		{"made for ten years", now.Add(10*365*24*time.Hour - web.LinkTTL), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			link := links.Timeline("acme-grain", "U1", tt.made)
			if _, ok := links.Verify("acme-grain", mustQuery(t, link), now); ok != tt.ok {
				t.Errorf("Verify = %v, want %v", ok, tt.ok)
			}
		})
	}
	q := mustQuery(t, links.Timeline("acme-grain", "U1", now))
	q.Set("exp", strconv.FormatInt(now.Add(10*365*24*time.Hour).Unix(), 10))
	if _, ok := links.Verify("acme-grain", q, now); ok {
		t.Error("a link with a ten-year expiry verified")
	}
	if _, ok := (web.Links{}).Verify("acme-grain", mustQuery(t, web.Links{}.Timeline("acme-grain", "U1", now)), now); ok {
		t.Error("a link signed with no key verified")
	}
}

func mustQuery(t *testing.T, link string) url.Values {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req.URL.Query()
}

// What the page shows reads as people read it: icons as text, call lengths
// with their digits, Slack mentions as names (as ids without Slack, never
// as markup), system actors as they are, times in the viewer's zone with
// the client's beside them.
func TestTimelinePageReadsAsPeopleDo(t *testing.T) {
	st := onEmbedded(t)
	ctx := context.Background()
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain", TimeZone: "America/Chicago"}
	if err := st.clients.CreateClient(ctx, c, "U1"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 15, 4, 0, 0, time.UTC)
	events := []*store.Event{
		{ClientID: c.ID, Time: at, Kind: store.KindCall, Source: "calls", SourceID: "c1", Actor: "U024BE7LH",
			Summary: "Called about the basis", Attrs: store.Attrs{Call: &store.CallAttrs{Direction: "outbound", Duration: 90 * time.Minute}}},
		{ClientID: c.ID, Time: at.Add(-time.Hour), Kind: store.KindEvent, Source: "link", SourceID: "l1", Actor: "U024BE7LH",
			Summary: "Slack channel <#C1> linked by <@U024BE7LH>"},
		{ClientID: c.ID, Time: at.Add(-2 * time.Hour), Kind: store.KindEvent, Source: "market", SourceID: "mv1", Actor: "market",
			Summary: "Market move: corn down 4.2%"},
	}
	for _, e := range events {
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.timeline.AppendEvents(ctx, events...); err != nil {
		t.Fatal(err)
	}
	p := newPage(t, st, "U024BE7LH")
	link := p.links.Timeline(c.Handle, "U024BE7LH", p.now)
	resp, body := p.get(link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// Icons are text, not an attribute html/template percent-encodes as a URL.
	if strings.Contains(body, "%e2") || strings.Contains(body, "data-icon") || !strings.Contains(body, `<span class="icon" aria-hidden="true">☎</span>`) {
		t.Error("the icons are not shown as text")
	}
	if !strings.Contains(body, "outbound call · 1h 30m") {
		t.Error("the call's length is not 1h 30m")
	}
	for _, want := range []string{"Slack channel #C1 linked by @U024BE7LH", "<span>@U024BE7LH</span>", "<span>market</span>", "09:04 CST"} {
		if !strings.Contains(body, want) {
			t.Errorf("page without Slack lacks %q", want)
		}
	}
	if strings.Contains(body, "&lt;@") || strings.Contains(body, "&lt;#") || strings.Contains(body, "@market") {
		t.Error("the page shows raw Slack markup")
	}

	// With Slack's directory: names, and times in the viewer's zone (jane is
	// in London) with the client's beside them.
	dir := bottest.NewDirectory(bot.User{ID: "U024BE7LH", Name: "jane", TimeZone: "Europe/London"})
	dir.AddChannel(bot.Channel{ID: "C1", Name: "acme-deals"})
	p.pages.Names = &bot.Names{Users: dir, Channels: dir}
	_, body = p.get(link)
	for _, want := range []string{"Slack channel #acme-deals linked by @jane", "<span>@jane</span>", "<span>market</span>", "15:04 GMT", "09:04 CST for the client", "times in Europe/London"} {
		if !strings.Contains(body, want) {
			t.Errorf("page with Slack lacks %q", want)
		}
	}
}
