// Package storetest holds the contract tests that every store backend passes.
// A backend's own test calls the Run* function with a constructor; the suite
// asserts only what a caller of the store interface can observe.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// RunTimelineTests runs the timeline contract against one backend.
//
// newStore is called once per subtest and may hand out the same store each
// time: every subtest works on its own random client ids and source ids, so
// subtests run in parallel and never see each other's events. The suite does
// not close the store; newStore should register its own cleanup.
//
// Ordering contract checked here: newest first; events with the same time are
// ordered by id, descending in byte order. Replacing an event (same source
// and source id) is checked with the same time, as sources give it: the
// Cassandra backend keys rows by time and does not move an event whose time
// changed.
func RunTimelineTests(t *testing.T, newStore func(t *testing.T) store.TimelineStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.TimelineStore)
	}{
		{"EveryKindRoundTrips", testEveryKind},
		{"PrepareDerivedFields", testPrepareDerived},
		{"InvalidBatchWritesNothing", testInvalidBatch},
		{"DuplicatesAreOneEvent", testDuplicates},
		{"RecordedIsNeverReplaced", testNeverReplaced},
		{"RevisionsNameTheirVersion", testRevisions},
		{"ConcurrentReuseOneWins", testConcurrentReuse},
		{"RepeatsAmongNewEvents", testRepeatsAmongNew},
		{"OutOfOrderWritesReadNewestFirst", testOutOfOrder},
		{"BucketEdges", testBucketEdges},
		{"AroundNow", testAroundNow},
		{"Paging10000", testPaging10000},
		{"FiltersWithPaging", testFilters},
		{"EmptyClient", testEmptyClient},
		{"GetOneAndNotFound", testGetOne},
		{"MalformedCursor", testMalformedCursor},
		{"BadQuery", testBadQuery},
		{"DayCounts", testDayCounts},
		{"DayCountsFollowRecord", testDayCountsFollowRecord},
		{"DayCountsConcurrent", testDayCountsConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// client is one test client. Its random id also prefixes its source ids, so
// that event ids (derived from source ids) never collide across subtests or
// runs against a shared store.
type client struct {
	id uuid.UUID
	n  int
}

func newClient() *client { return &client{id: uuid.New()} }

// event returns a minimal valid event of this client, not yet prepared.
func (c *client) event(kind store.Kind, at time.Time) *store.Event {
	c.n++
	return &store.Event{
		ClientID: c.id,
		Time:     at,
		Kind:     kind,
		Source:   "storetest",
		SourceID: fmt.Sprintf("%s/%d", c.id, c.n),
		Actor:    "U0BROKER",
		Summary:  fmt.Sprintf("%s #%d", kind, c.n),
	}
}

func mustPrepare(t *testing.T, evs ...*store.Event) {
	t.Helper()
	for _, e := range evs {
		if err := e.Prepare(); err != nil {
			t.Fatalf("prepare %v: %v", e, err)
		}
	}
}

func appendAll(t *testing.T, s store.TimelineStore, evs ...*store.Event) {
	t.Helper()
	if err := s.AppendEvents(t.Context(), evs...); err != nil {
		t.Fatalf("AppendEvents(%d events): %v", len(evs), err)
	}
}

// readAll pages through a query to the end and returns every event read.
func readAll(t *testing.T, s store.TimelineStore, id uuid.UUID, q store.EventQuery) []*store.Event {
	t.Helper()
	var all []*store.Event
	for pages := 0; ; pages++ {
		if pages > 20000 {
			t.Fatalf("paging did not end after %d pages", pages)
		}
		page, err := s.Events(t.Context(), id, q)
		if err != nil {
			t.Fatalf("Events(page %d, %+v): %v", pages, q, err)
		}
		if limit := store.PageLimit(q.Limit); len(page.Events) > limit {
			t.Fatalf("page %d has %d events, limit is %d", pages, len(page.Events), limit)
		}
		if page.Next != "" && len(page.Events) == 0 {
			t.Fatalf("page %d is empty but has a next cursor", pages)
		}
		all = append(all, page.Events...)
		if page.Next == "" {
			return all
		}
		if page.Next == q.Cursor {
			t.Fatalf("page %d returned its own cursor: paging does not advance", pages)
		}
		q.Cursor = page.Next
	}
}

// newestFirst sorts events as the stores must return them.
func newestFirst(evs []*store.Event) []*store.Event {
	out := slices.Clone(evs)
	slices.SortFunc(out, func(a, b *store.Event) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(string(b.ID[:]), string(a.ID[:]))
	})
	return out
}

// wantOrder checks that got holds exactly the events of want, in want's order,
// each once. It reports the first difference, which is what one needs to debug
// a paging bug.
func wantOrder(t *testing.T, what string, got, want []*store.Event) {
	t.Helper()
	seen := make(map[uuid.UUID]int, len(got))
	for i, e := range got {
		if j, dup := seen[e.ID]; dup {
			t.Fatalf("%s: event %s (%s) returned twice, at %d and %d", what, e.ID, e.Time.Format(time.RFC3339Nano), j, i)
		}
		seen[e.ID] = i
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i].ID != want[i].ID {
			t.Fatalf("%s: at %d got %s at %s, want %s at %s", what, i,
				got[i].ID, got[i].Time.Format(time.RFC3339Nano), want[i].ID, want[i].Time.Format(time.RFC3339Nano))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d events, want %d", what, len(got), len(want))
	}
}

// sameEvent compares every field through JSON, which prints a readable diff
// and treats nil and empty optional members the same way the stores do.
func sameEvent(t *testing.T, what string, got, want *store.Event) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

func wantCode(t *testing.T, what string, err error, code store.Code) {
	t.Helper()
	if got := store.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

func date(y int, m time.Month, d, hh, mm, ss, ms int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
}

// everyKind returns one event of each kind with the attributes its kind uses.
func everyKind(c *client, base time.Time) []*store.Event {
	var evs []*store.Event
	for i, k := range store.Kinds {
		e := c.event(k, base.Add(time.Duration(i)*time.Minute+time.Duration(i)*time.Millisecond))
		e.Body = fmt.Sprintf("Körper %d — «ünïcödé» 🌽 with\nnewlines\tand tabs", i)
		e.Sentiment = &store.Sentiment{Score: -0.734 + float64(i)*0.1337, Label: "neutral"}
		switch k {
		case store.KindEmail:
			e.Actor = "jane@grain.example"
			e.Attrs.Email = &store.EmailAttrs{
				Subject: "Re: Dec corn hedge", ThreadID: "<thread-1@grain.example>", From: "jane@grain.example",
				To: []string{"desk@broker.example"}, Cc: []string{"ops@grain.example", "risk@broker.example"},
				Direction: "inbound", Attachments: []string{"hedge.pdf"}, Mailbox: "desk",
			}
		case store.KindChat:
			e.Attrs.Chat = &store.ChatAttrs{Channel: "C0123", Edited: true}
		case store.KindCall:
			e.Attrs.Call = &store.CallAttrs{Direction: "outbound", Duration: 7*time.Minute + 3*time.Second, From: "+13125550100", To: "+442071838750"}
		case store.KindOrder:
			e.Sentiment = nil
			e.Attrs.Order = &store.OrderAttrs{
				OrderID: "ORD-77", ExecID: "EX-9", Status: "partially_filled", Commodity: "corn", Contract: "ZCZ6",
				Side: "buy", Quantity: 25, Filled: 10, Price: 4.3725, Currency: "USD", OrderType: "limit", Notes: "scale in",
			}
		case store.KindEvent:
			e.Sentiment = nil
			e.Attrs.Change = []store.Change{{Field: "risk.tolerance", Old: "4", New: "7"}, {Field: "stage", Old: "onboarding", New: "active"}}
		case store.KindFeedback:
			e.Sentiment = &store.Sentiment{Score: 1, Label: "positive"}
			e.Attrs.Feedback = &store.FeedbackAttrs{Rating: 5}
		case store.KindNote:
			e.Attrs.Extra = map[string]string{"mentions": "U01,U02"}
		case store.KindRecommendation:
			e.Sentiment = &store.Sentiment{Score: -1, Label: "negative"}
			e.Attrs.Extra = map[string]string{"status": "followed", "commodity": "wheat"}
		}
		evs = append(evs, e)
	}
	return evs
}

func testEveryKind(t *testing.T, s store.TimelineStore) {
	c := newClient()
	evs := everyKind(c, date(2025, 3, 14, 9, 26, 53, 589))
	mustPrepare(t, evs...)
	appendAll(t, s, evs...)

	got := readAll(t, s, c.id, store.EventQuery{})
	want := newestFirst(evs)
	wantOrder(t, "every kind", got, want)
	for i := range got {
		sameEvent(t, "Events "+string(want[i].Kind), got[i], want[i])
		one, err := s.Event(t.Context(), c.id, want[i].ID)
		if err != nil {
			t.Fatalf("Event(%s): %v", want[i].Kind, err)
		}
		sameEvent(t, "Event "+string(want[i].Kind), one, want[i])
	}
}

func testPrepareDerived(t *testing.T, s store.TimelineStore) {
	c := newClient()
	e := c.event(store.KindEmail, time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CET", 3600)))
	e.Body = strings.Repeat("grain ", store.BodyMax) // far longer than BodyMax
	// Stores accept events that were not prepared yet and prepare them.
	appendAll(t, s, e)

	id := store.EventID(e.Source, e.SourceID)
	got, err := s.Event(t.Context(), c.id, id)
	if err != nil {
		t.Fatalf("Event by derived id: %v", err)
	}
	if !got.Truncated || len([]rune(got.Body)) > store.BodyMax+1 || !strings.HasSuffix(got.Body, "…") {
		t.Errorf("body not cut to an excerpt: truncated=%v, %d runes", got.Truncated, len([]rune(got.Body)))
	}
	if want := date(2025, 5, 6, 6, 8, 9, 123); !got.Time.Equal(want) || got.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC, cut to the millisecond", got.Time, want)
	}
}

func testInvalidBatch(t *testing.T, s store.TimelineStore) {
	c := newClient()
	good := c.event(store.KindNote, date(2025, 1, 2, 3, 4, 5, 6))
	bad := c.event(store.KindNote, time.Time{}) // no time
	err := s.AppendEvents(t.Context(), good, bad)
	wantCode(t, "batch with an event without time", err, store.EINVALID)
	wrongKind := c.event("telegram", date(2025, 1, 2, 3, 4, 5, 6))
	wantCode(t, "unknown kind", s.AppendEvents(t.Context(), wrongKind), store.EINVALID)

	if got := readAll(t, s, c.id, store.EventQuery{}); len(got) != 0 {
		t.Fatalf("a rejected batch stored %d events", len(got))
	}
	if err := s.AppendEvents(t.Context()); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

func testDuplicates(t *testing.T, s store.TimelineStore) {
	c := newClient()
	at := date(2025, 2, 28, 23, 59, 59, 999)
	e := c.event(store.KindEmail, at)
	mustPrepare(t, e)
	appendAll(t, s, e)
	retry := *e
	appendAll(t, s, &retry) // a retry of the same input

	// The same input twice in one batch: one event.
	first := c.event(store.KindChat, at.Add(-time.Hour))
	mustPrepare(t, first)
	again := *first
	appendAll(t, s, first, &again)

	got := readAll(t, s, c.id, store.EventQuery{Limit: 1})
	if len(got) != 2 {
		t.Fatalf("got %d events after duplicate writes, want 2: %v", len(got), got)
	}
	wantOrder(t, "duplicates", got, newestFirst([]*store.Event{e, first}))

	// A person's command retried later gets a new time (the clock at the
	// retry) but is still one event: a single append is checked by id.
	note := c.event(store.KindNote, at.Add(-2*time.Hour))
	mustPrepare(t, note)
	appendAll(t, s, note)
	later := *note
	later.Time = note.Time.Add(40 * 24 * time.Hour) // another month, another partition
	appendAll(t, s, &later)
	notes := readAll(t, s, c.id, store.EventQuery{Kinds: []store.Kind{store.KindNote}})
	if len(notes) != 1 || notes[0].ID != note.ID {
		t.Errorf("a retried single event with a new time: %d events %v, want one", len(notes), notes)
	}
}

// testNeverReplaced: an id recorded once keeps its content, client and time
// whatever arrives later under it; a call that meets such an id stores
// nothing of itself.
func testNeverReplaced(t *testing.T, s store.TimelineStore) {
	a, b := newClient(), newClient()
	at := date(2025, 3, 10, 9, 30, 0, 0)
	order := a.event(store.KindOrder, at)
	order.Attrs.Order = &store.OrderAttrs{OrderID: "O-1", Status: "filled", Contract: "ZCZ5", Side: "buy", Quantity: 10, Price: 452.25}
	mustPrepare(t, order)
	appendAll(t, s, order)

	wantConflict := func(what string, err error, ids ...uuid.UUID) {
		t.Helper()
		wantCode(t, what, err, store.ECONFLICT)
		var c *store.EventConflict
		if !errors.As(err, &c) {
			t.Fatalf("%s: %v is not an *EventConflict", what, err)
		}
		var got []uuid.UUID
		for _, r := range c.Events {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s: conflict names %v, want %v", what, got, ids)
		}
	}

	// Other content under the same id, with a new event in the same call:
	// refused whole.
	bigger := *order
	bigger.Attrs.Order = &store.OrderAttrs{OrderID: "O-1", Status: "filled", Contract: "ZCZ5", Side: "sell", Quantity: 500, Price: 452.25}
	bigger.Fingerprint = ""
	fresh := a.event(store.KindNote, at.Add(time.Minute))
	wantConflict("same id, other quantity and side", s.AppendEvents(t.Context(), fresh, &bigger), order.ID)

	// The same id for another client: refused; nothing moves.
	moved := *order
	moved.ClientID, moved.Fingerprint = b.id, ""
	wantConflict("same id, another client", s.AppendEvents(t.Context(), &moved), order.ID)

	// Two versions of one id in one call: refused.
	twin := *order
	twin.Summary, twin.Fingerprint = "another summary", ""
	wantConflict("two versions in one call", s.AppendEvents(t.Context(), order, &twin), order.ID)

	gotA := readAll(t, s, a.id, store.EventQuery{})
	if len(gotA) != 1 {
		t.Fatalf("client a has %d events, want only the first order: %v", len(gotA), gotA)
	}
	sameEvent(t, "the first order", gotA[0], order)
	if gotB := readAll(t, s, b.id, store.EventQuery{}); len(gotB) != 0 {
		t.Errorf("client b got %v, want nothing", gotB)
	}
	one, err := s.Event(t.Context(), a.id, order.ID)
	if err != nil {
		t.Fatal(err)
	}
	if one.Fingerprint != order.Fingerprint {
		t.Errorf("Event returns fingerprint %q, want %q", one.Fingerprint, order.Fingerprint)
	}
	if _, err := s.Event(t.Context(), b.id, order.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("the order read as client b's: %v", err)
	}

	// A repeat of the same content arriving later, read from another
	// mailbox, scored otherwise and annotated otherwise: the first copy
	// stands, with its time.
	mail := a.event(store.KindEmail, at.Add(-time.Hour))
	mail.Attrs.Email = &store.EmailAttrs{Subject: "Dec corn", From: "ops@grain.example", Direction: "inbound", Mailbox: "jane"}
	mail.Attrs.Extra = map[string]string{"broker": "U0JANE"}
	mail.Sentiment = &store.Sentiment{Score: 0.5, Label: "positive"}
	mustPrepare(t, mail)
	appendAll(t, s, mail)
	copyOf := *mail
	copyOf.Time = mail.Time.Add(45 * 24 * time.Hour) // another month
	copyOf.Attrs.Email = &store.EmailAttrs{Subject: "Dec corn", From: "ops@grain.example", Direction: "inbound", Mailbox: "bcc-log"}
	copyOf.Attrs.Extra = map[string]string{"broker": "U0BOB"}
	copyOf.Sentiment = &store.Sentiment{Score: -0.5, Label: "negative"}
	copyOf.Fingerprint = ""
	appendAll(t, s, &copyOf)
	mails := readAll(t, s, a.id, store.EventQuery{Kinds: []store.Kind{store.KindEmail}})
	if len(mails) != 1 {
		t.Fatalf("a repeated mail gave %d events, want 1", len(mails))
	}
	sameEvent(t, "the first copy of a repeated mail", mails[0], mail)
}

// testRevisions: a revision replaces exactly the version it names, keeps the
// event's client and time, and a stale one is refused.
func testRevisions(t *testing.T, s store.TimelineStore) {
	c := newClient()
	at := date(2025, 4, 1, 12, 0, 0, 0)
	msg := c.event(store.KindChat, at)
	msg.Attrs.Chat = &store.ChatAttrs{Channel: "C1"}
	mustPrepare(t, msg)
	appendAll(t, s, msg)

	edit := *msg
	edit.Summary, edit.Attrs.Chat = "edited text", &store.ChatAttrs{Channel: "C1", Edited: true}
	edit.Time = at.Add(time.Hour) // an edit arrives later; the event keeps its time
	edit.Fingerprint, edit.Replaces = "", msg.Fingerprint
	appendAll(t, s, &edit)
	appendAll(t, s, &edit) // a retry of the same revision changes nothing

	got, err := s.Event(t.Context(), c.id, msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := edit
	want.Time = at
	sameEvent(t, "the revised message", got, &want)

	// A second revision based on the first version lost the race: refused.
	stale := *msg
	stale.Summary, stale.Fingerprint, stale.Replaces = "another edit", "", msg.Fingerprint
	wantCode(t, "a revision of a replaced version", s.AppendEvents(t.Context(), &stale), store.ECONFLICT)
	got, _ = s.Event(t.Context(), c.id, msg.ID)
	sameEvent(t, "after a stale revision", got, &want)
	if all := readAll(t, s, c.id, store.EventQuery{}); len(all) != 1 {
		t.Errorf("revisions left %d events, want 1", len(all))
	}
}

// testConcurrentReuse: many senders racing with different content under one
// id: exactly one is stored, every other is refused.
func testConcurrentReuse(t *testing.T, s store.TimelineStore) {
	c := newClient()
	base := c.event(store.KindCall, date(2025, 5, 5, 5, 5, 5, 5))
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := *base
			e.Summary = fmt.Sprintf("call version %d", i)
			errs[i] = s.AppendEvents(t.Context(), &e)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch store.ErrorCode(err) {
		case "":
			if won >= 0 {
				t.Errorf("versions %d and %d were both accepted", won, i)
			}
			won = i
		case store.ECONFLICT:
		default:
			t.Errorf("version %d: %v", i, err)
		}
	}
	all := readAll(t, s, c.id, store.EventQuery{})
	if won < 0 || len(all) != 1 || all[0].Summary != fmt.Sprintf("call version %d", won) {
		t.Errorf("stored %v, want exactly the accepted version %d", all, won)
	}
}

// testRepeatsAmongNew: a call mixing repeats of stored events, retried
// with later times, and new ones stores the new ones and keeps the repeats
// as they were.
func testRepeatsAmongNew(t *testing.T, s store.TimelineStore) {
	c := newClient()
	base := date(2025, 8, 1, 10, 0, 0, 0)
	var first []*store.Event
	for i := range 3 {
		e := c.event(store.KindChat, base.Add(time.Duration(i)*time.Minute))
		mustPrepare(t, e)
		first = append(first, e)
	}
	appendAll(t, s, first...)
	var mixed []*store.Event
	for i, e := range first {
		again := *e
		again.Time = e.Time.Add(time.Hour) // a retry carrying a later clock
		fresh := c.event(store.KindNote, base.Add(time.Duration(10+i)*time.Minute))
		mustPrepare(t, fresh)
		mixed = append(mixed, fresh, &again)
	}
	appendAll(t, s, mixed...)
	all := readAll(t, s, c.id, store.EventQuery{})
	if len(all) != 6 {
		t.Fatalf("%d events, want the 3 first and 3 new", len(all))
	}
	for _, e := range first {
		got, err := s.Event(t.Context(), c.id, e.ID)
		if err != nil || !got.Time.Equal(e.Time) {
			t.Errorf("repeat of %s: %v %v, want its first time %v", e.SourceID, got, err, e.Time)
		}
	}
}

func testOutOfOrder(t *testing.T, s store.TimelineStore) {
	c := newClient()
	rng := rand.New(rand.NewPCG(1, 2))
	base := date(2024, 1, 1, 0, 0, 0, 0)
	var all []*store.Event
	for range 5 {
		var batch []*store.Event
		for range 40 {
			at := base.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
			batch = append(batch, c.event(store.Kinds[rng.IntN(len(store.Kinds))], at))
		}
		mustPrepare(t, batch...)
		appendAll(t, s, batch...)
		all = append(all, batch...)
	}
	// A few late arrivals older than everything else, and a tie.
	late := []*store.Event{c.event(store.KindOrder, base.Add(-time.Hour)), c.event(store.KindOrder, base.Add(-time.Hour))}
	mustPrepare(t, late...)
	appendAll(t, s, late...)
	all = append(all, late...)

	wantOrder(t, "one page", readAll(t, s, c.id, store.EventQuery{Limit: 1000}), newestFirst(all))
	wantOrder(t, "pages of 7", readAll(t, s, c.id, store.EventQuery{Limit: 7}), newestFirst(all))
}

// bucketEdges are times on the edges of every plausible time bucket (hour,
// day, month, year): the last millisecond before an edge, the edge, and the
// millisecond after.
func bucketEdges() []time.Time {
	var edges []time.Time
	for _, edge := range []time.Time{
		date(2023, 1, 1, 0, 0, 0, 0),   // year and month
		date(2023, 3, 1, 0, 0, 0, 0),   // month after a short February
		date(2024, 2, 29, 0, 0, 0, 0),  // leap day
		date(2024, 3, 1, 0, 0, 0, 0),   // month after a leap day
		date(2024, 6, 15, 0, 0, 0, 0),  // day
		date(2024, 6, 15, 13, 0, 0, 0), // hour
		date(2025, 1, 1, 0, 0, 0, 0),   // year
	} {
		edges = append(edges, edge.Add(-time.Millisecond), edge, edge.Add(time.Millisecond))
	}
	return edges
}

func testBucketEdges(t *testing.T, s store.TimelineStore) {
	c := newClient()
	var all []*store.Event
	for _, at := range bucketEdges() {
		all = append(all, c.event(store.KindChat, at))
	}
	// Two events at the same edge millisecond: the tie must not lose one.
	all = append(all, c.event(store.KindNote, date(2024, 3, 1, 0, 0, 0, 0)))
	mustPrepare(t, all...)
	appendAll(t, s, all...)

	want := newestFirst(all)
	for _, limit := range []int{1, 2, 3, 1000} {
		wantOrder(t, fmt.Sprintf("limit %d", limit), readAll(t, s, c.id, store.EventQuery{Limit: limit}), want)
	}
	// Ranges whose bounds sit exactly on edges: Since is kept, Until is not.
	for _, r := range []struct{ since, until time.Time }{
		{date(2024, 3, 1, 0, 0, 0, 0), date(2025, 1, 1, 0, 0, 0, 0)},
		{date(2023, 1, 1, 0, 0, 0, 0), date(2023, 3, 1, 0, 0, 0, 0)},
		{date(2024, 2, 29, 0, 0, 0, 0).Add(-time.Millisecond), date(2024, 2, 29, 0, 0, 0, 0).Add(time.Millisecond)},
		{date(2024, 6, 15, 13, 0, 0, 0), time.Time{}},
		{time.Time{}, date(2024, 6, 15, 0, 0, 0, 0)},
	} {
		q := store.EventQuery{Since: r.since, Until: r.until, Limit: 2}
		wantOrder(t, fmt.Sprintf("since %v until %v", r.since, r.until), readAll(t, s, c.id, q), filter(want, q))
	}
}

func testAroundNow(t *testing.T, s store.TimelineStore) {
	// Backends may guess where the newest page starts (this month); events
	// this month, in earlier months and in later ones (a meeting logged
	// ahead) must all come back in order whatever the page size.
	c := newClient()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var all []*store.Event
	for _, d := range []time.Duration{-time.Hour, -time.Minute, 0, time.Minute, -40 * 24 * time.Hour, 40 * 24 * time.Hour, 400 * 24 * time.Hour, -400 * 24 * time.Hour} {
		all = append(all, c.event(store.KindMeeting, now.Add(d)), c.event(store.KindNote, now.Add(d)))
	}
	mustPrepare(t, all...)
	appendAll(t, s, all...)
	want := newestFirst(all)
	for _, limit := range []int{1, 2, 3, 5, 1000} {
		wantOrder(t, fmt.Sprintf("limit %d", limit), readAll(t, s, c.id, store.EventQuery{Limit: limit}), want)
		q := store.EventQuery{Kinds: []store.Kind{store.KindNote}, Until: now.Add(time.Hour), Limit: limit}
		wantOrder(t, fmt.Sprintf("notes until now+1h, limit %d", limit), readAll(t, s, c.id, q), filter(want, q))
	}
}

// filter is the reference implementation of an EventQuery's selection.
func filter(evs []*store.Event, q store.EventQuery) []*store.Event {
	var out []*store.Event
	for _, e := range evs {
		if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, e.Kind) {
			continue
		}
		if !q.Since.IsZero() && e.Time.Before(q.Since) {
			continue
		}
		if !q.Until.IsZero() && !e.Time.Before(q.Until) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func testPaging10000(t *testing.T, s store.TimelineStore) {
	if testing.Short() {
		t.Skip("10,000 events: not in -short")
	}
	c := newClient()
	rng := rand.New(rand.NewPCG(3, 4))
	base := date(2022, 1, 1, 0, 0, 0, 0)
	span := int64(3 * 365 * 24 * time.Hour / time.Millisecond)
	all := make([]*store.Event, 0, 10000)
	for len(all) < 10000 {
		at := base.Add(time.Duration(rng.Int64N(span)) * time.Millisecond)
		all = append(all, c.event(store.Kinds[rng.IntN(len(store.Kinds))], at))
		if rng.IntN(10) == 0 { // about one in ten shares its millisecond
			all = append(all, c.event(store.KindOrder, at))
		}
	}
	all = all[:10000]
	mustPrepare(t, all...)
	for batch := range slices.Chunk(all, 500) {
		appendAll(t, s, batch...)
	}
	want := newestFirst(all)

	wantOrder(t, "pages of 100", readAll(t, s, c.id, store.EventQuery{Limit: 100}), want)
	// Beyond the maximum page size, pages are capped at 1000.
	page, err := s.Events(t.Context(), c.id, store.EventQuery{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1000 || page.Next == "" {
		t.Fatalf("limit 5000 gave %d events (next %q), want 1000 and a cursor", len(page.Events), page.Next)
	}
	wantOrder(t, "first 1000", page.Events, want[:1000])
	page, err = s.Events(t.Context(), c.id, store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	wantOrder(t, "default page", page.Events, want[:50])
}

func testFilters(t *testing.T, s store.TimelineStore) {
	c := newClient()
	rng := rand.New(rand.NewPCG(5, 6))
	base := date(2023, 6, 1, 0, 0, 0, 0)
	var all []*store.Event
	for i := range 400 {
		at := base.Add(time.Duration(rng.Int64N(int64(700*24*time.Hour/time.Millisecond))) * time.Millisecond)
		all = append(all, c.event(store.Kinds[i%len(store.Kinds)], at))
	}
	mustPrepare(t, all...)
	appendAll(t, s, all...)
	want := newestFirst(all)
	// Bounds that fall exactly on stored events, to pin inclusive/exclusive.
	since, until := want[300].Time, want[40].Time

	for _, q := range []store.EventQuery{
		{Kinds: []store.Kind{store.KindCall, store.KindOrder}, Limit: 7},
		{Kinds: []store.Kind{store.KindEmail}, Since: since, Until: until, Limit: 5},
		{Kinds: []store.Kind{store.KindReminder, store.KindNote, store.KindFeedback}, Since: since, Limit: 3},
		{Since: since, Until: until, Limit: 11},
		{Since: since, Limit: 1000},
		{Until: until, Limit: 13},
		{Kinds: store.Kinds, Until: until, Limit: 9},
		{Since: until, Until: since}, // empty range
		{Since: until, Until: until}, // empty range
		{Kinds: []store.Kind{store.KindMeeting}, Since: date(2030, 1, 1, 0, 0, 0, 0)},
		// Bounds between two milliseconds: the event at since is out, the
		// one at until is in.
		{Since: since.Add(500 * time.Microsecond), Until: until.Add(500 * time.Microsecond), Limit: 17},
	} {
		wantOrder(t, fmt.Sprintf("query %+v", q), readAll(t, s, c.id, q), filter(want, q))
	}
	// A cursor carries on where it stopped even when mixed with the filter
	// that produced it.
	q := store.EventQuery{Kinds: []store.Kind{store.KindChat}, Since: since, Until: until, Limit: 4}
	p1, err := s.Events(t.Context(), c.id, q)
	if err != nil || p1.Next == "" {
		t.Fatalf("first page: %v, next %q", err, p1.Next)
	}
	q.Cursor = p1.Next
	rest := readAll(t, s, c.id, q)
	wantOrder(t, "first page then the rest", append(p1.Events, rest...), filter(want, q))
}

func testEmptyClient(t *testing.T, s store.TimelineStore) {
	for _, q := range []store.EventQuery{{}, {Kinds: []store.Kind{store.KindOrder}, Since: date(2020, 1, 1, 0, 0, 0, 0), Until: date(2030, 1, 1, 0, 0, 0, 0), Limit: 1}} {
		page, err := s.Events(t.Context(), uuid.New(), q)
		if err != nil {
			t.Fatalf("Events of an unknown client: %v", err)
		}
		if len(page.Events) != 0 || page.Next != "" {
			t.Fatalf("Events of an unknown client = %d events, next %q", len(page.Events), page.Next)
		}
	}
}

func testGetOne(t *testing.T, s store.TimelineStore) {
	c, other := newClient(), newClient()
	e := c.event(store.KindFeedback, date(2025, 7, 1, 0, 0, 0, 0))
	e.Attrs.Feedback = &store.FeedbackAttrs{Rating: 2}
	mustPrepare(t, e)
	appendAll(t, s, e)

	got, err := s.Event(t.Context(), c.id, e.ID)
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	sameEvent(t, "Event", got, e)
	_, err = s.Event(t.Context(), c.id, uuid.New())
	wantCode(t, "Event with an unknown id", err, store.ENOTFOUND)
	_, err = s.Event(t.Context(), other.id, e.ID)
	wantCode(t, "Event of another client", err, store.ENOTFOUND)
}

func testMalformedCursor(t *testing.T, s store.TimelineStore) {
	c := newClient()
	evs := []*store.Event{c.event(store.KindNote, date(2025, 1, 1, 0, 0, 0, 0)), c.event(store.KindNote, date(2025, 1, 2, 0, 0, 0, 0))}
	appendAll(t, s, evs...)
	page, err := s.Events(t.Context(), c.id, store.EventQuery{Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %v, next %q", err, page.Next)
	}
	for _, cursor := range []string{
		"not a cursor!",
		"%%%%",
		"AAAA",
		page.Next[:len(page.Next)/2],
		page.Next + "AAAAAAAA",
		"eyJ0IjoxfQ", // base64 of a JSON object
	} {
		_, err := s.Events(t.Context(), c.id, store.EventQuery{Cursor: cursor})
		wantCode(t, fmt.Sprintf("cursor %q", cursor), err, store.EINVALID)
	}
}

func testBadQuery(t *testing.T, s store.TimelineStore) {
	_, err := s.Events(t.Context(), uuid.New(), store.EventQuery{Kinds: []store.Kind{"telegram"}})
	wantCode(t, "unknown kind in a query", err, store.EINVALID)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
