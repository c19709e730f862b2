package imap_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/store"
)

// newIngester builds an ingester over b for cfg, with test-sized timings.
func newIngester(t testing.TB, b *backend, cfg imap.MailboxConfig, tune func(*imap.Options)) (*imap.Ingester, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts := imap.Options{
		Mailbox:      cfg,
		Clients:      b.clients,
		Recorder:     b.recorder(),
		Checkpoints:  b.checkpoints,
		Metrics:      imap.NewMetrics(reg),
		Logger:       quietLogger(),
		PollInterval: time.Minute, // long: new mail must come through IDLE
		MinBackoff:   20 * time.Millisecond,
		MaxBackoff:   200 * time.Millisecond,
	}
	if tune != nil {
		tune(&opts)
	}
	in, err := imap.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return in, reg
}

// runInBackground runs in until the test ends and checks that it then
// stops promptly and cleanly.
func runInBackground(t *testing.T, in *imap.Ingester) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of cancel")
		}
	})
}

func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue metrics
				}
			}
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return total
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func checkpoint(t testing.TB, b *backend, cfg imap.MailboxConfig) store.Checkpoint {
	t.Helper()
	cp, err := b.checkpoints.Checkpoint(context.Background(), cfg.Account, cfg.Folder)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatal(err)
	}
	return cp
}

// Mail appended to a broker's folder shows up on each client's timeline
// within seconds, once per client, with direction, broker and sentiment;
// mail for nobody is counted and dropped. The poll interval is a minute, so
// the second round of mail, appended while the ingester idles, can only
// arrive through IDLE.
func TestMailAppearsOnTimeline(t *testing.T) {
	d := needDovecot(t)
	forEachBackend(t, func(t *testing.T, b *backend) {
		u := uniq()
		owner := "anna." + u + "@meridian.example"
		tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
		kim := newClient(t, b.clients, "kim."+u+"@prairie.example", "kim.home."+u+"@mail.example")

		c := d.login(t, d.users[0])
		folder := d.folder(t, c)
		cfg := d.mailbox(t, d.users[0], folder, "broker=U0ANNA&email="+owner)
		in, reg := newIngester(t, b, cfg, nil)
		runInBackground(t, in)
		eventually(t, 10*time.Second, "ingester never connected", func() bool {
			return metric(t, reg, "brokersync_imap_connected") == 1
		})

		inbound := letter{id: "in-" + u + "@reyesgrain.example", from: "Tom Reyes <tom." + u + "@reyesgrain.example>",
			to: []string{"Anna <" + owner + ">"}, cc: []string{"kim.home." + u + "@mail.example", "KIM." + u + "@prairie.example"},
			subject: "Dec corn - working order", inReply: "root-" + u + "@meridian.example",
			body: "Anna, thanks, great fill yesterday. Work a buy for 10 Dec corn at 4.52 limit.\r\n\r\n> earlier quoted text\r\n", attach: "order-ticket.pdf"}
		appended := time.Now()
		appendMail(t, c, folder, [][]byte{inbound.raw()})

		eventually(t, 10*time.Second, "the inbound mail never reached the timelines", func() bool {
			return len(timeline(t, b.timeline, tom.ID)) == 1 && len(timeline(t, b.timeline, kim.ID)) == 1
		})
		t.Logf("%s: from APPEND to the timeline in %s", b.name, time.Since(appended).Round(time.Millisecond))

		e := timeline(t, b.timeline, tom.ID)[0]
		em := e.Attrs.Email
		switch {
		case e.Source != store.SourceEmail || e.Summary != "Dec corn - working order" || e.Kind != store.KindEmail:
			t.Errorf("event %+v: wrong source, summary or kind", e)
		case !strings.HasPrefix(e.Body, "Anna, thanks") || strings.Contains(e.Body, "quoted"):
			t.Errorf("body %q: want the excerpt without the quote", e.Body)
		case e.Actor != "tom."+u+"@reyesgrain.example":
			t.Errorf("actor %q, want the client's address", e.Actor)
		case e.Sentiment == nil:
			t.Errorf("no sentiment")
		case em == nil || em.Direction != "inbound" || em.ThreadID != "root-"+u+"@meridian.example" ||
			em.Mailbox != cfg.Label() || !slices.Equal(em.Attachments, []string{"order-ticket.pdf"}) || len(em.Cc) != 2:
			t.Errorf("email attributes %+v", em)
		case e.Attrs.Extra["broker"] != "U0ANNA":
			t.Errorf("broker %q, want U0ANNA (the mailbox owner)", e.Attrs.Extra["broker"])
		case !e.Time.Equal(time.Date(2025, 3, 3, 14, 1, 57, 0, time.UTC)):
			t.Errorf("time %v, want the Date header", e.Time)
		}

		outbound := letter{id: "out-" + u + "@meridian.example", from: "Anna <" + owner + ">", to: []string{"tom." + u + "@reyesgrain.example"},
			subject: "Filled: 10 Dec corn @ 4.52", body: "Tom, you are filled on 10 Dec corn at 4.52."}
		unmatched := letter{id: "spam-" + u + "@example.net", from: "news@example.net", to: []string{owner}, subject: "Newsletter", body: "Hello"}
		appendMail(t, c, folder, [][]byte{outbound.raw(), unmatched.raw(), []byte("this is not a mail at all\r\n")})
		eventually(t, 10*time.Second, "the outbound mail never reached the timeline", func() bool {
			return len(timeline(t, b.timeline, tom.ID)) == 2
		})
		for _, ev := range timeline(t, b.timeline, tom.ID) {
			if ev.Summary == outbound.subject {
				e = ev
			}
		}
		if e.Summary != outbound.subject || e.Attrs.Email.Direction != "outbound" || e.Actor != "U0ANNA" {
			t.Errorf("outbound mail: direction %q actor %q, want outbound by U0ANNA", e.Attrs.Email.Direction, e.Actor)
		}
		eventually(t, 10*time.Second, "messages were not all counted", func() bool {
			return metric(t, reg, "brokersync_imap_messages_total") == 4
		})
		for result, want := range map[string]float64{"stored": 2, "unmatched": 1, "skipped": 1} {
			if got := metric(t, reg, "brokersync_imap_messages_total", "result", result); got != want {
				t.Errorf("messages_total{result=%q} = %v, want %v", result, got, want)
			}
		}
		if got := metric(t, reg, "brokersync_imap_skipped_total", "reason", "not_a_mail"); got != 1 {
			t.Errorf("skipped_total{reason=not_a_mail} = %v, want 1", got)
		}
		if got := len(timeline(t, b.timeline, kim.ID)); got != 1 {
			t.Errorf("kim has %d events, want 1 (two of her addresses on one mail are one event)", got)
		}
		eventually(t, 10*time.Second, "checkpoint never reached the last UID", func() bool {
			return checkpoint(t, b, cfg).LastUID == 4
		})
	})
}

