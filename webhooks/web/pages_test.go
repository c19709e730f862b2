package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks/web"
)

// desk puts a broker on a fresh desk and gives it a client with events.
type deskFixture struct {
	desk, broker string
	client       *store.Client
}

func newDesk(t *testing.T, st backing, role store.Role) deskFixture {
	t.Helper()
	ctx := context.Background()
	f := deskFixture{desk: unique("grain"), broker: "UB" + strings.ToUpper(uuid.NewString()[:8])}
	if err := st.teams.AddMember(ctx, store.Member{SlackID: f.broker, Desk: f.desk, Role: role, AddedBy: "UADMIN"}); err != nil {
		t.Fatal(err)
	}
	f.client = &store.Client{Handle: unique("acme"), Name: "Acme Grain", Team: f.desk, Broker: f.broker, Kind: store.Individual,
		TimeZone: "America/Chicago"}
	if err := st.clients.CreateClient(ctx, f.client, f.broker); err != nil {
		t.Fatal(err)
	}
	return f
}

func appendEvents(t *testing.T, st backing, events ...*store.Event) {
	t.Helper()
	for _, e := range events {
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.timeline.AppendEvents(context.Background(), events...); err != nil {
		t.Fatal(err)
	}
}

var markRE = regexp.MustCompile(`<circle class="mark[ "]`)

// The overview draws one mark per event of the range, in its kind's lane,
// orders sized by notional; the zoom presets and the date range choose the
// range; the list below filters by kind, searches the text and pages by
// cursor; an email's full body opens on demand.
func TestTimelineOverviewAndList(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		f := newDesk(t, st, store.RoleBroker)
		p := newPage(t, st)
		c := f.client
		var events []*store.Event
		// 120 days of one chat a day, scored, and an order every 10 days.
		for i := range 120 {
			at := p.now.Add(-time.Duration(i)*24*time.Hour - time.Hour)
			score := 0.5
			label := "positive"
			if i%3 == 0 {
				score, label = -0.5, "negative"
			}
			events = append(events, &store.Event{ClientID: c.ID, Time: at, Kind: store.KindChat, Source: "slack", SourceID: fmt.Sprintf("c%d-%s", i, f.desk),
				Summary: fmt.Sprintf("chat number %d", i), Sentiment: &store.Sentiment{Score: score, Label: label}})
			if i%10 == 0 {
				events = append(events, &store.Event{ClientID: c.ID, Time: at.Add(-time.Minute), Kind: store.KindOrder, Source: "orders", SourceID: fmt.Sprintf("o%d-%s", i, f.desk),
					Summary: fmt.Sprintf("Filled buy %d ZCZ6", i+1), Attrs: store.Attrs{Order: &store.OrderAttrs{Status: "filled", Side: "buy", Quantity: float64(i + 1), Price: 450, Contract: "ZCZ6"}}})
			}
		}
		events = append(events, &store.Event{ClientID: c.ID, Time: p.now.Add(-2 * time.Hour), Kind: store.KindEmail, Source: "imap", SourceID: "m1-" + f.desk,
			Summary: "Harvest hedge", Body: "Dear desk,\nthe whole body of the email about basis risk.", Attrs: store.Attrs{Email: &store.EmailAttrs{Subject: "Harvest hedge", From: "ops@acme.test", Direction: "inbound"}}})
		appendEvents(t, st, events...)
		b := p.browser()
		get := func(path string) string {
			t.Helper()
			resp, body := p.getWith(b, path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
			return body
		}
		get(p.links.Timeline(c.Handle, f.broker, p.now))
		base := "/clients/" + c.Handle + "/timeline"
		for _, tt := range []struct {
			query string
			marks int
		}{
			{"", 120 + 12 + 1},                         // a year: everything
			{"?range=30d", 30 + 3 + 1},                 // days 0..29, orders on days 0, 10, 20
			{"?range=90d", 90 + 9 + 1},                 // days 0..89
			{"?range=all", 120 + 12 + 1},               // everything
			{"?range=30d&kind=order", 3},               // only the orders lane
			{"?from=2026-11-01&to=2026-11-10", 10 + 1}, // 1..10 Nov in Chicago: chats of days 20..29, order of day 20
		} {
			body := get(base + tt.query)
			if got := len(markRE.FindAllString(body, -1)); got != tt.marks {
				t.Errorf("%q: %d marks, want %d", tt.query, got, tt.marks)
			}
			if !strings.Contains(body, fmt.Sprintf(`data-marks="%d"`, tt.marks)) {
				t.Errorf("%q: the overview does not count %d events", tt.query, tt.marks)
			}
		}
		body := get(base)
		for _, want := range []string{`class="trend" d="M`, `>Orders (12)</text>`, `>Chats (120)</text>`, `<title>`, "30-day mean sentiment", "<details><summary>Full email", "the whole body of the email"} {
			if !strings.Contains(body, want) {
				t.Errorf("timeline lacks %q", want)
			}
		}
		// The biggest order has the biggest mark; a mark links to its entry.
		if !regexp.MustCompile(`<a href="\?before=\d+&amp;range=|<a href="\?before=\d+#e-`).MatchString(body) && !strings.Contains(body, `before=`) {
			t.Error("marks do not link to their entries")
		}
		m := regexp.MustCompile(`<a href="([^"]*before=[^"]*)"><circle class="mark order`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no order mark links to its entry")
		}
		href := strings.ReplaceAll(m[1], "&amp;", "&")
		_, frag, _ := strings.Cut(href, "#")
		entry := get(base + strings.Split(href, "#")[0])
		if !strings.Contains(entry, `id="`+frag+`"`) {
			t.Errorf("the entry a mark links to (%s) is not on the page it opens", frag)
		}

		// Paging: 50 a page, the next page goes on where the first ended.
		first := get(base + "?kind=chat")
		if n := strings.Count(first, `class="ev ev-chat"`); n != 50 {
			t.Fatalf("first page: %d chats, want 50", n)
		}
		older := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(first)
		if older == nil {
			t.Fatal("no older link")
		}
		second := get(base + strings.ReplaceAll(strings.Split(older[1], "#")[0], "&amp;", "&"))
		if !strings.Contains(second, "chat number 50<") || strings.Contains(second, "chat number 49<") {
			t.Error("the second page does not start after the first")
		}
		// Search in the text.
		found := get(base + "?q=" + url.QueryEscape("NUMBER 7"))
		found = found[strings.Index(found, `id="list"`):]
		for _, want := range []string{"chat number 7<", "chat number 70<", "chat number 79<"} {
			if !strings.Contains(found, want) {
				t.Errorf("search lacks %q", want)
			}
		}
		if strings.Contains(found, "chat number 8<") || strings.Contains(found, "Harvest hedge") {
			t.Error("search shows what does not match")
		}
		// Bad input is named, not a crash.
		for _, q := range []string{"?range=2y", "?from=yesterday", "?from=2026-11-10&to=2026-11-01", "?kind=telepathy"} {
			if resp, body := p.getWith(b, base+q); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", q, resp.StatusCode, body)
			}
		}
	})
}

