package imap_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest/imap"
)

// The replica benchmark's mailboxes: six folders of 1,000 generated
// messages each (BROKERSYNC_BENCH_REPLICA_MESSAGES sets another number, for
// a slow store such as the 3-node cluster on one machine), appended once and
// reused.
const replicaBenchFolders = 6

func replicaBenchMessages() int {
	if n, err := strconv.Atoi(os.Getenv("BROKERSYNC_BENCH_REPLICA_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// BenchmarkReplicasIngest ingests six mailboxes (6,000 messages) with one,
// two and three replicas' lease pools (in this process, on PostgreSQL +
// Cassandra), from empty checkpoints to the last UIDs, and reports msgs/s;
// the lease pools spread the mailboxes over the replicas. A first untimed
// pass stores the events, so that every timed pass finds them stored
// alike. Compare the sub-benchmarks of one run: their ratio is the
// scaling.
//
//	go test -run '^$' -bench ReplicasIngest -benchtime 2x ./ingest/imap
func BenchmarkReplicasIngest(b *testing.B) {
	d := needDovecot(b)
	messages := replicaBenchMessages()
	user := benchUser(d)
	var folders []string
	for i := range replicaBenchFolders {
		f := fmt.Sprintf("bench-replicas-v1-%d", i)
		loadFolder(b, d, user, f, 20000+i*messages, messages)
		folders = append(folders, f)
	}
	be := openReal(b)
	ensureBenchClients(b, be.clients)
	pass := func(b *testing.B, replicas int) time.Duration {
		run := uniq()
		var mailboxes []imap.MailboxConfig
		for _, f := range folders {
			cfg := d.mailbox(b, user, f, "email=broker0@meridian.example&broker=U0BROKER0")
			cfg.Account = "bench-" + run // a fresh checkpoint and lease each pass
			mailboxes = append(mailboxes, cfg)
		}
		// Every replica announces itself before any starts reading, so
		// that the first does not take every mailbox only to give most
		// back a moment later (as when replicas start one by one).
		var names []string
		for i := range replicas {
			names = append(names, fmt.Sprintf("r%d-%s", i, uniq()))
			if err := be.leases.Heartbeat(context.Background(), names[i], testLeaseTTL); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		var rs []*replica
		for _, name := range names {
			rs = append(rs, startReplicaB(b, be, name, mailboxes))
		}
		ctx := context.Background()
		deadline := time.Now().Add(10 * time.Minute)
		for {
			done := 0
			for _, mb := range mailboxes {
				if cp, err := be.checkpoints.Checkpoint(ctx, mb.Account, mb.Folder); err == nil && int(cp.LastUID) == messages {
					done++
				}
			}
			if done == len(mailboxes) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d mailboxes read after 10 minutes", done, len(mailboxes))
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		for _, r := range rs {
			r.cancel()
			<-r.done
		}
		return elapsed
	}
	pass(b, 1) // warm-up: the events are stored from now on
	var one float64
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			var elapsed time.Duration
			passes := 0
			for b.Loop() {
				elapsed += pass(b, n)
				passes++
			}
			rate := float64(replicaBenchFolders*messages*passes) / elapsed.Seconds()
			b.ReportMetric(rate, "msgs/s")
			if n == 1 {
				one = rate
			}
			if one > 0 {
				b.ReportMetric(rate/one, "x_one_replica")
			}
		})
	}
}

// startReplicaB is startReplica for a benchmark: default batch sizes and
// the test lease timings.
func startReplicaB(b *testing.B, be *backend, name string, mailboxes []imap.MailboxConfig) *replica {
	rs := &replicaStores{LeaseStore: be.leases, checkpoints: be.checkpoints, recorder: be.recorder()}
	desk := imap.NewDesk(mailboxes)
	var ins []*imap.Ingester
	for _, mb := range mailboxes {
		in, _ := newIngester(b, be, mb, func(o *imap.Options) { o.Recorder, o.Checkpoints, o.Desk = rs, rs, desk })
		ins = append(ins, in)
	}
	pool, err := imap.NewPool(ins, imap.PoolOptions{Leases: rs, Replica: name, TTL: testLeaseTTL, Renew: testLeaseRenew, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{name: name, pool: pool, stores: rs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- pool.Run(ctx) }()
	return r
}
