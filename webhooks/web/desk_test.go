package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
	"github.com/brokersync/brokersync/webhooks/web"
)

// openDesk opens the desk pages from a signed desk link for user and
// returns the browser holding the session.
func openDesk(t *testing.T, p *page, user string) *http.Client {
	t.Helper()
	b := p.browser()
	if resp, body := p.getWith(b, p.links.Desk(user, p.now)); resp.StatusCode != http.StatusOK {
		t.Fatalf("desk link for %s: %d %s", user, resp.StatusCode, body)
	}
	return b
}

func addMember(t *testing.T, st backing, user, desk string, role store.Role) {
	t.Helper()
	if err := st.teams.AddMember(context.Background(), store.Member{SlackID: user, Desk: desk, Role: role, AddedBy: "UADMIN"}); err != nil {
		t.Fatal(err)
	}
}

func newUser(prefix string) string { return prefix + strings.ToUpper(uuid.NewString()[:8]) }

// The desk page lists the clients of the viewer's desks only: a broker
// their desks', a manager the desks they manage, an admin every desk's;
// another desk asked for by changing the address is refused, and so is the
// digest of a desk the viewer does not manage.
func TestDeskPageRights(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		mine := newDesk(t, st, store.RoleBroker)
		theirs := newDesk(t, st, store.RoleBroker)
		manager, stranger := newUser("UM"), newUser("UX")
		addMember(t, st, manager, mine.desk, store.RoleManager)
		p := newPage(t, st, "UADMIN")

		b := openDesk(t, p, mine.broker)
		get := func(b *http.Client, path string) (int, string) {
			t.Helper()
			resp, body := p.getWith(b, path)
			return resp.StatusCode, body
		}
		code, body := get(b, "/desk")
		if code != http.StatusOK || !strings.Contains(body, "@"+mine.client.Handle) || strings.Contains(body, theirs.client.Handle) {
			t.Fatalf("broker's desk page: %d, lists own client %v, lists theirs %v", code, strings.Contains(body, mine.client.Handle), strings.Contains(body, theirs.client.Handle))
		}
		if strings.Contains(body, `href="/desk/digest`) {
			t.Error("a broker is offered the digest")
		}
		// Changing any part of the address does not show the other desk.
		for name, path := range map[string]string{
			"their desk":             "/desk?desk=" + theirs.desk,
			"their desk, upper case": "/desk?desk=" + strings.ToUpper(theirs.desk),
			"their digest":           "/desk/digest?desk=" + theirs.desk,
			"my digest as a broker":  "/desk/digest?desk=" + mine.desk,
			"no desk":                "/desk?desk=" + url.QueryEscape("nowhere"),
		} {
			if code, body := get(b, path); code != http.StatusForbidden || strings.Contains(body, theirs.client.Handle) {
				t.Errorf("%s: %d, shows their client %v", name, code, strings.Contains(body, theirs.client.Handle))
			}
		}
		// Filters and searches stay within the viewer's desks.
		for _, q := range []string{"filter=" + url.QueryEscape("desk:"+theirs.desk), "q=" + url.QueryEscape(theirs.client.Handle),
			"filter=" + url.QueryEscape("desk:"+theirs.desk) + "&q=acme", "desk=" + mine.desk + "&filter=" + url.QueryEscape("-desk:"+mine.desk)} {
			// (The search box shows what was searched for: look for the
			// client in the list.)
			if code, body := get(b, "/desk?"+q); code != http.StatusOK || strings.Contains(body, "@"+theirs.client.Handle+"</span>") {
				t.Errorf("%s: %d, lists their client", q, code)
			}
		}

		// The manager sees the desk and its digest, not the other desk's.
		mb := openDesk(t, p, manager)
		if code, body := get(mb, "/desk"); code != http.StatusOK || !strings.Contains(body, mine.client.Handle) || strings.Contains(body, theirs.client.Handle) || !strings.Contains(body, `href="/desk/digest`) {
			t.Errorf("manager's desk page: %d", code)
		}
		// One fill of one contract today, counted in the singular.
		appendEvents(t, st, &store.Event{ClientID: mine.client.ID, Time: p.now.Add(-time.Hour), Kind: store.KindOrder, Source: "orders",
			SourceID: "E-" + mine.desk, Summary: "Filled buy 1 ZCZ6", Attrs: store.Attrs{Order: &store.OrderAttrs{OrderID: "O-1", ExecID: "E-1",
				Status: "filled", Side: "buy", Quantity: 1, Filled: 1, Price: 450, Contract: "ZCZ6", Commodity: "corn"}}})
		if code, body := get(mb, "/desk/digest"); code != http.StatusOK || !strings.Contains(body, "<h2 id=\"d-"+mine.desk+"\">") ||
			!strings.Contains(body, "<b>1</b> fill</span><span><b>1</b> contract</span>") {
			t.Errorf("manager's digest: %d %s", code, body)
		}
		if code, _ := get(mb, "/desk/digest?desk="+theirs.desk); code != http.StatusForbidden {
			t.Errorf("manager opening another desk's digest: %d, want 403", code)
		}

		// An admin sees every desk, and any desk's digest.
		ab := openDesk(t, p, "UADMIN")
		if code, body := get(ab, "/desk?q=acme"); code != http.StatusOK || !strings.Contains(body, mine.client.Handle) || !strings.Contains(body, theirs.client.Handle) {
			t.Errorf("admin's desk page: %d", code)
		}
		if code, body := get(ab, "/desk/digest?desk="+theirs.desk); code != http.StatusOK || !strings.Contains(body, theirs.desk) {
			t.Errorf("admin's digest of a desk: %d", code)
		}

		// Someone on no desk is refused; a broker who leaves is refused at once.
		sb := p.browser()
		if resp, _ := p.getWith(sb, p.links.Desk(stranger, p.now)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("someone on no desk: %d, want 403", resp.StatusCode)
		}
		if err := st.teams.RemoveMember(context.Background(), mine.broker, "UADMIN"); err != nil {
			t.Fatal(err)
		}
		if code, body := get(b, "/desk"); code != http.StatusForbidden || strings.Contains(body, mine.client.Handle) {
			t.Errorf("after leaving the desk: %d, want 403", code)
		}
	})
}

