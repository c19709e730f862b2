package imap_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/imap"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/store/postgres"
)

// A process killed after storing a batch's events and before saving its
// checkpoint loses nothing and duplicates nothing: the next ingester reads
// that batch again and writes the same events over themselves.
func TestCrashBetweenStoreAndCheckpoint(t *testing.T) {
	d := needDovecot(t)
	forEachBackend(t, func(t *testing.T, b *backend) {
		u := uniq()
		client := newClient(t, b.clients, "tom."+u+"@reyesgrain.example")
		c := d.login(t, d.users[0])
		folder := d.folder(t, c)
		var mails [][]byte
		for i := range 30 {
			l := letter{id: fmt.Sprintf("m%02d-%s@reyesgrain.example", i, u), from: "tom." + u + "@reyesgrain.example",
				to: []string{"desk@meridian.example"}, subject: fmt.Sprintf("Order %d", i), body: "Buy 5 March wheat at market."}
			if i == 15 {
				l.id = "" // identified by its content hash
			}
			mails = append(mails, l.raw())
		}
		appendMail(t, c, folder, mails)

		// The child ingests in batches of 10 and kills itself with SIGKILL
		// once the second batch (UIDs 11-20) is stored.
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), append(b.env, "CRASH_CHILD=1", "CRASH_AT_UID=20",
			"CRASH_URL="+d.url(d.users[0], folder, ""))...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child was not killed as planned: %v\n%s", err, out)
		}
		cfg := d.mailbox(t, d.users[0], folder, "")
		if cp := checkpoint(t, b, cfg); cp.LastUID != 10 {
			t.Fatalf("after the crash the checkpoint is at UID %d, want 10 (the batch before the crash)", cp.LastUID)
		}
		// Batches after the second may have been stored too (several are
		// written at once), but none was checkpointed.
		if n := len(timeline(t, b.timeline, client.ID)); n < 20 {
			t.Fatalf("after the crash the timeline has %d events, want at least 20 (stored, not checkpointed)", n)
		}

		in, _ := newIngester(t, b, cfg, func(o *imap.Options) { o.BatchSize = 10 })
		if err := in.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if cp := checkpoint(t, b, cfg); cp.LastUID != 30 || cp.HighestModSeq == 0 {
			t.Errorf("checkpoint at UID %d, HIGHESTMODSEQ %d; want 30 and the folder's (Dovecot offers CONDSTORE)", cp.LastUID, cp.HighestModSeq)
		}
		evs := timeline(t, b.timeline, client.ID)
		seen := map[string]bool{}
		for _, e := range evs {
			if seen[e.Summary] {
				t.Errorf("%q is on the timeline twice", e.Summary)
			}
			seen[e.Summary] = true
		}
		if len(evs) != 30 || len(seen) != 30 {
			t.Errorf("timeline has %d events (%d distinct), want 30", len(evs), len(seen))
		}
	})
}

// crashChild is the crash test's child process; see TestMain.
func crashChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	cfg, err := imap.ParseMailboxURL(os.Getenv("CRASH_URL"))
	if err != nil {
		return fail(err)
	}
	var clients store.ClientStore
	var tl store.TimelineStore
	var cps store.CheckpointStore
	switch os.Getenv("CRASH_BACKEND") {
	case "embedded":
		db, err := embedded.Open(ctx, os.Getenv("CRASH_DIR"), store.DefaultCatalogue(), quietLogger())
		if err != nil {
			return fail(err)
		}
		clients, tl, cps = db, db.Timeline(), db
	default:
		pg, err := postgres.Open(ctx, os.Getenv("CRASH_POSTGRES_URL"), store.DefaultCatalogue(), quietLogger())
		if err != nil {
			return fail(err)
		}
		cas, err := cassandra.Open(ctx, cassandra.Config{
			Hosts: strings.Split(os.Getenv("CRASH_CASSANDRA_HOSTS"), ","), Keyspace: os.Getenv("CRASH_KEYSPACE"),
			Consistency: "ONE", Timeout: 10 * time.Second,
		}, quietLogger())
		if err != nil {
			return fail(err)
		}
		clients, tl, cps = pg, cas, pg
	}
	in, err := imap.New(imap.Options{Mailbox: cfg, Clients: clients, Checkpoints: cps,
		Recorder: &ingest.Recorder{Timeline: tl, Scorer: scorer()}, Logger: quietLogger(), BatchSize: 10})
	if err != nil {
		return fail(err)
	}
	at, _ := strconv.ParseUint(os.Getenv("CRASH_AT_UID"), 10, 32)
	imap.SetAfterStore(in, func(last uint32) error {
		if last >= uint32(at) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	})
	return fail(fmt.Errorf("Sync returned without crashing: %v", in.Sync(ctx)))
}
