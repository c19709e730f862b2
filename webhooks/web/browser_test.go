package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/internal/demo"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/segment"
	"github.com/brokersync/brokersync/webhooks/web"
)

// chromium finds Debian's chromium. Where the backends are required (make
// test, CI), a missing browser fails the test; elsewhere it skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("BROKERSYNC_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH (apt-get install chromium, or scripts/services.sh install)"
	if os.Getenv("BROKERSYNC_REQUIRE_BACKENDS") == "1" || os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// outputDir is where the browser test leaves its screenshots
// (BROKERSYNC_TEST_OUTPUT, else testoutput/ here; ignored by git).
func outputDir(t *testing.T) string {
	dir := os.Getenv("BROKERSYNC_TEST_OUTPUT")
	if dir == "" {
		dir = "testoutput"
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A real browser opens a demo client's timeline through a signed link: the
// overview draws one mark per event of the range in its lane, the kind and
// date filters and paging work, the profile opens, nothing is logged as an
// error (a blocked style or script would be), and the pages are
// photographed at 1400 and 400 pixels wide, light and dark.
func TestTimelineInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not short")
	}
	browser := chromium(t)
	ctx := context.Background()
	db, err := embedded.Open(ctx, t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	model, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := &ingest.Recorder{Timeline: db.Timeline(), Scorer: model, Sentiment: db}
	res, err := demo.Load(ctx, demo.Stores{Catalogue: store.DefaultCatalogue(), Clients: db, Teams: db, Trades: db, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	client := res.Clients[0]
	broker := res.Brokers[client.Team][0]

	links := web.Links{BaseURL: "http://placeholder", Key: []byte(uuid.NewString() + uuid.NewString())}
	pages := &web.Pages{Clients: db, Timeline: db.Timeline(), Trades: db, Sentiment: db, Links: links,
		Rights: bot.Rights{Catalogue: store.DefaultCatalogue(), Teams: db}, Now: time.Now, Logger: slog.New(slog.DiscardHandler),
		Segments: db, Reminders: db, Teams: db, Digests: &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: db.Timeline(), Teams: db, Reminders: db}}
	// A saved segment and two follow-ups for the desk page.
	if _, err := db.SaveSegment(ctx, segment.Saved{Name: "cautious", Filter: "risk<=4", CreatedBy: broker, UpdatedBy: broker}); err != nil {
		t.Fatal(err)
	}
	for i, due := range []time.Time{time.Now().Add(-30 * time.Hour), time.Now().Add(time.Minute)} {
		if err := db.CreateReminder(ctx, &store.Reminder{ClientID: client.ID, Broker: broker, Due: due, Text: fmt.Sprintf("call back about the hedge (%d)", i+1), Source: "command", CreatedBy: broker}); err != nil {
			t.Fatal(err)
		}
	}
	r := chi.NewRouter()
	pages.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	pages.Links.BaseURL = srv.URL
	link := pages.Links.Timeline(client.Handle, broker, time.Now())

	// inRange counts the client's events of the kinds given since since.
	inRange := func(since, until time.Time, kinds ...store.Kind) int {
		q := store.EventQuery{Kinds: kinds, Since: since, Until: until, Limit: 1000}
		n := 0
		for {
			page, err := db.Timeline().Events(ctx, client.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Events)
			if page.Next == "" {
				return n
			}
			q.Cursor = page.Next
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				problems = append(problems, fmt.Sprintf("console %s: %v", ev.Type, ev.Args))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError || ev.Entry.Level == log.LevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	out := outputDir(t)
	shot := func(name string, width int64, dark bool) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			scheme := "light"
			if dark {
				scheme = "dark"
			}
			if err := emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}).Do(ctx); err != nil {
				return err
			}
			if err := chromedp.EmulateViewport(width, 900).Do(ctx); err != nil {
				return err
			}
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(out, name), png, 0o644)
		})
	}
	count := func(sel string, n *int) chromedp.Action {
		return chromedp.Evaluate(`document.querySelectorAll(`+strconv.Quote(sel)+`).length`, n)
	}

	var marks, lanes int
	var dataMarks string
	yearAgo := time.Now().Add(-365 * 24 * time.Hour)
	if err := chromedp.Run(bctx, log.Enable(), runtime.Enable(),
		chromedp.Navigate(link),
		chromedp.WaitVisible(`svg[data-marks]`),
		count(`svg circle.mark`, &marks),
		count(`svg text.lane-label`, &lanes),
		chromedp.AttributeValue(`svg[data-marks]`, "data-marks", &dataMarks, nil),
		shot("timeline-1400.png", 1400, false),
		shot("timeline-400.png", 400, false),
		shot("timeline-1400-dark.png", 1400, true),
		chromedp.EmulateViewport(1400, 1000),
	); err != nil {
		t.Fatal(err)
	}
	// The page's year ends now; the store is asked for the same range the
	// moment after, so allow for the seconds between.
	want := inRange(yearAgo.Add(-time.Minute), time.Time{})
	if want == 0 || marks != want || dataMarks != strconv.Itoa(marks) {
		t.Errorf("the overview draws %d marks (says %s); the year holds %d events", marks, dataMarks, want)
	}
	if lanes != len(store.Kinds)+1 {
		t.Errorf("%d lane labels, want one per kind and the sentiment's", lanes)
	}

	// Filter by kind: orders only.
	var orderMarks, otherRows, orderRows int
	if err := chromedp.Run(bctx,
		chromedp.Click(`nav.kinds a[href*="kind=order"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`nav.kinds a.on[href]`),
		count(`svg circle.mark`, &orderMarks),
		count(`li.ev:not(.ev-order)`, &otherRows),
		count(`li.ev-order`, &orderRows),
	); err != nil {
		t.Fatal(err)
	}
	if w := inRange(yearAgo.Add(-time.Minute), time.Time{}, store.KindOrder); orderMarks != w || otherRows != 0 || orderRows == 0 {
		t.Errorf("orders only: %d marks (want %d), %d order rows, %d other rows", orderMarks, w, orderRows, otherRows)
	}

	// Paging: the next page starts after the last entry of this one.
	var lastOnFirst, firstOnSecond string
	if err := chromedp.Run(bctx,
		chromedp.Evaluate(`[...document.querySelectorAll('li.ev')].pop().id`, &lastOnFirst),
		chromedp.Click(`a[rel=next]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`li.ev`),
		chromedp.Evaluate(`document.querySelector('li.ev').id`, &firstOnSecond),
		count(`li.ev:not(.ev-order)`, &otherRows),
	); err != nil {
		t.Fatal(err)
	}
	if lastOnFirst == "" || firstOnSecond == "" || lastOnFirst == firstOnSecond || otherRows != 0 {
		t.Errorf("paging: last of the first page %q, first of the second %q, %d rows of other kinds", lastOnFirst, firstOnSecond, otherRows)
	}

	// A date range, typed into the form: the ninety days before a month ago.
	from, to := time.Now().AddDate(0, -4, 0), time.Now().AddDate(0, -1, 0)
	var rangeMarks int
	if err := chromedp.Run(bctx,
		chromedp.Navigate(srv.URL+"/clients/"+client.Handle+"/timeline"),
		chromedp.WaitVisible(`#from`),
		chromedp.SetValue(`#from`, from.Format("2006-01-02")),
		chromedp.SetValue(`#to`, to.Format("2006-01-02")),
		chromedp.Submit(`#to`),
		chromedp.WaitVisible(`svg[data-marks]`),
		chromedp.Sleep(200*time.Millisecond),
		count(`svg circle.mark`, &rangeMarks),
	); err != nil {
		t.Fatal(err)
	}
	// The page reads the dates in the viewer's zone: the client's, here.
	loc, _ := store.Location(client.TimeZone)
	since := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	until := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc)
	if w := inRange(since, until); rangeMarks != w || w == 0 {
		t.Errorf("date range %s..%s: %d marks, want %d", from.Format(time.DateOnly), to.Format(time.DateOnly), rangeMarks, w)
	}

	// The profile, from the timeline.
	var goals int
	var heading string
	if err := chromedp.Run(bctx,
		chromedp.Click(`nav.top a[href$="/profile"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#goals`),
		count(`#goals progress`, &goals),
		chromedp.Text(`#audit h2`, &heading),
		shot("profile-1400.png", 1400, false),
		shot("profile-400.png", 400, false),
	); err != nil {
		t.Fatal(err)
	}
	if goals != len(client.Goals) || !strings.Contains(strings.ToLower(heading), "audit") {
		t.Errorf("profile: %d goal bars (want %d), audit heading %q", goals, len(client.Goals), heading)
	}
	// The desk page, from the profile's header: the broker's desk's
	// clients, a filter, a mistake shown in place, the follow-ups.
	deskClients, err := db.FindClients(ctx, store.ClientFilter{Teams: []string{client.Team}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var rows, overdue, matching int
	var caret string
	if err := chromedp.Run(bctx,
		chromedp.Click(`nav.top a[href="/desk"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#clients`),
		count(`#clients tr.client`, &rows),
		count(`#followups li.overdue`, &overdue),
		shot("desk-1400.png", 1400, false),
		shot("desk-400.png", 400, false),
		shot("desk-1400-dark.png", 1400, true),
		chromedp.EmulateViewport(1400, 1000),
		chromedp.Click(`#segments a`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#matching`),
		chromedp.Evaluate(`+document.querySelector('#matching').textContent`, &matching),
		chromedp.SetValue(`#filter`, "risk>=4 rsk<2"),
		chromedp.Submit(`#filter`),
		chromedp.WaitVisible(`#filter-error`),
		chromedp.Text(`#filter-error pre.caret`, &caret),
		shot("desk-filter-error-400.png", 400, false),
		chromedp.EmulateViewport(1400, 1000),
	); err != nil {
		t.Fatal(err)
	}
	if rows != min(len(deskClients), 50) || rows == 0 || overdue != 1 {
		t.Errorf("desk page: %d client rows (desk has %d), %d overdue follow-ups (want 1)", rows, len(deskClients), overdue)
	}
	cautious := 0
	for _, c := range deskClients {
		if c.Risk.Tolerance > 0 && c.Risk.Tolerance <= 4 {
			cautious++
		}
	}
	if matching != cautious {
		t.Errorf("the saved segment risk<=4 matches %d, the desk has %d such clients", matching, cautious)
	}
	if !strings.Contains(caret, "risk>=4 rsk<2\n        ^~~") {
		t.Errorf("the filter's mistake is not marked: %q", caret)
	}

	// The manager's digest, from a desk link: the desk page offers it.
	var digests, digestLinks int
	if err := chromedp.Run(bctx,
		chromedp.Navigate(pages.Links.Desk(demo.Manager, time.Now())),
		chromedp.WaitReady(`#clients`, chromedp.ByQuery),
		count(`nav.top a[href="/desk/digest"]`, &digestLinks),
		chromedp.Navigate(srv.URL+"/desk/digest"),
		chromedp.WaitReady(`article.digest`, chromedp.ByQuery),
		count(`article.digest`, &digests),
		shot("digest-1400.png", 1400, false),
		shot("digest-400.png", 400, false),
	); err != nil {
		t.Fatal(err)
	}
	if digestLinks != 1 {
		t.Errorf("the manager's desk page has %d links to the digest, want 1", digestLinks)
	}
	if digests != len(res.Desks) {
		t.Errorf("the manager's digest page shows %d desks, want %d", digests, len(res.Desks))
	}

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the browser reported errors:\n%s", strings.Join(problems, "\n"))
	}
	t.Logf("screenshots in %s", out)
}