// Opening a link sets a session cookie (HttpOnly, SameSite=Lax, Secure
// when the public URL is https) and sends the browser on without the
// link's proof in the address; the session then opens the pages.
func TestLinkOpensSession(t *testing.T) {
	for _, tt := range []struct {
		base   string
		secure bool
	}{{"http://brokersync.test", false}, {"https://crm.example.com", true}} {
		t.Run(tt.base, func(t *testing.T) {
			st := onEmbedded(t)
			f := newDesk(t, st, store.RoleBroker)
			p := newPage(t, st)
			p.links.BaseURL = tt.base
			p.pages.Links.BaseURL = tt.base
			link := p.links.Timeline(f.client.Handle, f.broker, p.now)
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, _ := p.getWith(noFollow, link+"&kind=email")
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("signed link: %d, want 303", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != "/clients/"+f.client.Handle+"/timeline?kind=email" {
				t.Errorf("sent on to %q, want the page without the link's proof", loc)
			}
			var ck *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == "brokersync_session" {
					ck = c
				}
			}
			if ck == nil {
				t.Fatal("no session cookie")
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tt.secure || ck.Path != "/" {
				t.Errorf("cookie HttpOnly=%v SameSite=%v Secure=%v Path=%q; want HttpOnly, Lax, Secure=%v, /", ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path, tt.secure)
			}
			b := p.browser()
			if resp, body := p.getWith(b, link); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Acme Grain") {
				t.Fatalf("link in a browser: %d", resp.StatusCode)
			}
			for _, path := range []string{"/clients/" + f.client.Handle + "/timeline?range=all", "/clients/" + f.client.Handle + "/profile"} {
				if code := codeWith(t, p, b, path); code != http.StatusOK {
					t.Errorf("%s with the session: %d", path, code)
				}
				if code := p.code(path); code != http.StatusForbidden {
					t.Errorf("%s without a session: %d, want 403", path, code)
				}
			}
		})
	}
}