// Desk links are signed for the desk pages only: expired, forged and
// tampered ones are refused, and a client's link does not open them.
func TestDeskLinksRefused(t *testing.T) {
	st := onEmbedded(t)
	f := newDesk(t, st, store.RoleBroker)
	p := newPage(t, st)
	good := p.links.Desk(f.broker, p.now)
	if code := p.code(good); code != http.StatusOK {
		t.Fatalf("desk link: %d", code)
	}
	clientLink := p.links.Timeline(f.client.Handle, f.broker, p.now)
	_, clientQuery, _ := strings.Cut(clientLink, "?")
	for name, link := range map[string]string{
		"expired":        p.links.Desk(f.broker, p.now.Add(-web.LinkTTL-time.Second)),
		"from elsewhere": web.Links{Key: []byte("another key, 32 bytes long......")}.Desk(f.broker, p.now),
		"other user":     strings.Replace(good, "u="+f.broker, "u=UADMIN", 1),
		"a client link":  "/desk?" + clientQuery,
	} {
		if code := p.code(link); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	// And a desk link does not open a client's page.
	_, deskQuery, _ := strings.Cut(good, "?")
	if code := p.code("/clients/" + f.client.Handle + "/timeline?" + deskQuery); code != http.StatusForbidden {
		t.Errorf("desk link on a client page: %d, want 403", code)
	}
}

// The segment filter box uses the filter language: matching clients with
// their count, a mistake shown in place with the caret, saved segments
// (only those the viewer may see) with counts and links that apply them.
func TestDeskSegmentFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		ctx := context.Background()
		f := newDesk(t, st, store.RoleBroker)
		other := newDesk(t, st, store.RoleBroker)
		tag := unique("vip")
		if _, _, err := store.TagClient(ctx, st.clients, f.client.ID, f.broker, []string{tag}, nil); err != nil {
			t.Fatal(err)
		}
		plain := &store.Client{Handle: unique("plain"), Name: "Plain Farms", Team: f.desk, Broker: f.broker, Kind: store.Individual}
		if err := st.clients.CreateClient(ctx, plain, f.broker); err != nil {
			t.Fatal(err)
		}
		mineSeg, theirSeg := unique("vips"), unique("theirs")
		if _, err := st.segments.SaveSegment(ctx, segment.Saved{Name: mineSeg, Filter: "tag:" + tag, CreatedBy: f.broker, UpdatedBy: f.broker}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.segments.SaveSegment(ctx, segment.Saved{Name: theirSeg, Filter: "desk:" + other.desk, CreatedBy: other.broker, UpdatedBy: other.broker}); err != nil {
			t.Fatal(err)
		}
		p := newPage(t, st)
		b := openDesk(t, p, f.broker)
		get := func(path string) string {
			t.Helper()
			resp, body := p.getWith(b, path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
			return body
		}
		body := get("/desk?desk=" + f.desk + "&filter=" + url.QueryEscape("tag:"+tag))
		if !strings.Contains(body, `<span class="count" id="matching">1</span> client match`) || !strings.Contains(body, "@"+f.client.Handle) || strings.Contains(body, plain.Handle) {
			t.Errorf("filter tag:%s does not show its one client", tag)
		}
		// Saved segments: mine with its count and a link applying it; the
		// other desk's is not listed.
		body = get("/desk")
		want := `<a href="?filter=` + url.QueryEscape("tag:"+tag) + `">` + mineSeg + `</a>`
		if !strings.Contains(body, strings.ReplaceAll(want, "%3A", "%3a")) && !strings.Contains(body, want) {
			t.Errorf("saved segment %s not linked: want %s", mineSeg, want)
		}
		if i := strings.Index(body, mineSeg+"</a>"); i < 0 || !strings.Contains(body[i:i+120], `<span class="count">1</span> client`) {
			t.Errorf("saved segment %s lacks its count", mineSeg)
		}
		if strings.Contains(body, theirSeg) {
			t.Error("another desk's saved segment is listed")
		}
		// Search within the filter.
		body = get("/desk?filter=" + url.QueryEscape("-tag:nothing") + "&q=plain")
		if !strings.Contains(body, plain.Handle) || strings.Contains(body, "@"+f.client.Handle) {
			t.Error("search within a filter does not narrow it")
		}
		// A mistake, in place, with the caret under the bad part.
		body = get("/desk?filter=" + url.QueryEscape("tag:x rsk>=7"))
		if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "did you mean risk?") ||
			!strings.Contains(body, "<pre class=\"caret\">tag:x rsk&gt;=7\n      ^~~</pre>") || !strings.Contains(body, `aria-invalid="true"`) {
			t.Error("filter mistake not shown with its caret")
		}
		// A segment: term naming the other desk's segment is unknown here,
		// as in /segment preview.
		body = get("/desk?filter=" + url.QueryEscape("segment:"+theirSeg))
		if !strings.Contains(body, `role="alert"`) || strings.Contains(body, other.client.Handle) {
			t.Error("segment: of another desk's segment is not refused in place")
		}
	})
}

