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

	link := links.Timeline("acme-grain", "U1", now)
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

	code, body = get(srv.URL + strings.TrimPrefix(link, links.BaseURL) + "&kind=email")
	if code != http.StatusOK || strings.Contains(body, "Filled buy") || !strings.Contains(body, "Slippage") {
		t.Errorf("kind filter: %d, order shown: %v", code, strings.Contains(body, "Filled buy"))
	}

	for name, url := range map[string]string{
		"unsigned":     srv.URL + "/clients/acme-grain/timeline",
		"other client": srv.URL + "/clients/other/timeline?" + strings.SplitN(link, "?", 2)[1],
		"tampered":     srv.URL + strings.TrimPrefix(strings.Replace(link, "u=U1", "u=U2", 1), links.BaseURL),
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