func codeWith(t *testing.T, p *page, c *http.Client, path string) int {
	t.Helper()
	resp, _ := p.getWith(c, path)
	return resp.StatusCode
}

// withCookie is a browser that presents value as its session.
func withCookie(t *testing.T, p *page, value string) *http.Client {
	b := p.browser()
	u, _ := url.Parse(p.srv.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "brokersync_session", Value: value, Path: "/"}})
	return b
}

// Expired, forged and altered sessions are refused; a session whose user
// has left the desk (revoked) opens nothing; a new link key ends every
// session.
func TestSessionsRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		f := newDesk(t, st, store.RoleBroker)
		p := newPage(t, st)
		path := "/clients/" + f.client.Handle + "/timeline"
		good := p.links.NewSession(f.broker, p.now).Value
		if code := codeWith(t, p, withCookie(t, p, good), path); code != http.StatusOK {
			t.Fatalf("good session: %d", code)
		}
		parts := strings.Split(good, ".")
		// A link to a client whose handle is "session" signs the same words
		// a session does, unless the two are kept apart; made 13 hours ago,
		// its expiry lies within a session's.
		sessionLink := mustQuery(t, p.links.Timeline("session", f.broker, p.now.Add(-13*time.Hour)))
		other := web.Links{Key: []byte("another key, 32 bytes long......")}
		for name, v := range map[string]string{
			"expired":                  p.links.NewSession(f.broker, p.now.Add(-web.SessionTTL-time.Second)).Value,
			"from the future":          p.links.NewSession(f.broker, p.now.Add(time.Hour)).Value,
			"forged":                   f.broker + "." + parts[1] + "." + strings.Repeat("ab", 32),
			"other key":                other.NewSession(f.broker, p.now).Value,
			"other user":               "UADMIN." + parts[1] + "." + parts[2],
			"longer":                   f.broker + "." + fmt.Sprint(p.now.Add(48*time.Hour).Unix()) + "." + parts[2],
			"a link's sig":             f.broker + "." + parts[1] + "." + mustQuery(t, p.links.Timeline(f.client.Handle, f.broker, p.now)).Get("sig"),
			"a link to client session": f.broker + "." + sessionLink.Get("exp") + "." + sessionLink.Get("sig"),
			"garbage":                  "x",
			"empty user":               "." + parts[1] + "." + parts[2],
		} {
			if code := codeWith(t, p, withCookie(t, p, v), path); code != http.StatusForbidden {
				t.Errorf("%s session: %d, want 403", name, code)
			}
		}
		// A link that fails is refused even with a good session beside it:
		// a tampered link never falls back to whoever is signed in.
		tampered := strings.Replace(p.links.Timeline(f.client.Handle, f.broker, p.now), "u="+f.broker, "u=UADMIN", 1)
		if code := codeWith(t, p, withCookie(t, p, good), tampered); code != http.StatusForbidden {
			t.Errorf("tampered link with a session: %d, want 403", code)
		}
		// Revoked: the broker leaves the desk.
		if err := st.teams.RemoveMember(context.Background(), f.broker, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		for _, pth := range []string{path, "/clients/" + f.client.Handle + "/profile"} {
			resp, body := p.getWith(withCookie(t, p, good), pth)
			if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Acme") {
				t.Errorf("%s after leaving the desk: %d, want 403 showing nothing", pth, resp.StatusCode)
			}
		}
	})
}

