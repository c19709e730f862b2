package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

const (
	clusterManager = "UCLUSTERMGR"
	clusterDigests = "CCLUSTERDIGEST"
)

// TestClusterReplicas: three `serve` replicas (processes of the built
// binary) on one PostgreSQL and the 3-node Cassandra cluster read 20
// mailboxes of the real Dovecot while mail keeps arriving, take a stream of
// webhook orders spread over them, and post reminders coming due and a
// manager's digest to a fake Slack, while replicas are killed with SIGKILL
// (started again under their names at once, or after their leases ran
// out) and a Cassandra node is killed and started again, in turn. At the
// end: every mail and every acknowledged order is on the timeline exactly
// once (read at ALL), every mail was read (each checkpoint at its folder's
// last UID), the lease log shows one holder at a time for every mailbox
// (a takeover from another replica only once the lease ran out; from the
// same name only after that replica was killed, at once, with a new
// token), and every reminder and the digest were posted exactly once.
func TestClusterReplicas(t *testing.T) {
	r := newClusterStores(t)
	if testenv.ClusterRequired() && os.Getenv("BROKERSYNC_TEST_IMAP_ADDR") == "" {
		t.Fatal("BROKERSYNC_TEST_IMAP_ADDR is not set: `make test-cluster` starts a Dovecot of its own")
	}
	m := needMailServer(t)
	ctx := t.Context()

	// 20 mailboxes, five folders of each of four users, each written to
	// by a client of the desk's.
	var folders []*mailFolder
	var urls []string
	sessions := make([]*imapclient.Client, len(m.users))
	locks := make([]sync.Mutex, len(m.users))
	for i := range 20 {
		u := i % len(m.users)
		if sessions[u] == nil {
			sessions[u] = m.session(t, m.users[u])
		}
		f := m.folder(t, sessions[u], &locks[u], m.users[u], r.pg, clusterDesk, clusterBroker)
		f.send()
		folders = append(folders, f)
		urls = append(urls, f.url)
	}
	mailboxes := filepath.Join(t.TempDir(), "mailboxes")
	if err := os.WriteFile(mailboxes, []byte(strings.Join(urls, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Slack: the broker's reminders go to their DM, the desk's digest to
	// a channel.
	fake := slacktest.NewFakeSlack()
	fakeSrv := httptest.NewServer(fake.Handler())
	t.Cleanup(fakeSrv.Close)
	fake.BaseURL = fakeSrv.URL
	fake.AddUser(clusterBroker, "clusterbroker", "UTC", false, false)
	fake.AddUser(clusterManager, "clustermanager", "UTC", false, false)
	fake.AddChannel(clusterDigests, "cluster-digest")
	if err := r.pg.AddMember(ctx, store.Member{SlackID: clusterManager, Desk: clusterDesk, Role: store.RoleManager, AddedBy: "clustertest"}); err != nil {
		t.Fatal(err)
	}

	names := make([]string, 3)
	for i := range names {
		names[i] = fmt.Sprintf("replica-%d-%s", i+1, r.sfx)
		r.servers = append(r.servers, r.server(map[string]string{
			"BROKERSYNC_REPLICA_ID": names[i], "BROKERSYNC_IMAP_MAILBOXES": mailboxes,
			"SLACK_BOT_TOKEN": "xoxb-cluster", "SLACK_SIGNING_SECRET": "cluster-signing", "SLACK_API_URL": fakeSrv.URL + "/api/",
		}))
	}
	for _, s := range r.servers {
		s.start()
	}
	began := time.Now()

	// Reminders come due every 5 s over the first two minutes; the digest
	// at the turn of the first minute at least 70 s from now.
	var due []*store.Reminder
	for i := range 24 {
		rem := &store.Reminder{ClientID: folders[i%len(folders)].client.ID, Broker: clusterBroker, Due: began.Add(time.Duration(5+5*i) * time.Second),
			Text: fmt.Sprintf("cluster reminder %d", i), Source: "command"}
		if err := r.pg.CreateReminder(ctx, rem); err != nil {
			t.Fatal(err)
		}
		due = append(due, rem)
	}
	at := began.Add(70 * time.Second).UTC()
	sub := &store.DigestSubscription{Owner: clusterManager, Desk: clusterDesk, Channel: clusterDigests, Frequency: store.DigestDaily,
		At: (at.Hour()*60 + at.Minute() + 1) % (24 * 60), TimeZone: "UTC"}
	if _, err := r.pg.SaveDigestSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	digestDue := sub.Next(time.Now())
	digestID := reminders.DigestRunID(sub.ID, sub.PeriodAt(digestDue).Key)
	postsOf := func() map[string]int {
		n := map[string]int{}
		for _, p := range fake.Posted() {
			if p.Metadata.EventType == reminders.MetadataEventType {
				n[fmt.Sprint(p.Metadata.EventPayload["reminder_id"])]++
			}
		}
		return n
	}
	t.Logf("24 reminders due from %v to %v; the digest due at %v", due[0].Due.Format(time.TimeOnly), due[len(due)-1].Due.Format(time.TimeOnly),
		digestDue.Format(time.TimeOnly))

	// Webhook orders from two senders, spread over the replicas, and mail
	// arriving in a random folder five times a second, until the end.
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	orders := &sender{acked: map[string]bool{}}
	ordersDone := orders.stream(streamCtx, r, "r")
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		for i := 0; streamCtx.Err() == nil; i++ {
			folders[(i*7)%len(folders)].send()
			time.Sleep(200 * time.Millisecond)
		}
	}()

	// The faults, one after another. A replica is not killed in the
	// minute the digest comes due until it is posted: a claim whose holder
	// was killed waits five minutes for its lease, longer than this test.
	killed := map[string][]time.Time{}
	type restart struct {
		name        string
		killed, up  time.Time
		heldAtKill  int
		takenBack   bool
		takenBackBy time.Duration // after up; at most
	}
	var restarts []*restart
	kill := func(i int) *restart {
		for postsOf()[digestID.String()] == 0 {
			if now := time.Now(); now.Before(digestDue.Add(-2*time.Second)) || now.After(digestDue.Add(40*time.Second)) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		held := 0
		if leases, err := r.pg.Leases(ctx); err == nil {
			for _, l := range leases {
				if l.Holder == names[i] && l.ExpiresAt.After(time.Now()) {
					held++
				}
			}
		}
		r.servers[i].kill()
		rs := &restart{name: names[i], killed: time.Now(), heldAtKill: held}
		killed[names[i]] = append(killed[names[i]], rs.killed)
		t.Logf("%v: killed %s (holding %d mailboxes)", time.Since(began).Round(time.Second), names[i], held)
		return rs
	}
	start := func(i int, rs *restart) {
		r.servers[i].start()
		rs.up = time.Now()
		restarts = append(restarts, rs)
	}

	time.Sleep(10 * time.Second)
	start(0, kill(0)) // at once: it takes its mailboxes back
	time.Sleep(8 * time.Second)
	r.service("kill-node", "3")
	time.Sleep(12 * time.Second)
	r.service("start-node", "3")
	t.Logf("%v: Cassandra node 3 back", time.Since(began).Round(time.Second))
	rs := kill(1) // until its leases have run out: the others take them over
	time.Sleep(20 * time.Second)
	start(1, rs)
	time.Sleep(5 * time.Second)
	rs = kill(2)
	time.Sleep(2 * time.Second)
	start(2, rs)
	for time.Until(digestDue.Add(35*time.Second)) > 0 || time.Until(due[len(due)-1].Due) > 0 {
		time.Sleep(time.Second)
	}
	stopStream()
	ordersDone.Wait()
	<-mailDone
	t.Logf("%v: streams stopped", time.Since(began).Round(time.Second))

	// Everything arrived is read and posted. A reminder whose claimant was
	// killed in the middle waits for its claim's lease (2 minutes).
	waitFor(t, time.Minute, "every mail read", func() bool {
		for _, f := range folders {
			if !f.readUpTo(ctx, r.pg) {
				return false
			}
		}
		return true
	})
	waitFor(t, 3*time.Minute, "every reminder and the digest posted", func() bool {
		posts := postsOf()
		for _, rem := range due {
			if posts[rem.ID.String()] == 0 {
				return false
			}
		}
		return posts[digestID.String()] > 0
	})
	time.Sleep(2 * time.Second) // a second post would come now
	for _, s := range r.servers {
		s.stop()
	}

	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }

	// Orders and mail, once each, read back at ALL.
	var clients []uuid.UUID
	for _, h := range r.handles {
		clients = append(clients, r.ids[h])
	}
	for _, f := range folders {
		clients = append(clients, f.client.ID)
	}
	events := r.readEvents("ALL", clients...)
	orderSeen, mailSeen := map[string]int{}, map[string]int{}
	for _, e := range events {
		switch e.Source {
		case store.SourceOrders:
			orderSeen[e.SourceID]++
		case store.SourceEmail:
			mailSeen[e.Summary]++
		}
	}
	lost, dup := 0, 0
	count := func(n int) {
		switch {
		case n == 0:
			lost++
		case n > 1:
			dup++
		}
	}
	orders.mu.Lock()
	for id := range orders.acked {
		count(orderSeen[id])
	}
	mails := 0
	for _, f := range folders {
		for _, s := range f.sent {
			count(mailSeen[s])
			mails++
		}
	}
	summary := fmt.Sprintf("orders: %d sent, %d acknowledged (%d answers 503, %d unanswered, other failures %v); mails: %d in %d mailboxes; "+
		"read back at ALL: %d lost, %d doubled", orders.sent, len(orders.acked), orders.unavail, orders.noAnswer, orders.bad, mails, len(folders), lost, dup)
	if lost > 0 || dup > 0 || orders.sent != len(orders.acked) || len(orders.bad) > 0 || orders.noRetry > 0 || len(mailSeen) != mails {
		fail("%s (%d mail subjects on the timelines)", summary, len(mailSeen))
	}
	orders.mu.Unlock()
	t.Log(summary)

	// Reminders and the digest, once each.
	posts := postsOf()
	for _, rem := range due {
		if n := posts[rem.ID.String()]; n != 1 {
			fail("reminder %q posted %d times", rem.Text, n)
		}
	}
	if n := posts[digestID.String()]; n != 1 {
		fail("the digest posted %d times", n)
	}

	// The lease log: one holder at a time for every mailbox.
	selfTakeovers, takeovers := 0, 0
	for _, f := range folders {
		label := f.cfg.Label()
		log, err := r.pg.LeaseLog(ctx, label)
		if err != nil {
			t.Fatal(err)
		}
		var holder string
		var token int64
		for i, e := range log {
			ok := true
			switch e.Action {
			case store.LeaseAcquired:
				ok = holder == "" && e.Token == token+1
			case store.LeaseTakenOver:
				ok = holder != "" && e.PrevHolder == holder && e.Token == token+1
				if e.Holder != e.PrevHolder {
					// Another replica: only once the lease ran out.
					ok = ok && !e.At.Before(e.PrevExpiresAt)
					takeovers++
					break
				}
				// The same name: only a restart after a kill, and then its
				// lease was still live.
				restarted := false
				for _, rs := range restarts {
					if rs.name == e.Holder && e.At.After(rs.killed) {
						restarted, rs.takenBack = true, true
						rs.takenBackBy = max(rs.takenBackBy, e.At.Sub(rs.up))
					}
				}
				ok = ok && restarted
				selfTakeovers++
			case store.LeaseReleased:
				ok = e.Holder == holder && e.Token == token
			}
			if !ok {
				fail("%s: lease log entry %d %+v follows %q holding token %d", label, i, e, holder, token)
			}
			holder, token = e.Holder, e.Token
			if e.Action == store.LeaseReleased {
				holder = ""
			}
		}
		if holder != "" {
			fail("%s: still held by %s after every replica stopped", label, holder)
		}
	}
	for _, rs := range restarts {
		back := "none of its leases was live any more"
		if rs.takenBack {
			back = fmt.Sprintf("its live leases taken back at most %v after it answered again", rs.takenBackBy.Round(time.Millisecond))
		}
		t.Logf("%s: killed holding %d mailboxes, down %v; %s", rs.name, rs.heldAtKill, rs.up.Sub(rs.killed).Round(time.Millisecond), back)
		if rs.up.Sub(rs.killed) < 5*time.Second && rs.heldAtKill > 0 && (!rs.takenBack || rs.takenBackBy > 5*time.Second) {
			fail("%s, started again %v after it was killed, took its mailboxes back %v after it answered, want within 5 s",
				rs.name, rs.up.Sub(rs.killed).Round(time.Millisecond), rs.takenBackBy)
		}
	}
	t.Logf("lease log: %d takeovers from other replicas, %d by restarted replicas of their own live leases", takeovers, selfTakeovers)
	if takeovers == 0 {
		fail("no mailbox of the replica left down for 20 s was taken over")
	}
	t.Logf("the run took %v", time.Since(began).Round(time.Second))
	if len(failures) > 0 {
		t.Errorf("replicas:\n%s\nserver logs:\n%s", strings.Join(failures, "\n"), r.logs())
	}
}
