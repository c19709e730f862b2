package main

// The crash test: the brokersync binary serves Slack message events and webhook order
// batches while it is killed with SIGKILL at random moments and restarted;
// afterwards everything that was not acknowledged with 200 is sent again as
// Slack and a webhook sender would, and the timelines must hold every input
// exactly once. docs/RELIABILITY.md says how to run it longer.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot/slack/slacktest"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
	"github.com/brokersync/brokersync/webhooks"
)

var (
	crashKills   = flag.Int("crash.kills", 6, "crash test: how many times the server is killed")
	crashEvents  = flag.Int("crash.events", 100, "crash test: Slack message events offered per second")
	crashBatches = flag.Int("crash.batches", 8, "crash test: webhook batches (of crash.batch orders) offered per second")
	crashBatch   = flag.Int("crash.batch", 10, "crash test: orders per webhook batch")
	crashBurst   = flag.Int("crash.burst", 30, "crash test: Slack events sent at once just before each kill")
	crashLease   = flag.Duration("crash.lease", time.Second, "crash test: the server's Slack delivery lease (BROKERSYNC_SLACK_LEASE)")
)

const (
	crashSigning = "crash-signing-secret"
	crashWebhook = "crash-webhook-secret"
	crashChannel = "CCRASH"
	crashDesk    = "crash-desk"
	crashBroker  = "UCRASHBRK"
)

// buildServer builds the brokersync binary into dir, without the race
// detector whatever the test runs with: the server under test must be as
// fast as the one deployed, or Slack's three seconds run out for load alone.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "brokersync")
	began := time.Now()
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the server in %v", time.Since(began).Round(time.Millisecond))
	return bin
}

// On the embedded store.
func TestCrashLosesNothingEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test takes tens of seconds")
	}
	dir := t.TempDir()
	setup := func(ctx context.Context) (crashStores, func()) {
		db, err := embedded.Open(ctx, dir, store.DefaultCatalogue(), backendtest.Logger())
		if err != nil {
			t.Fatal(err)
		}
		return crashStores{clients: db, teams: db, links: db, trades: db, timeline: db.Timeline()}, func() { db.Close() }
	}
	crashTest(t, map[string]string{"BROKERSYNC_DATA_DIR": dir}, setup)
}

// On PostgreSQL and Cassandra.
func TestCrashLosesNothingOnBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test takes tens of seconds")
	}
	pg, tl := backendtest.Postgres(t), backendtest.Cassandra(t)
	cas := backendtest.CassandraConfig(t)
	settings := map[string]string{
		"BROKERSYNC_DATA_DIR":              t.TempDir(),
		"BROKERSYNC_POSTGRES_URL":          backendtest.PostgresURL(t),
		"BROKERSYNC_CASSANDRA_HOSTS":       strings.Join(cas.Hosts, ","),
		"BROKERSYNC_CASSANDRA_KEYSPACE":    cas.Keyspace,
		"BROKERSYNC_CASSANDRA_CONSISTENCY": cas.Consistency,
		"BROKERSYNC_CASSANDRA_REPLICATION": cas.Replication,
	}
	crashTest(t, settings, func(context.Context) (crashStores, func()) {
		return crashStores{clients: pg, teams: pg, links: pg, trades: pg, timeline: tl}, func() {}
	})
}

// crashStores are the stores the server writes to, opened by the test to
// set up and to count.
type crashStores struct {
	clients  store.ClientStore
	teams    store.TeamStore
	links    store.LinkStore
	trades   store.TradeStore
	timeline store.TimelineStore
}

// delivery is one input: a Slack event or a webhook batch, sent until it is
// acknowledged with 200.
type delivery struct {
	slack bool
	body  []byte
	tries int // deliveries so far; the next one's X-Slack-Retry-Num is tries
	acked bool
	taken bool // a retry holds it (the crashCounts lock guards acked and taken)
}

type crashCounts struct {
	mu                                       sync.Mutex
	slackSent, batchesSent, ordersSent       int
	firstTry, retried, busy, failed, resends int
	inFlightAtKill                           []int
	unacked                                  []*delivery
	redeliver                                []*delivery // acknowledged, sent again as after a lost answer
}