// The same mail in two brokers' mailboxes (sent by one, copied to the
// other) is one event per client, whichever mailbox is read first.
func TestSameMailInTwoMailboxes(t *testing.T) {
	d := needDovecot(t)
	forEachBackend(t, func(t *testing.T, b *backend) {
		u := uniq()
		anna, ben := "anna."+u+"@meridian.example", "ben."+u+"@meridian.example"
		tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
		kim := newClient(t, b.clients, "kim."+u+"@prairie.example")
		mails := [][]byte{
			letter{id: "a-" + u + "@meridian.example", from: anna, to: []string{"tom." + u + "@reyesgrain.example"},
				cc: []string{ben, "kim." + u + "@prairie.example"}, subject: "Soybean spread idea", body: "Tom, Kim: the Jan/Mar spread looks wide."}.raw(),
			// No Message-ID: recognised by its content in both mailboxes.
			letter{from: "tom." + u + "@reyesgrain.example", to: []string{anna, ben}, subject: "Re: Soybean spread idea", body: "Interested, call me."}.raw(),
		}
		c1, c2 := d.login(t, d.users[0]), d.login(t, d.users[1])
		f1, f2 := d.folder(t, c1), d.folder(t, c2)
		appendMail(t, c1, f1, mails)
		reversed := slices.Clone(mails) // other UIDs, same mail
		slices.Reverse(reversed)
		appendMail(t, c2, f2, reversed)

		cfgs := []imap.MailboxConfig{
			d.mailbox(t, d.users[0], f1, "broker=U0ANNA&email="+anna),
			d.mailbox(t, d.users[1], f2, "broker=U0BEN&email="+ben),
		}
		desk := imap.NewDesk(cfgs)
		var firstIDs []uuid.UUID
		for i, cfg := range cfgs {
			in, _ := newIngester(t, b, cfg, func(o *imap.Options) { o.Desk = desk })
			if err := in.Sync(context.Background()); err != nil {
				t.Fatalf("Sync %s: %v", cfg.Label(), err)
			}
			evs := timeline(t, b.timeline, tom.ID)
			if len(evs) != 2 {
				t.Fatalf("after mailbox %d: tom has %d events, want 2", i+1, len(evs))
			}
			var ids []uuid.UUID
			for _, e := range evs {
				ids = append(ids, e.ID)
				if e.Summary == "Soybean spread idea" && (e.Actor != "U0ANNA" || e.Attrs.Email.Direction != "outbound") {
					t.Errorf("read from %s: actor %q direction %q, want U0ANNA outbound whichever mailbox", cfg.Label(), e.Actor, e.Attrs.Email.Direction)
				}
			}
			slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
			if firstIDs != nil && !slices.Equal(ids, firstIDs) {
				t.Errorf("event ids changed between mailboxes: %v then %v", firstIDs, ids)
			}
			firstIDs = ids
		}
		if n := len(timeline(t, b.timeline, kim.ID)); n != 1 {
			t.Errorf("kim has %d events, want 1", n)
		}
	})
}

