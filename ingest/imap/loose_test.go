package imap_test

import (
	"context"
	"fmt"
	"github.com/brokersync/brokersync/internal/testenv"
	"log/slog"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokersync/brokersync/ingest/imap"
)

// Addresses written loosely still put the mail on the client's timeline,
// and what the parser had to tolerate is counted by kind and logged at
// debug level with the mailbox and UID.
func TestLooseAddressesMatchAndDefectsCounted(t *testing.T) {
	big, tim, kim := uuid.New(), uuid.New(), uuid.New()
	st := newMemStores(map[string]uuid.UUID{"bb@bug.com": big, "tim@x.com": tim, "kim@prairie.example": kim})
	srv := startMemServer(t, nil, false, nil)
	mails := []string{
		"From: Big Bug bb@bug.com\r\nTo: anna@meridian.example\r\nSubject: one\r\nMessage-ID: <loose-1@t>\r\n\r\nSell 3 Feb cattle.\r\n",
		"From: anna@meridian.example\r\nTo: tim@x.com concierge@x.com\r\nSubject: two\r\nMessage-ID: <loose-2@t>\r\n\r\nFilled.\r\n",
		"From: forms@desk.example\r\nReply-To: Kim <@relay.example:kim@prairie.example>\r\nTo: anna@meridian.example\r\nSubject: three\r\nMessage-ID: <loose-3@t>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCall me.\r\n" +
			"--b\r\nContent-Type: text/plain; charset=x-nonesuch\r\n\r\nmore\r\n" +
			"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--b--\r\n",
	}
	for _, m := range mails {
		srv.append(t, []byte(m))
	}
	reg := prometheus.NewRegistry()
	var logs testenv.LogBuffer
	in := memIngester(t, srv, "imap://anna:s3cret@ADDR/?broker=U0ANNA&email=anna@meridian.example", st, func(o *imap.Options) {
		o.Metrics = imap.NewMetrics(reg)
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]uuid.UUID{"Big Bug": big, "tim": tim, "kim (Reply-To)": kim} {
		if n := len(st.eventsOf(id)); n != 1 {
			t.Errorf("%s has %d events, want 1", name, n)
		}
	}
	for kind, want := range map[string]float64{"lenient_address": 3, "unknown_charset": 1, "bad_base64": 1} {
		if got := metric(t, reg, "brokersync_imap_defects_total", "mailbox", in.Mailbox().Label(), "kind", kind); got != want {
			t.Errorf("defects of kind %s: %v, want %v", kind, got, want)
		}
	}
	out := logs.String()
	for _, want := range []string{"mail read despite defects", "uid=3", "mailbox=" + in.Mailbox().Label(), "bad_base64: ", "message_id=loose-3@t"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
}

// A mail without a Date keeps one time and one mailbox however many
// copies are read, in whatever order: the time it entered the mail system
// when its Received fields say so, else the arrival time of the copy
// recorded first.
func TestMailWithoutDateKeepsFirstTime(t *testing.T) {
	d := needDovecot(t)
	forEachBackend(t, func(t *testing.T, b *backend) {
		u := uniq()
		tomAddr := "tom." + u + "@reyesgrain.example"
		tom := newClient(t, b.clients, tomAddr)
		relayed := fmt.Sprintf("Received: from mx.meridian.example by imap.meridian.example; Tue, 4 Mar 2025 16:31:09 +0000\r\n"+
			"Received: from [10.1.2.3] by out.reyesgrain.example; Tue, 4 Mar 2025 10:31:02 -0600\r\n"+
			"From: %s\r\nTo: anna@meridian.example\r\nSubject: Relayed, no date\r\nMessage-ID: <relayed-%s@reyesgrain.example>\r\n\r\nBuy 5 March corn.\r\n", tomAddr, u)
		bare := fmt.Sprintf("From: %s\r\nTo: anna@meridian.example\r\nSubject: Bare, no date\r\n\r\nSell 5 March corn.\r\n", tomAddr)

		c1, c2 := d.login(t, d.users[0]), d.login(t, d.users[1])
		f1, f2, f3 := d.folder(t, c1), d.folder(t, c2), d.folder(t, c1)
		first := time.Date(2025, 3, 4, 16, 40, 0, 0, time.UTC)
		appendAt(t, c1, f1, first, relayed, bare)
		appendAt(t, c2, f2, first.Add(2*time.Hour), bare, relayed) // other UIDs, later arrival
		appendAt(t, c1, f3, first.Add(48*time.Hour), relayed, bare)

		cfgs := []imap.MailboxConfig{
			d.mailbox(t, d.users[0], f1, "broker=U0ANNA"),
			d.mailbox(t, d.users[1], f2, "broker=U0BEN"),
			d.mailbox(t, d.users[0], f3, "broker=U0ANNA"),
		}
		want := map[string]time.Time{
			"Relayed, no date": time.Date(2025, 3, 4, 16, 31, 2, 0, time.UTC), // the earliest Received
			"Bare, no date":    first,                                         // the first copy's arrival
		}
		for i, cfg := range cfgs {
			in, reg := newIngester(t, b, cfg, func(o *imap.Options) { o.Desk = imap.NewDesk(cfgs) })
			if err := in.Sync(context.Background()); err != nil {
				t.Fatalf("Sync %s: %v", cfg.Label(), err)
			}
			if n := metric(t, reg, "brokersync_imap_conflicts_total"); n != 0 {
				t.Errorf("mailbox %d: %v conflicts, want none: a copy is the same mail", i+1, n)
			}
			evs := timeline(t, b.timeline, tom.ID)
			if len(evs) != 2 {
				t.Fatalf("after mailbox %d: %d events, want 2", i+1, len(evs))
			}
			for _, e := range evs {
				if !e.Time.Equal(want[e.Summary]) {
					t.Errorf("after mailbox %d: %q at %v, want %v", i+1, e.Summary, e.Time, want[e.Summary])
				}
				if e.Attrs.Email.Mailbox != cfgs[0].Label() {
					t.Errorf("after mailbox %d: %q in mailbox %q, want the first, %q", i+1, e.Summary, e.Attrs.Email.Mailbox, cfgs[0].Label())
				}
			}
		}
	})
}

// appendAt appends raw messages with the given arrival time (INTERNALDATE).
func appendAt(t testing.TB, c *imapclient.Client, folder string, at time.Time, msgs ...string) {
	t.Helper()
	for _, raw := range msgs {
		cmd := c.Append(folder, int64(len(raw)), &goimap.AppendOptions{Time: at})
		if _, err := cmd.Write([]byte(raw)); err != nil {
			t.Fatalf("append: %v", err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append: %v", err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append to %s: %v", folder, err)
		}
	}
}
