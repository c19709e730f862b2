package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks/web"
)

func TestTimelinePage(t *testing.T) {
	ctx := context.Background()
	db, err := embedded.Open(ctx, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &store.Client{Handle: "acme-grain", Name: "Acme Grain <Co-op>", TimeZone: "America/Chicago", Tags: []string{"hedger"}}
	if err := db.CreateClient(ctx, c, "U1"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 15, 4, 0, 0, time.UTC)
	events := []*store.Event{
		{ClientID: c.ID, Time: at, Kind: store.KindOrder, Source: "orders", SourceID: "E-1", Summary: "Filled buy 10 ZCZ6 (Dec 2026 corn) @ 452.25",
			Attrs: store.Attrs{Order: &store.OrderAttrs{Status: "filled", Side: "buy", Quantity: 10, Contract: "ZCZ6", Price: 452.25}}},
		{ClientID: c.ID, Time: at.Add(-time.Hour), Kind: store.KindEmail, Source: "imap", SourceID: "m1", Summary: "Slippage <script>",
			Body: "I'm not happy with the slippage.", Sentiment: &store.Sentiment{Score: -0.8, Label: "negative"}},
		{ClientID: c.ID, Time: at.Add(-2 * time.Hour), Kind: store.KindCall, Source: "calls", SourceID: "c1", Actor: "U024BE7LH",
			Summary: "Called about the basis", Attrs: store.Attrs{Call: &store.CallAttrs{Direction: "outbound", Duration: 90 * time.Minute}}},
		{ClientID: c.ID, Time: at.Add(-3 * time.Hour), Kind: store.KindEvent, Source: "link", SourceID: "l1", Actor: "U024BE7LH",
			Summary: "Slack channel <#C1> linked by <@U024BE7LH>"},
		{ClientID: c.ID, Time: at.Add(-4 * time.Hour), Kind: store.KindEvent, Source: "market", SourceID: "mv1", Actor: "market",
			Summary: "Market move: corn down 4.2%"},
	}
	for _, e := range events {
		if err := e.Prepare(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Timeline().AppendEvents(ctx, events...); err != nil {
		t.Fatal(err)
	}
	now := at.Add(time.Hour)
	links := web.Links{BaseURL: "http://brokersync.test", Key: []byte("k")}
	pages := &web.Pages{Clients: db, Timeline: db.Timeline(), Links: links, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	r := chi.NewRouter()
	pages.Mount(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	link := links.Timeline("acme-grain", "U024BE7LH", now)
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get(srv.URL + strings.TrimPrefix(link, links.BaseURL))
	if code != http.StatusOK {
		t.Fatalf("signed link: %d %s", code, body)
	}
	for _, want := range []string{"Acme Grain &lt;Co-op&gt;", "Filled buy 10 ZCZ6", "Slippage &lt;script&gt;", "negative -0.80", "Monday 30 November 2026", "09:04"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Index(body, "Filled buy") > strings.Index(body, "Slippage") {
		t.Error("events are not newest first")
	}
	// Icons are text, not an attribute html/template percent-encodes as a URL.
	if strings.Contains(body, "%e2") || strings.Contains(body, "data-icon") || !strings.Contains(body, `<span class="icon" aria-hidden="true">☎</span>`) {
		t.Error("the icons are not shown as text")
	}
	// Call lengths keep their digits; nobody reads 1h30m0s.
	if !strings.Contains(body, "outbound call · 1h 30m") {
		t.Error("the call's length is not 1h 30m")
	}
	// Without a Slack directory, mentions show as ids, never as markup, and
	// a system actor is not made a mention.
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
	pages.Names = &bot.Names{Users: dir, Channels: dir}
	_, body = get(srv.URL + strings.TrimPrefix(link, links.BaseURL))
	for _, want := range []string{"Slack channel #acme-deals linked by @jane", "<span>@jane</span>", "<span>market</span>", "15:04 GMT", "09:04 CST for the client", "times in Europe/London"} {
		if !strings.Contains(body, want) {
			t.Errorf("page with Slack lacks %q", want)
		}
	}
	pages.Names = nil

	code, body = get(srv.URL + strings.TrimPrefix(link, links.BaseURL) + "&kind=email")
	if code != http.StatusOK || strings.Contains(body, "Filled buy") || !strings.Contains(body, "Slippage") {
		t.Errorf("kind filter: %d, order shown: %v", code, strings.Contains(body, "Filled buy"))
	}

	for name, url := range map[string]string{
		"unsigned":     srv.URL + "/clients/acme-grain/timeline",
		"other client": srv.URL + "/clients/other/timeline?" + strings.SplitN(link, "?", 2)[1],
		"tampered":     srv.URL + strings.TrimPrefix(strings.Replace(link, "u=U024BE7LH", "u=U0OTHER", 1), links.BaseURL),
	} {
		if code, _ := get(url); code != http.StatusForbidden {
			t.Errorf("%s link: %d, want 403", name, code)
		}
	}
	if _, ok := links.Verify("acme-grain", mustQuery(t, link), now.Add(web.LinkTTL+time.Minute)); ok {
		t.Error("an expired link verified")
	}
}

func mustQuery(t *testing.T, link string) map[string][]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req.URL.Query()
}