// Follow-ups due by the end of the viewer's day and overdue are listed by
// broker, the viewer's own first; later ones, done ones and other desks'
// are not.
func TestDeskFollowups(t *testing.T) {
	eachBackend(t, func(t *testing.T, st backing) {
		ctx := context.Background()
		f := newDesk(t, st, store.RoleBroker)
		other := newDesk(t, st, store.RoleBroker)
		colleague := newUser("UC")
		addMember(t, st, colleague, f.desk, store.RoleBroker)
		p := newPage(t, st)
		add := func(client uuid.UUID, broker, text string, due time.Time) *store.Reminder {
			t.Helper()
			r := &store.Reminder{ClientID: client, Broker: broker, Due: due, Text: text, Source: "command", CreatedBy: broker}
			if err := st.reminders.CreateReminder(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		add(f.client.ID, f.broker, "call about the basis "+f.desk, p.now.Add(-26*time.Hour))
		add(f.client.ID, colleague, "send the harvest report "+f.desk, p.now.Add(3*time.Hour))
		add(f.client.ID, f.broker, "next week's review "+f.desk, p.now.Add(7*24*time.Hour))
		done := add(f.client.ID, f.broker, "already done "+f.desk, p.now.Add(-time.Hour))
		if _, err := st.reminders.CloseReminder(ctx, done.ID, p.now); err != nil {
			t.Fatal(err)
		}
		add(other.client.ID, other.broker, "their follow-up "+other.desk, p.now.Add(-time.Hour))
		b := openDesk(t, p, f.broker)
		resp, body := p.getWith(b, "/desk")
		if resp.StatusCode != http.StatusOK {
			t.Fatal(resp.StatusCode)
		}
		i := strings.Index(body, `id="followups"`)
		if i < 0 {
			t.Fatal("no follow-ups section")
		}
		section := body[i:]
		for _, want := range []string{`<li class="overdue"><span class="late">overdue</span> since Sun 29 Nov 14:04 UTC: <a href="/clients/` + f.client.Handle + `/timeline">Acme Grain</a> — call about the basis`,
			`<li class="due">due Mon 30 Nov 19:04 UTC`, "send the harvest report", "@" + f.broker + " (you)", "@" + colleague} {
			if !strings.Contains(section, want) {
				t.Errorf("follow-ups lack %q", want)
			}
		}
		if strings.Index(section, "@"+f.broker+" (you)") > strings.Index(section, "@"+colleague) {
			t.Error("the viewer's own follow-ups are not first")
		}
		for _, not := range []string{"next week", "already done", "their follow-up"} {
			if strings.Contains(section, not) {
				t.Errorf("follow-ups show %q", not)
			}
		}
	})
}

// No page changes data, so no page takes a form that would need CSRF
// protection: every other method than GET and HEAD is refused on every
// page, whatever session comes with it.
func TestPagesRefuseWrites(t *testing.T) {
	st := onEmbedded(t)
	f := newDesk(t, st, store.RoleBroker)
	p := newPage(t, st, "UADMIN")
	b := openDesk(t, p, "UADMIN")
	for _, path := range []string{"/desk", "/desk/digest", "/desk?desk=" + f.desk, "/clients/" + f.client.Handle + "/timeline", "/clients/" + f.client.Handle + "/profile"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			req, err := http.NewRequest(method, p.srv.URL+path, strings.NewReader("filter=x"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", p.srv.URL)
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", method, path, resp.StatusCode)
			}
		}
		if code := codeWith(t, p, b, path); code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
	}
}

// The links /desk gives open the desk page of the desk named, and the
// digest for its managers; a broker changing the desk in the link, or
// opening the digest, is refused.
func TestDeskPageLinks(t *testing.T) {
	st := onEmbedded(t)
	mine, theirs := newDesk(t, st, store.RoleBroker), newDesk(t, st, store.RoleBroker)
	manager := "UM" + strings.ToUpper(uuid.NewString()[:8])
	if err := st.teams.AddMember(context.Background(), store.Member{SlackID: manager, Desk: mine.desk, Role: store.RoleManager, AddedBy: "UADMIN"}); err != nil {
		t.Fatal(err)
	}
	p := newPage(t, st)
	resp, body := p.get(p.links.DeskPage(mine.broker, mine.desk, false, p.now))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, mine.client.Handle) || resp.Request.URL.Query().Get("desk") != mine.desk {
		t.Errorf("a broker's desk link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	for name, link := range map[string]string{
		"another desk":        p.links.DeskPage(mine.broker, theirs.desk, false, p.now),
		"the desk changed":    strings.Replace(p.links.DeskPage(mine.broker, mine.desk, false, p.now), "desk="+mine.desk, "desk="+theirs.desk, 1),
		"a broker's digest":   p.links.DeskPage(mine.broker, mine.desk, true, p.now),
		"another desk digest": p.links.DeskPage(manager, theirs.desk, true, p.now),
	} {
		if code := p.code(link); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	if resp, body := p.get(p.links.DeskPage(manager, mine.desk, true, p.now)); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h2 id=\"d-"+mine.desk+"\">") {
		t.Errorf("a manager's digest link: %d", resp.StatusCode)
	}
}