// A broker of one desk cannot open another desk's client by changing any
// part of an address: the handle in the path, the page, the query, a
// cursor or an entry link made for the other client.
func TestNoOtherDesksClientByURL(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		mine := newDesk(t, st, store.RoleBroker)
		theirs := newDesk(t, st, store.RoleBroker)
		appendEvents(t, st, &store.Event{ClientID: theirs.client.ID, Time: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), Kind: store.KindNote,
			Source: "command", SourceID: "secret-" + theirs.desk, Summary: "their secret note"})
		for i := range 60 {
			appendEvents(t, st, &store.Event{ClientID: theirs.client.ID, Time: time.Date(2026, 10, 1, 10, i, 0, 0, time.UTC), Kind: store.KindNote,
				Source: "command", SourceID: fmt.Sprintf("n%d-%s", i, theirs.desk), Summary: "their note"})
		}
		p := newPage(t, st)
		b := p.browser()
		if resp, _ := p.getWith(b, p.links.Timeline(mine.client.Handle, mine.broker, p.now)); resp.StatusCode != http.StatusOK {
			t.Fatalf("own client: %d", resp.StatusCode)
		}
		// Their cursor, from their broker's session.
		tb := p.browser()
		_, theirPage := p.getWith(tb, p.links.Timeline(theirs.client.Handle, theirs.broker, p.now))
		cursor := regexp.MustCompile(`cursor=([^&"#]+)`).FindStringSubmatch(theirPage)
		if cursor == nil {
			t.Fatal("their page has no cursor")
		}
		myLink := p.links.Timeline(mine.client.Handle, mine.broker, p.now)
		q := mustQuery(t, myLink)
		for name, path := range map[string]string{
			"their timeline":           "/clients/" + theirs.client.Handle + "/timeline",
			"their profile":            "/clients/" + theirs.client.Handle + "/profile",
			"their handle, upper case": "/clients/" + strings.ToUpper(theirs.client.Handle) + "/timeline",
			"their id":                 "/clients/" + theirs.client.ID.String() + "/timeline",
			"my link to their handle":  "/clients/" + theirs.client.Handle + "/timeline?" + q.Encode(),
			"their handle with a dot":  "/clients/" + theirs.client.Handle + "%2F..%2F" + mine.client.Handle + "/timeline",
		} {
			resp, body := p.getWith(b, path)
			if resp.StatusCode == http.StatusOK || strings.Contains(body, "their") {
				t.Errorf("%s: %d, shows their data: %v", name, resp.StatusCode, strings.Contains(body, "their"))
			}
		}
		// Their cursor on my page reads my client's events only.
		_, body := p.getWith(b, "/clients/"+mine.client.Handle+"/timeline?range=all&cursor="+cursor[1])
		if strings.Contains(body, "their") {
			t.Error("their cursor shows their events on my page")
		}
	})
}