func crashTest(t *testing.T, settings map[string]string, open func(context.Context) (crashStores, func())) {
	ctx := t.Context()
	b := make([]byte, 4)
	rand.Read(b)
	sfx := hex.EncodeToString(b)
	acme, beta := "crash-acme-"+sfx, "crash-beta-"+sfx
	channel := crashChannel + strings.ToUpper(sfx)

	// Who and what the inputs concern, written before the server starts.
	st, closeStores := open(ctx)
	if err := st.teams.AddMember(ctx, store.Member{SlackID: crashBroker, Desk: crashDesk, Role: store.RoleBroker, AddedBy: "crashtest"}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]uuid.UUID{}
	for _, h := range []string{acme, beta} {
		c := &store.Client{Handle: h, Name: "Crash test " + h, Team: crashDesk, Broker: crashBroker}
		if err := st.clients.CreateClient(ctx, c, "crashtest"); err != nil {
			t.Fatal(err)
		}
		ids[h] = c.ID
	}
	if err := st.links.LinkChannel(ctx, channel, ids[acme], "crashtest"); err != nil {
		t.Fatal(err)
	}
	closeStores()

	fake := slacktest.NewFakeSlack()
	fake.AddUser(crashBroker, "crashbroker", "UTC", false, false)
	fakeSrv := httptest.NewServer(fake.Handler())
	defer fakeSrv.Close()
	fake.BaseURL = fakeSrv.URL

	all := map[string]string{
		"BROKERSYNC_LOG_LEVEL": "warn",
		"SLACK_BOT_TOKEN":      "xoxb-crash", "SLACK_SIGNING_SECRET": crashSigning, "SLACK_API_URL": fakeSrv.URL + "/api/",
		"BROKERSYNC_WEBHOOK_SECRET": crashWebhook, "BROKERSYNC_SLACK_LEASE": crashLease.String(),
	}
	maps.Copy(all, settings)
	server := newServed(t, buildServer(t, t.TempDir()), all)
	server.start()
	base := server.base()

	// Slack gives up on a request after three seconds.
	httpc := &http.Client{Timeout: 3 * time.Second}
	var inFlight, slackInFlight atomic.Int64
	send := func(d *delivery) int {
		path, sign := "/webhooks/orders", func(r *http.Request) {
			r.Header.Set(webhooks.SignatureHeader, webhooks.Sign(crashWebhook, time.Now(), d.body))
		}
		if d.slack {
			path, sign = "/slack/events", func(r *http.Request) {
				ts := time.Now().Unix()
				r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
				r.Header.Set("X-Slack-Signature", slackSignature(crashSigning, ts, d.body))
				if d.tries > 0 {
					r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(d.tries))
					r.Header.Set("X-Slack-Retry-Reason", "http_error")
				}
			}
		}
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(d.body))
		req.Header.Set("Content-Type", "application/json")
		sign(req)
		d.tries++
		inFlight.Add(1)
		defer inFlight.Add(-1)
		if d.slack {
			slackInFlight.Add(1)
			defer slackInFlight.Add(-1)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var counts crashCounts
	var failures []string
	record := func(d *delivery, code int, retry bool) {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		switch {
		case code == http.StatusOK:
			d.acked = true
			if retry {
				counts.retried++
			} else {
				counts.firstTry++
			}
		case code == http.StatusServiceUnavailable:
			counts.busy++
		case code == 0 || code >= 500:
			counts.failed++
		default:
			failures = append(failures, fmt.Sprintf("HTTP %d for %s", code, d.body))
		}
	}

	// Stream: Slack events and webhook batches at their rates, each
	// delivered once; what is not acknowledged waits for the retries.
	streamCtx, stopStream := context.WithCancel(ctx)
	var senders sync.WaitGroup
	launch := func(d *delivery) {
		senders.Go(func() {
			code := send(d)
			record(d, code, false)
			counts.mu.Lock()
			defer counts.mu.Unlock()
			if !d.acked {
				counts.unacked = append(counts.unacked, d)
			} else if mrand.IntN(20) == 0 {
				counts.redeliver = append(counts.redeliver, d)
			}
		})
	}
	stream := func(perSecond int, next func() *delivery) {
		if perSecond <= 0 {
			return
		}
		senders.Go(func() {
			tick := time.NewTicker(time.Second / time.Duration(perSecond))
			defer tick.Stop()
			for {
				select {
				case <-streamCtx.Done():
					return
				case <-tick.C:
				}
				launch(next())
			}
		})
	}
	messageTS := func(i int) string { return fmt.Sprintf("%d.%06d", 1767225600+i/1000, i%1000) }
	nextEvent := func() *delivery {
		counts.mu.Lock()
		i := counts.slackSent
		counts.slackSent++
		counts.mu.Unlock()
		body, _ := json.Marshal(map[string]any{
			"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": fmt.Sprintf("EvCrash%s%06d", sfx, i), "event_time": time.Now().Unix(),
			"event": map[string]any{"type": "message", "channel": channel, "channel_type": "channel", "user": "UCLIENT",
				"text": fmt.Sprintf("crash message %d", i), "ts": messageTS(i), "event_ts": messageTS(i)},
		})
		return &delivery{slack: true, body: body}
	}
	orderID := func(i, j int) string { return fmt.Sprintf("crash-%s-%d-%d", sfx, i, j) }
	nextBatch := func() *delivery {
		counts.mu.Lock()
		i := counts.batchesSent
		counts.batchesSent++
		counts.ordersSent += *crashBatch
		counts.mu.Unlock()
		var events []map[string]any
		for j := range *crashBatch {
			client := acme
			if j%2 == 1 {
				client = beta
			}
			id := orderID(i, j)
			events = append(events, map[string]any{
				"id": id, "order_id": "O-" + id, "exec_id": "X-" + id, "client": client, "status": "filled",
				"side": "buy", "contract": "ZCZ6", "quantity": 1 + j, "cum_qty": 1 + j, "last_qty": 1 + j,
				"last_px": 452.25, "avg_px": 452.25, "currency": "USD", "order_type": "limit", "time_in_force": "day",
				"time": time.Now().UTC().Format(time.RFC3339Nano),
			})
		}
		body, _ := json.Marshal(map[string]any{"events": events})
		return &delivery{body: body}
	}
	stream(*crashEvents, nextEvent)
	stream(*crashBatches, nextBatch)

	// Slack retries a failed event three times: at once, after a minute
	// and after five, with a 30 s lease; the same schedule here, scaled to
	// the test's lease. A webhook sender retries likewise.
	// retry sends again deliveries that unacked handed out.
	retry := func(ds []*delivery) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for _, d := range ds {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				record(d, send(d), true)
				counts.mu.Lock()
				d.taken = false
				counts.mu.Unlock()
			})
		}
		wg.Wait()
	}
	// unacked hands out the deliveries not acknowledged yet that were sent
	// at most maxTries times and that no retry holds.
	unacked := func(maxTries int) (out []*delivery) {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		for _, d := range counts.unacked {
			if !d.acked && !d.taken && d.tries <= maxTries {
				d.taken = true
				out = append(out, d)
			}
		}
		return out
	}
	left := func(ds []*delivery) (n int) {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		for _, d := range ds {
			if !d.acked {
				n++
			}
		}
		return n
	}

	// Kill at random moments, and always while Slack events and a webhook
	// batch are being applied: a burst of them goes out just before the
	// kill. Restart at once, and retry at once what failed (Slack's first
	// retry).
	for range *crashKills {
		time.Sleep(time.Duration(800+mrand.IntN(1700)) * time.Millisecond)
		launch(nextBatch())
		for range *crashBurst {
			launch(nextEvent())
		}
		// Somewhere in the time the burst takes to apply.
		time.Sleep(time.Duration(2000+mrand.IntN(80000)) * time.Microsecond)
		counts.mu.Lock()
		counts.inFlightAtKill = append(counts.inFlightAtKill, int(inFlight.Load()))
		counts.mu.Unlock()
		server.kill()
		server.start()
		first := unacked(1)
		senders.Go(func() { retry(first) })
	}
	time.Sleep(time.Second)
	stopStream()
	senders.Wait()

	counts.mu.Lock()
	again := counts.redeliver
	counts.mu.Unlock()
	for _, d := range again {
		code := send(d)
		counts.resends++
		if code != http.StatusOK {
			failures = append(failures, fmt.Sprintf("a delivery acknowledged before was answered %d when sent again", code))
		}
	}
	var pending []*delivery
	for round, wait := range []time.Duration{0, 2 * *crashLease, 10 * *crashLease} {
		// Slack delivers an event four times at most.
		if pending = unacked(3); len(pending) == 0 {
			break
		}
		time.Sleep(wait)
		retry(pending)
		t.Logf("retry round %d: %d of %d acknowledged", round+1, len(pending)-left(pending), len(pending))
	}
	// A server too slow to answer within Slack's three seconds (a machine
	// loaded by other work) can exhaust Slack's retries without anything
	// being wrong; those are retried further and reported, not failed.
	overtime := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if pending = unacked(1 << 20); len(pending) == 0 {
			break
		}
		overtime += len(pending)
		time.Sleep(*crashLease)
		retry(pending)
	}
	if pending = unacked(1 << 20); len(pending) > 0 {
		failures = append(failures, fmt.Sprintf("%d deliveries never acknowledged", len(pending)))
	}
	if err := server.terminate(); err != nil {
		t.Errorf("the server did not stop cleanly: %v\n%s", err, tail(server.logPath))
	}

	// Count what the timelines hold.
	st, closeStores = open(ctx)
	defer closeStores()
	chats := map[string]int{}
	orders := map[string]int{}
	for _, h := range []string{acme, beta} {
		q := store.EventQuery{Limit: 1000}
		for {
			page, err := st.timeline.Events(ctx, ids[h], q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				switch {
				case e.Kind == store.KindChat && e.Source == store.SourceSlack:
					chats[e.SourceID]++
				case e.Kind == store.KindOrder && e.Source == store.SourceOrders:
					orders[e.SourceID]++
				case e.Source == store.SourceProfile && e.Actor == ingest.LifecycleActor:
					// The first fill makes the client active, by rule.
				case e.Source == store.SourceMilestone:
					// The contracts' last trading days, by rule, on the
					// days the test runs near them.
				case e.Kind == store.KindReminder && strings.HasPrefix(e.SourceID, "reminder-resolved:"):
					// Each fill resolves the follow-up the fill before it
					// raised; its id is the follow-up's, so never doubled.
				default:
					failures = append(failures, fmt.Sprintf("unexpected event %s %s/%s on %s", e.Kind, e.Source, e.SourceID, h))
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	lost, dup := 0, 0
	for i := range counts.slackSent {
		switch n := chats[channel+"/"+messageTS(i)]; {
		case n == 0:
			lost++
		case n > 1:
			dup++
		}
		delete(chats, channel+"/"+messageTS(i))
	}
	for i := range counts.batchesSent {
		for j := range *crashBatch {
			switch n := orders[orderID(i, j)]; {
			case n == 0:
				lost++
			case n > 1:
				dup++
			}
			delete(orders, orderID(i, j))
		}
	}
	if len(chats)+len(orders) > 0 {
		failures = append(failures, fmt.Sprintf("%d events on the timelines that were never sent", len(chats)+len(orders)))
	}
	fills := 0
	for _, h := range []string{acme, beta} {
		s, err := st.trades.TradeStats(ctx, ids[h], time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		fills += s.Trades365d
	}
	summary := fmt.Sprintf("%d kills (requests in flight at each: %v); %d Slack events and %d webhook batches (%d orders) sent; "+
		"%d acknowledged at the first try, %d on a retry (%d answers 503 'being applied', %d failed or refused connections; %d retries beyond Slack's three), %d acknowledged deliveries sent again; "+
		"timelines: %d lost, %d duplicated; fills counted %d of %d",
		*crashKills, counts.inFlightAtKill, counts.slackSent, counts.batchesSent, counts.ordersSent,
		counts.firstTry, counts.retried, counts.busy, counts.failed, overtime, counts.resends, lost, dup, fills, counts.ordersSent)
	t.Log(summary)
	if lost > 0 || dup > 0 || fills != counts.ordersSent {
		failures = append(failures, summary)
	}
	if len(failures) > 0 {
		t.Errorf("crash test failed:\n%s\nserver log:\n%s", strings.Join(failures, "\n"), tail(server.logPath))
	}
}

// slackSignature returns Slack's v0 signature of body at ts.
func slackSignature(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// tail is the end of the server's log, for a failure message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// The lease must let Slack's retries through: from a second to five minutes.
func TestSlackLeaseSetting(t *testing.T) {
	for _, bad := range []string{"0s", "500ms", "10m", "soon"} {
		_, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, env(t, "BROKERSYNC_SLACK_LEASE", bad))
		if err == nil || !strings.Contains(err.Error(), "BROKERSYNC_SLACK_LEASE") {
			t.Errorf("lease %q: %v, want an error naming BROKERSYNC_SLACK_LEASE", bad, err)
		}
	}
	c, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, env(t))
	if err != nil || c.Lease() != 30*time.Second {
		t.Errorf("default lease: %v %v, want 30s", c.Lease(), err)
	}
	c, err = loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"-slack-lease", "2s"}, env(t))
	if err != nil || c.Lease() != 2*time.Second {
		t.Errorf("-slack-lease 2s: %v %v", c.Lease(), err)
	}
}
