package imap_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/store"
)

// Who a mail is about and who wrote it, as seen from Anna's mailbox on a
// desk where Ben has a mailbox too.
func TestMatching(t *testing.T) {
	const (
		anna = "anna@meridian.example"
		ben  = "ben@meridian.example"
		tom  = "tom@reyesgrain.example"
		kim  = "kim@prairie.example"
		// a client whose address is in the desk's own domain (staff account)
		sam = "sam@meridian.example"
	)
	ids := map[string]uuid.UUID{tom: uuid.New(), kim: uuid.New(), sam: uuid.New()}
	type want struct {
		client             string
		dir, actor, broker string
	}
	tests := []struct {
		name string
		l    letter
		want []want // one per client event
	}{
		{"client writes to the owner",
			letter{from: "Tom <" + tom + ">", to: []string{anna}},
			[]want{{tom, "inbound", tom, "U0ANNA"}}},
		{"owner writes to a client",
			letter{from: anna, to: []string{tom}},
			[]want{{tom, "outbound", "U0ANNA", "U0ANNA"}}},
		{"another broker of the desk writes, owner in copy",
			letter{from: ben, to: []string{tom}, cc: []string{anna}},
			[]want{{tom, "outbound", "U0BEN", "U0BEN"}}},
		{"an unknown colleague writes to a client",
			letter{from: "desk@meridian.example", to: []string{tom}},
			[]want{{tom, "outbound", "desk@meridian.example", "desk@meridian.example"}}},
		{"client writes to Ben, Anna in copy: Ben's client mail",
			letter{from: tom, to: []string{ben}, cc: []string{anna}},
			[]want{{tom, "inbound", tom, "U0BEN"}}},
		{"a client in the desk's domain is still a client",
			letter{from: sam, to: []string{anna}},
			[]want{{sam, "inbound", sam, "U0ANNA"}}},
		{"two clients: one event each",
			letter{from: tom, to: []string{anna, kim}},
			[]want{{tom, "inbound", tom, "U0ANNA"}, {kim, "inbound", tom, "U0ANNA"}}},
		{"a stranger writes about a client",
			letter{from: "lawyer@firm.example", to: []string{kim}},
			[]want{{kim, "inbound", "lawyer@firm.example", "U0ANNA"}}},
		{"nobody's mail",
			letter{from: "news@example.net", to: []string{anna}},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMemServer(t, nil, false, nil)
			tc.l.id = uuid.NewString() + "@test"
			tc.l.subject, tc.l.body = "Corn", "Dec corn at 4.52"
			srv.append(t, tc.l.raw())
			st := newMemStores(ids)
			cfgs := []imap.MailboxConfig{
				{Account: "anna@mail", Owner: anna, Broker: "U0ANNA"},
				{Account: "ben@mail", Owner: ben, Broker: "U0BEN"},
			}
			in := memIngester(t, srv, "imap://anna:s3cret@ADDR/?broker=U0ANNA&email="+anna, st,
				func(o *imap.Options) { o.Desk = imap.NewDesk(cfgs) })
			if err := in.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got []want
			for client, id := range ids {
				for _, e := range st.eventsOf(id) {
					got = append(got, want{client, e.Attrs.Email.Direction, e.Actor, e.Attrs.Extra["broker"]})
					if wantSID := tc.l.id + "/" + id.String(); e.SourceID != wantSID || e.Source != "imap" {
						t.Errorf("source %s id %q, want imap %q", e.Source, e.SourceID, wantSID)
					}
				}
			}
			sortWants := func(w []want) { slices.SortFunc(w, func(a, b want) int { return strings.Compare(a.client, b.client) }) }
			sortWants(got)
			sortWants(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Errorf("events\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Without a Message-ID the event is keyed by the content hash, and the same
// mail read twice (another mailbox, another UID) is the same event.
func TestContentHashKey(t *testing.T) {
	tom := uuid.New()
	st := newMemStores(map[string]uuid.UUID{"tom@reyesgrain.example": tom})
	raw := letter{from: "tom@reyesgrain.example", to: []string{"anna@meridian.example"}, subject: "No id", body: "Sell 3 Feb cattle."}.raw()
	for range 2 {
		srv := startMemServer(t, nil, false, nil)
		srv.append(t, raw)
		srv.append(t, raw) // twice in one folder too
		in := memIngester(t, srv, "imap://anna:s3cret@ADDR/", st, nil)
		if err := in.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	evs := st.eventsOf(tom)
	if len(evs) != 1 || !strings.HasPrefix(evs[0].SourceID, "sha256:") {
		t.Fatalf("events %v, want one keyed sha256:...", evs)
	}
}

// A batch the store refuses as invalid is retried message by message; the
// refused message is skipped and the rest is kept.
func TestInvalidEventSkipped(t *testing.T) {
	tom := uuid.New()
	st := newMemStores(map[string]uuid.UUID{"tom@reyesgrain.example": tom})
	srv := startMemServer(t, nil, false, nil)
	for _, s := range []string{"ok 1", "REFUSE", "ok 2"} {
		srv.append(t, letter{id: uuid.NewString() + "@t", from: "tom@reyesgrain.example", to: []string{"anna@x.example"}, subject: s, body: "x"}.raw())
	}
	rec := refusingRecorder{st}
	in := memIngester(t, srv, "imap://anna:s3cret@ADDR/", st, func(o *imap.Options) { o.Recorder = rec })
	if err := in.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(st.eventsOf(tom)); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	if cp, _ := st.Checkpoint(context.Background(), in.Mailbox().Account, "INBOX"); cp.LastUID != 3 {
		t.Errorf("checkpoint at %d, want 3", cp.LastUID)
	}
}

type refusingRecorder struct{ *memStores }

func (r refusingRecorder) Record(ctx context.Context, events ...*store.Event) error {
	for _, e := range events {
		if e.Summary == "REFUSE" {
			return store.Invalid("summary", "refused")
		}
	}
	return r.memStores.Record(ctx, events...)
}