// The profile shows every field, KYC facts only to the client's broker, the
// desk's managers and admins, goals with progress, do-not-contact and
// review-due badges and the audit trail.
func TestProfilePage(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		ctx := context.Background()
		f := newDesk(t, st, store.RoleBroker)
		colleague, manager := "UC"+strings.ToUpper(uuid.NewString()[:8]), "UM"+strings.ToUpper(uuid.NewString()[:8])
		for _, m := range []store.Member{{SlackID: colleague, Desk: f.desk, Role: store.RoleBroker}, {SlackID: manager, Desk: f.desk, Role: store.RoleManager}} {
			m.AddedBy = "UADMIN"
			if err := st.teams.AddMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		income, target := 250000.0, 500.0
		_, _, err := st.clients.UpdateClient(ctx, f.client.ID, f.broker, func(c *store.Client) error {
			c.Company = "Acme Grain Co-op"
			c.Phones = []store.Phone{{Kind: store.Work, Number: "+13125550100"}}
			c.Emails = []store.Email{{Kind: store.Work, Address: "ops-" + c.Handle + "@acme.test"}}
			c.Contact = store.ContactPrefs{Channels: []store.Channel{store.ChannelPhone, store.ChannelEmail}, Frequency: store.Weekly, DoNotContact: true, DoNotReason: "legal hold"}
			c.Trading = store.TradingPrefs{Commodities: []string{"corn", "wheat"}, Instruments: []store.InstrumentKind{store.Futures}}
			c.Risk = store.Risk{Tolerance: 6, Horizon: store.MediumTerm, ReviewOn: store.Date{Year: 2026, Month: 11, Day: 1}}
			c.KYC = store.KYC{Occupation: "farmer", AnnualIncome: &income}
			c.Goals = []store.Goal{{Term: store.ShortGoal, Description: "Hedge the 2026 harvest", Commodity: "corn", Target: &target, Progress: 40}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		p := newPage(t, st, "UADMIN")
		open := func(user string) string {
			t.Helper()
			b := p.browser()
			p.getWith(b, p.links.Timeline(f.client.Handle, user, p.now))
			resp, body := p.getWith(b, "/clients/"+f.client.Handle+"/profile")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s's profile: %d %s", user, resp.StatusCode, body)
			}
			return body
		}
		body := open(f.broker)
		for _, want := range []string{"Acme Grain Co-op", "phone, email", "weekly", "corn, wheat", "6/10 (moderate)", "medium",
			`<span class="badge dnc">Do not contact</span>legal hold`, "Review overdue", "Hedge the 2026 harvest", `<progress max="100" value="40">`,
			"target 500", "250,000", "Phone (work)", "farmer", "Audit trail", "kyc.income", "Timeline</a>"} {
			if !strings.Contains(body, want) {
				t.Errorf("broker's profile lacks %q", want)
			}
		}
		if !strings.Contains(open(manager), "250,000") || !strings.Contains(open("UADMIN"), "250,000") {
			t.Error("the desk's manager or an admin does not see the KYC facts")
		}
		other := open(colleague)
		if strings.Contains(other, "250,000") || strings.Contains(other, "250000") || strings.Contains(other, "farmer") {
			t.Error("a colleague who is not the client's broker sees the KYC facts, in the card or the audit trail")
		}
		if !strings.Contains(other, "missing") || !strings.Contains(other, "(hidden)") {
			t.Error("a colleague is not told which KYC facts are on file, or the trail shows them")
		}
	})
}

// A dense range is drawn with one mark per lane per stretch of time; the
// marks' counts add up to the events of the range.
func TestTimelineOverviewDense(t *testing.T) {
	st := onEmbedded(t)
	f := newDesk(t, st, store.RoleBroker)
	p := newPage(t, st)
	var events []*store.Event
	for i := range 1200 {
		e := &store.Event{ClientID: f.client.ID, Time: p.now.Add(-time.Duration(i) * 6 * time.Hour), Kind: []store.Kind{store.KindChat, store.KindOrder}[i%2],
			Source: "t", SourceID: fmt.Sprint(i), Summary: "dense"}
		if e.Kind == store.KindOrder {
			e.Attrs.Order = &store.OrderAttrs{Status: "filled", Side: "sell", Quantity: 5, Price: 70}
		} else {
			e.Sentiment = &store.Sentiment{Score: 0.6, Label: "positive"}
		}
		events = append(events, e)
	}
	appendEvents(t, st, events...)
	b := p.browser()
	p.getWith(b, p.links.Timeline(f.client.Handle, f.broker, p.now))
	resp, body := p.getWith(b, "/clients/"+f.client.Handle+"/timeline?range=1y")
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	marks := markRE.FindAllString(body, -1)
	total := 0
	for _, m := range regexp.MustCompile(`data-count="(\d+)"`).FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if len(marks) > 2*60 || len(marks) < 50 || total != 1200 || !strings.Contains(body, `data-marks="1200"`) {
		t.Errorf("%d marks standing for %d events, want at most 120 standing for 1200", len(marks), total)
	}
	if !strings.Contains(body, "mark order sell") || !strings.Contains(body, "mark s-positive") || len(body) > 150_000 {
		t.Errorf("dense marks lack their colours, or the page weighs %d bytes", len(body))
	}
}

// A range of more events than a page could read is drawn whole from the
// day counts the store keeps: the marks stand for every event of the
// range, its partial days at either end (in the viewer's zone) included,
// and the sentiment line runs across it.
func TestTimelineOverviewWholeRange(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		f := newDesk(t, st, store.RoleBroker) // the client's zone, America/Chicago, is the viewer's
		p := newPage(t, st)
		const n = 6000 // more than the 5,000 newest events the overview used to read
		var events []*store.Event
		for i := range n {
			e := &store.Event{ClientID: f.client.ID, Time: p.now.Add(-400 * 24 * time.Hour / n * time.Duration(i)), Kind: []store.Kind{store.KindChat, store.KindOrder, store.KindEmail}[i%3],
				Source: "t", SourceID: fmt.Sprint(i), Summary: "dense"}
			switch e.Kind {
			case store.KindOrder:
				e.Attrs.Order = &store.OrderAttrs{Status: "filled", Side: "buy", Quantity: 5, Price: 70}
			case store.KindChat:
				e.Sentiment = &store.Sentiment{Score: -0.6, Label: "negative"}
			}
			events = append(events, e)
		}
		for batch := range slices.Chunk(events, 1000) {
			appendEvents(t, st, batch...)
		}
		chicago, _ := time.LoadLocation("America/Chicago")
		within := func(since, until time.Time) int {
			k := 0
			for _, e := range events {
				if !e.Time.Before(since) && (until.IsZero() || e.Time.Before(until)) {
					k++
				}
			}
			return k
		}
		b := p.browser()
		p.getWith(b, p.links.Timeline(f.client.Handle, f.broker, p.now))
		for _, tt := range []struct {
			query string
			want  int
		}{
			{"range=1y", within(p.now.Add(-365*24*time.Hour), time.Time{})},
			{"range=all", n},
			{"from=2026-02-10&to=2026-05-20", within(time.Date(2026, 2, 10, 0, 0, 0, 0, chicago), time.Date(2026, 5, 21, 0, 0, 0, 0, chicago))},
		} {
			resp, body := p.getWith(b, "/clients/"+f.client.Handle+"/timeline?"+tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatal(resp.StatusCode)
			}
			total := 0
			for _, m := range regexp.MustCompile(`data-count="(\d+)"`).FindAllStringSubmatch(body, -1) {
				k, _ := strconv.Atoi(m[1])
				total += k
			}
			if total != tt.want || !strings.Contains(body, fmt.Sprintf(`data-marks="%d"`, tt.want)) {
				t.Errorf("%s: marks stand for %d events, want %d", tt.query, total, tt.want)
			}
			if marks := len(markRE.FindAllString(body, -1)); marks > 3*60 {
				t.Errorf("%s: %d marks, want at most 60 a lane", tt.query, marks)
			}
			path := regexp.MustCompile(`<path class="trend" d="([^"]*)"`).FindStringSubmatch(body)
			if path == nil || strings.Count(path[1], "L") < 100 {
				t.Errorf("%s: the sentiment line does not run across the range: %v", tt.query, path)
			}
		}
	})
}