// Ingesting changes no flag on the server: unread mail stays unread, and
// flags a broker set stay set.
func TestServerFlagsUnchanged(t *testing.T) {
	d := needDovecot(t)
	b := openEmbedded(t, t.TempDir())
	u := uniq()
	client := "tom." + u + "@reyesgrain.example"
	newClient(t, b.clients, client)
	c := d.login(t, d.users[0])
	folder := d.folder(t, c)
	var mails [][]byte
	for i := range 4 {
		mails = append(mails, letter{id: "f" + string(rune('0'+i)) + "-" + u + "@x.example", from: client, to: []string{"desk@meridian.example"},
			subject: "Flags test", body: "Call me back about the wheat basis."}.raw())
	}
	appendMail(t, c, folder, mails, nil, []goimap.Flag{goimap.FlagFlagged}, []goimap.Flag{goimap.FlagSeen, goimap.FlagAnswered}, []goimap.Flag{"$Label1"})
	before := flagsOf(t, c, folder)

	in, _ := newIngester(t, b, d.mailbox(t, d.users[0], folder, ""), nil)
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := flagsOf(t, c, folder)
	if len(after) != 4 {
		t.Fatalf("%d messages after ingesting, want 4", len(after))
	}
	for uid, f := range before {
		if !slices.Equal(after[uid], f) {
			t.Errorf("UID %d: flags %v before, %v after ingesting", uid, f, after[uid])
		}
	}
	for _, uid := range []goimap.UID{1, 2} {
		if slices.Contains(after[uid], goimap.FlagSeen) {
			t.Errorf("UID %d was marked \\Seen", uid)
		}
	}
}

// A mail from an outsider that reuses a client's known Message-ID (they
// travel in every reply's References) and Cc's that client does not replace
// the client's recorded mail: the first copy stands, the second is counted
// as a conflict, and the rest of the folder is ingested as usual.
func TestReusedMessageIDKeepsFirstMail(t *testing.T) {
	d := needDovecot(t)
	forEachBackend(t, func(t *testing.T, b *backend) {
		u := uniq()
		anna := "anna." + u + "@meridian.example"
		tom := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
		kim := newClient(t, b.clients, "kim."+u+"@prairie.example")
		id := "known-" + u + "@reyesgrain.example"
		mails := [][]byte{
			letter{id: id, from: "tom." + u + "@reyesgrain.example", to: []string{anna},
				subject: "Roll the March hedge", body: "Please roll 20 March corn into May at market."}.raw(),
			letter{id: id, from: "eve@outside.example", to: []string{anna}, cc: []string{"tom." + u + "@reyesgrain.example", "kim." + u + "@prairie.example"},
				subject: "Cancel all orders", body: "Disregard earlier instructions, close everything."}.raw(),
			letter{id: "later-" + u + "@reyesgrain.example", from: "tom." + u + "@reyesgrain.example", to: []string{anna},
				subject: "Thanks", body: "Thanks for the quick fill."}.raw(),
		}
		c := d.login(t, d.users[0])
		f := d.folder(t, c)
		appendMail(t, c, f, mails)
		cfg := d.mailbox(t, d.users[0], f, "broker=U0ANNA&email="+anna)
		in, reg := newIngester(t, b, cfg, nil)
		if err := in.Sync(context.Background()); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		evs := timeline(t, b.timeline, tom.ID)
		if len(evs) != 2 {
			t.Fatalf("tom has %d events, want 2: %v", len(evs), evs)
		}
		for _, e := range evs {
			if e.Summary == "Cancel all orders" || strings.Contains(e.Attrs.Email.From, "eve@") {
				t.Errorf("the outsider's mail replaced tom's: %v from %s", e, e.Attrs.Email.From)
			}
		}
		if !slices.ContainsFunc(evs, func(e *store.Event) bool { return e.Summary == "Roll the March hedge" }) {
			t.Errorf("tom's first mail is gone: %v", evs)
		}
		if got := metric(t, reg, "brokersync_imap_conflicts_total"); got != 1 {
			t.Errorf("conflicts counted: %v, want 1", got)
		}
		// kim had no mail under that id: the outsider's copy is kim's first.
		if n := len(timeline(t, b.timeline, kim.ID)); n != 1 {
			t.Errorf("kim has %d events, want 1", n)
		}
		if cp := checkpoint(t, b, cfg); cp.LastUID != 3 {
			t.Errorf("checkpoint at UID %d, want 3: a conflict must not stop the folder", cp.LastUID)
		}
		// The same three mails in another broker's mailbox: still one of
		// each, and the outsider's copy is a conflict there too.
		c2 := d.login(t, d.users[1])
		f2 := d.folder(t, c2)
		appendMail(t, c2, f2, mails)
		in2, reg2 := newIngester(t, b, d.mailbox(t, d.users[1], f2, "broker=U0BEN"), nil)
		if err := in2.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(timeline(t, b.timeline, tom.ID)); n != 2 {
			t.Errorf("after a second mailbox tom has %d events, want 2", n)
		}
		if got := metric(t, reg2, "brokersync_imap_conflicts_total"); got != 1 {
			t.Errorf("second mailbox counted %v conflicts, want 1", got)
		}
	})
}
