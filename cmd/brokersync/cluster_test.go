package main

// The cluster tests: a real `brokersync serve` on PostgreSQL and a 3-node
// Cassandra cluster (replication factor 3, LOCAL_QUORUM) while nodes of the
// cluster, or PostgreSQL, are stopped and started under it. They run under
// `make test-cluster`, which starts the cluster and a PostgreSQL of its own
// (they stop and start both) and requires them; elsewhere they skip.
// docs/RELIABILITY.md says what they show.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/webhooks"
	"github.com/brokersync/brokersync/webhooks/web"
)

const (
	clusterWebhook = "cluster-webhook-secret"
	clusterLinkKey = "cluster-link-key-0123456789abcdef0123456789"
	clusterDesk    = "cluster-desk"
	clusterBroker  = "UCLUSTERBRK"
	clusterRF3     = "{'class': 'SimpleStrategy', 'replication_factor': 3}"
)

// clusterRig is a served BrokerSync on the cluster: its stores as the test
// opens them, two clients, and the server process.
type clusterRig struct {
	t        *testing.T
	sfx      string
	hosts    []string
	cas      cassandra.Config
	pg       *postgres.DB
	tl       *cassandra.Timeline
	handles  []string
	ids      map[string]uuid.UUID
	bin      string
	settings map[string]string // of every server on the rig
	services string
	httpc    *http.Client

	// The servers webhooks and pages go to, in turn.
	servers []*served
	turn    atomic.Int64
}

// newClusterRig sets up the stores and starts one server.
func newClusterRig(t *testing.T) *clusterRig {
	t.Helper()
	r := newClusterStores(t)
	r.servers = []*served{r.server(nil)}
	r.servers[0].start()
	return r
}

// server returns a server on the rig's stores with extra settings, not
// started.
func (r *clusterRig) server(extra map[string]string) *served {
	settings := map[string]string{"BROKERSYNC_DATA_DIR": r.t.TempDir()}
	for k, v := range r.settings {
		settings[k] = v
	}
	for k, v := range extra {
		settings[k] = v
	}
	return newServed(r.t, r.bin, settings)
}

// logs is the end of every server's log.
func (r *clusterRig) logs() string {
	var b strings.Builder
	for _, s := range r.servers {
		fmt.Fprintf(&b, "--- server %s:\n%s\n", s.addr, tail(s.logPath))
	}
	return b.String()
}

// base is the server the next request goes to.
func (r *clusterRig) base() string {
	return r.servers[int(r.turn.Add(1))%len(r.servers)].base()
}

// newClusterStores opens a keyspace of the test's own on the cluster (three
// replicas, LOCAL_QUORUM) and the test PostgreSQL, with a broker and two
// clients on a desk, and builds the server.
func newClusterStores(t *testing.T) *clusterRig {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the cluster tests stop and start servers")
	}
	hosts := strings.Split(testenv.CassandraClusterHosts(t), ",")
	r := &clusterRig{t: t, hosts: hosts, services: testenv.ServicesScript(t), ids: map[string]uuid.UUID{},
		httpc: &http.Client{Timeout: 10 * time.Second}}
	b := make([]byte, 4)
	rand.Read(b)
	r.sfx = hex.EncodeToString(b)
	r.cas = cassandra.Config{Hosts: hosts, Keyspace: "brokersync_cluster_" + r.sfx, Replication: clusterRF3,
		Consistency: "LOCAL_QUORUM", Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	tl, err := cassandra.Open(ctx, r.cas, backendtest.Logger())
	if err != nil {
		t.Fatalf("open the cluster keyspace: %v", err)
	}
	r.tl = tl
	t.Cleanup(func() {
		_ = tl.Session().Query(`DROP KEYSPACE IF EXISTS ` + r.cas.Keyspace).Exec()
		tl.Close()
	})
	if !tl.Speculative() {
		t.Error("reads are not speculated on a keyspace with three replicas")
	}
	r.pg = backendtest.Postgres(t)
	if err := r.pg.AddMember(ctx, store.Member{SlackID: clusterBroker, Desk: clusterDesk, Role: store.RoleBroker, AddedBy: "clustertest"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"cluster-acme-" + r.sfx, "cluster-beta-" + r.sfx} {
		c := &store.Client{Handle: h, Name: "Cluster test " + h, Team: clusterDesk, Broker: clusterBroker}
		if err := r.pg.CreateClient(ctx, c, "clustertest"); err != nil {
			t.Fatal(err)
		}
		r.handles = append(r.handles, h)
		r.ids[h] = c.ID
	}

	r.bin = buildServer(t, t.TempDir())
	r.settings = map[string]string{
		"BROKERSYNC_LOG_LEVEL":      "warn",
		"BROKERSYNC_WEBHOOK_SECRET": clusterWebhook, "BROKERSYNC_LINK_KEY": clusterLinkKey,
		"BROKERSYNC_POSTGRES_URL":          backendtest.PostgresURL(t),
		"BROKERSYNC_CASSANDRA_HOSTS":       strings.Join(hosts, ","),
		"BROKERSYNC_CASSANDRA_KEYSPACE":    r.cas.Keyspace,
		"BROKERSYNC_CASSANDRA_REPLICATION": clusterRF3,
		"BROKERSYNC_CASSANDRA_CONSISTENCY": "LOCAL_QUORUM",
	}
	return r
}

// service runs scripts/services.sh with args (stop-node 2, start postgres, ...).
func (r *clusterRig) service(args ...string) time.Duration {
	t := r.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	out, err := exec.CommandContext(ctx, r.services, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("services.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	took := time.Since(began)
	t.Logf("services.sh %s (%v):\n%s", strings.Join(args, " "), took.Round(time.Millisecond), out)
	return took
}

// orderBatch is a webhook body of n filled orders alternating between the
// rig's clients, with ids made from tag and i.
func (r *clusterRig) orderBatch(tag string, i, n int) ([]byte, []string) {
	var events []map[string]any
	var ids []string
	for j := range n {
		id := fmt.Sprintf("cl-%s-%s-%d-%d", r.sfx, tag, i, j)
		events = append(events, map[string]any{
			"id": id, "order_id": "O-" + id, "exec_id": "X-" + id, "client": r.handles[j%2], "status": "filled",
			"side": "buy", "contract": "ZCZ6", "quantity": 1 + j, "cum_qty": 1 + j, "last_qty": 1 + j,
			"last_px": 452.25, "avg_px": 452.25, "currency": "USD", "order_type": "limit", "time_in_force": "day",
			"time": time.Now().UTC().Format(time.RFC3339Nano),
		})
		ids = append(ids, id)
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	return body, ids
}

// post sends a signed webhook body; it returns the status (0 when no answer)
// and the Retry-After header.
func (r *clusterRig) post(body []byte) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, r.base()+"/webhooks/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(clusterWebhook, time.Now(), body))
	resp, err := r.httpc.Do(req)
	if err != nil {
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// page opens the timeline page of handle as the broker would, following
// the signed link; it returns the final status and Retry-After.
func (r *clusterRig) page(handle string) (int, string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	link := web.Links{BaseURL: r.base(), Key: []byte(clusterLinkKey)}.Timeline(handle, clusterBroker, time.Now())
	resp, err := c.Get(link)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// sender delivers webhook batches as a sender does: each until it is
// answered 200, again after a 503 (whose Retry-After it checks is there,
// waiting less than it asks to keep the test short).
type sender struct {
	mu        sync.Mutex
	acked     map[string]bool // order id -> acknowledged
	sent      int
	unavail   int // 503 answers
	noRetry   int // 503 answers without Retry-After
	noAnswer  int // requests that got no answer (a server killed)
	bad       []string
	firstFail time.Time
}

func (s *sender) deliver(ctx context.Context, r *clusterRig, body []byte, ids []string) bool {
	for ctx.Err() == nil {
		code, retryAfter := r.post(body)
		s.mu.Lock()
		switch code {
		case http.StatusOK:
			for _, id := range ids {
				s.acked[id] = true
			}
			s.mu.Unlock()
			return true
		case http.StatusServiceUnavailable:
			s.unavail++
			if retryAfter == "" {
				s.noRetry++
			}
		case 0:
			s.noAnswer++
		default:
			s.bad = append(s.bad, fmt.Sprintf("HTTP %d", code))
		}
		if s.firstFail.IsZero() {
			s.firstFail = time.Now()
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return false
}

// stream sends batches of 10 orders back to back from two senders until
// ctx ends, each batch until acknowledged (or 90 s after ctx ends).
func (s *sender) stream(ctx context.Context, r *clusterRig, tag string) *sync.WaitGroup {
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1))
				body, ids := r.orderBatch(fmt.Sprintf("%s%d", tag, w), i, 10)
				s.mu.Lock()
				s.sent += len(ids)
				s.mu.Unlock()
				// Once started, a batch is delivered even after the stream
				// stops: a sender does not drop what it has.
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
				s.deliver(dctx, r, body, ids)
				cancel()
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	return &wg
}

// readAll reads every event of the rig's clients at consistency, and
// counts orders and mails by source id.
func (r *clusterRig) readAll(consistency string) map[string]int {
	var clients []uuid.UUID
	for _, h := range r.handles {
		clients = append(clients, r.ids[h])
	}
	seen := map[string]int{}
	for _, e := range r.readEvents(consistency, clients...) {
		if e.Source == store.SourceOrders || e.Source == store.SourceEmail {
			seen[e.SourceID]++
		}
	}
	return seen
}

// readEvents reads every event of clients at consistency.
func (r *clusterRig) readEvents(consistency string, clients ...uuid.UUID) []*store.Event {
	t := r.t
	t.Helper()
	cfg := r.cas
	cfg.Consistency = consistency
	cfg.Timeout = 10 * time.Second
	tl, err := cassandra.Open(t.Context(), cfg, backendtest.Logger())
	if err != nil {
		t.Fatalf("open at %s: %v", consistency, err)
	}
	defer tl.Close()
	var out []*store.Event
	for _, id := range clients {
		q := store.EventQuery{Limit: 1000}
		for {
			page, err := tl.Events(t.Context(), id, q)
			if err != nil {
				t.Fatalf("read %s at %s: %v", id, consistency, err)
			}
			out = append(out, page.Events...)
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	return out
}

// mail is a mail-like event on client: what the IMAP reader appends.
func mail(client uuid.UUID, sfx string, i int, at time.Time) *store.Event {
	return &store.Event{ClientID: client, Time: at, Kind: store.KindEmail, Source: store.SourceEmail,
		SourceID: fmt.Sprintf("cl-mail-%s-%d", sfx, i), Actor: "client@example.com", Summary: fmt.Sprintf("Mail %d", i)}
}

// latencies keeps read latencies by phase.
type latencies struct {
	mu sync.Mutex
	by map[string][]time.Duration
}

func (l *latencies) add(phase string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil {
		l.by = map[string][]time.Duration{}
	}
	l.by[phase] = append(l.by[phase], d)
}

func (l *latencies) p(phase string, q float64) (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ds := slices.Clone(l.by[phase])
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*q))], len(ds)
}

// TestClusterNodeLoss: webhook orders, mail appends and newest-50 timeline
// reads go on while one of the three nodes is killed (SIGKILL) and started
// again. Nothing acknowledged is lost or doubled (read back at ALL), every
// read is correct (newest first, no duplicates, every mail acknowledged
// before it began that is newer than its oldest event is on it), and no
// request fails while only one node is down.
func TestClusterNodeLoss(t *testing.T) {
	r := newClusterRig(t)
	ctx := t.Context()
	var phase atomic.Value
	phase.Store("up")
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()

	orders := &sender{acked: map[string]bool{}}
	ordersDone := orders.stream(streamCtx, r, "n")

	// Mails on the first client, appended through the store as the IMAP
	// reader does: each call until it succeeds.
	acme := r.ids[r.handles[0]]
	var (
		mailMu     sync.Mutex
		mailAcked  = map[string]time.Time{}
		mailSent   int
		mailFailed = map[string]int{}
		workers    sync.WaitGroup
	)
	workers.Go(func() {
		for i := 0; streamCtx.Err() == nil; i++ {
			e := mail(acme, r.sfx, i, time.Now().UTC().Truncate(time.Millisecond))
			mailMu.Lock()
			mailSent++
			mailMu.Unlock()
			for {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				err := r.tl.AppendEvents(cctx, e)
				cancel()
				if err == nil {
					break
				}
				mailMu.Lock()
				ph := phase.Load().(string)
				if ph == "down" {
					t.Logf("append with one node down: %v", err)
					if !noQuorum(err) {
						ph = "down, timed out"
					}
				}
				mailFailed[ph]++
				mailMu.Unlock()
				if !store.IsRetryable(err) {
					t.Errorf("append mail %d: %v", i, err)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			mailMu.Lock()
			mailAcked[e.SourceID] = e.Time
			mailMu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	})

	// Newest-50 reads of the first client, checked.
	var (
		lat        latencies
		readErrs   = map[string]int{}
		readWrong  []string
		readsMu    sync.Mutex
		readsTotal int
	)
	workers.Go(func() {
		for streamCtx.Err() == nil {
			mailMu.Lock()
			before := make(map[string]time.Time, len(mailAcked))
			for id, at := range mailAcked {
				before[id] = at
			}
			mailMu.Unlock()
			ph := phase.Load().(string)
			began := time.Now()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			page, err := r.tl.Events(cctx, acme, store.EventQuery{Limit: 50})
			cancel()
			took := time.Since(began)
			readsMu.Lock()
			readsTotal++
			if err != nil {
				if ph == "down" {
					t.Logf("read with one node down: %v", err)
					if !noQuorum(err) {
						ph = "down, timed out"
					}
				}
				readErrs[ph]++
				readsMu.Unlock()
				time.Sleep(50 * time.Millisecond)
				continue
			}
			lat.add(ph, took)
			if wrong := checkPage(page.Events, before); wrong != "" {
				readWrong = append(readWrong, ph+": "+wrong)
			}
			readsMu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	})

	time.Sleep(4 * time.Second)
	// Requests in flight on the killed node's connections when it dies may
	// fail (a claim is not retried by the driver: it may have applied); their
	// callers retry. From then on nothing may fail.
	phase.Store("kill")
	r.service("kill-node", "2")
	downFor := time.Now()
	time.Sleep(2 * time.Second)
	phase.Store("down")
	time.Sleep(8 * time.Second)
	phase.Store("restart")
	r.service("start-node", "2")
	t.Logf("node 2 down for %v", time.Since(downFor).Round(time.Millisecond))
	phase.Store("after")
	time.Sleep(4 * time.Second)
	stopStream()
	ordersDone.Wait()
	workers.Wait()

	var failures []string
	seen := r.readAll("ALL")
	lost, dup := 0, 0
	orders.mu.Lock()
	for id := range orders.acked {
		switch seen[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	mailMu.Lock()
	for id := range mailAcked {
		switch seen[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	for id, n := range seen {
		if n > 1 && !orders.acked[id] {
			dup++
		}
	}
	summary := fmt.Sprintf("orders: %d sent, %d acknowledged (%d answers 503, %d without Retry-After, %d unanswered, other failures %v); "+
		"mails: %d sent, %d acknowledged, failed appends by phase %v; reads: %d, failed by phase %v; "+
		"read back at ALL: %d lost, %d doubled",
		orders.sent, len(orders.acked), orders.unavail, orders.noRetry, orders.noAnswer, orders.bad,
		mailSent, len(mailAcked), mailFailed, readsTotal, readErrs, lost, dup)
	unacked := orders.sent - len(orders.acked)
	orders.mu.Unlock()
	mailMu.Unlock()
	t.Log(summary)
	for _, ph := range []string{"up", "kill", "down", "restart", "after"} {
		p50, n := lat.p(ph, 0.5)
		p99, _ := lat.p(ph, 0.99)
		t.Logf("newest-50 reads %s: %d, p50 %v, p99 %v", ph, n, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
	}
	if lost > 0 || dup > 0 || unacked > 0 || len(orders.bad) > 0 || orders.noRetry > 0 || orders.noAnswer > 0 {
		failures = append(failures, summary)
	}
	if len(readWrong) > 0 {
		failures = append(failures, fmt.Sprintf("%d wrong reads, first: %s", len(readWrong), readWrong[0]))
	}
	// With one node of three down, LOCAL_QUORUM still has two replicas:
	// nothing may fail for want of replicas while it is down. (A request
	// that timed out on this loaded machine is retried and logged.)
	if mailFailed["down"] > 0 || readErrs["down"] > 0 {
		failures = append(failures, fmt.Sprintf("requests failed with one node down: %d appends, %d reads", mailFailed["down"], readErrs["down"]))
	}
	if _, n := lat.p("down", 0.5); n < 10 {
		failures = append(failures, fmt.Sprintf("only %d reads while the node was down", n))
	}
	if len(failures) > 0 {
		t.Errorf("node loss:\n%s\nserver log:\n%s", strings.Join(failures, "\n"), r.logs())
	}
}

// noQuorum reports whether err says too few replicas or hosts were up, as
// against a request that timed out on live ones.
func noQuorum(err error) bool {
	var re gocql.RequestError
	if errors.As(err, &re) && re.Code() == gocql.ErrCodeUnavailable {
		return true
	}
	return errors.Is(err, gocql.ErrNoConnections) || errors.Is(err, gocql.ErrUnavailable) ||
		strings.Contains(err.Error(), "no hosts available") || strings.Contains(err.Error(), "Cannot achieve consistency")
}

// checkPage checks a newest-50 page against the mails acknowledged before
// it was read; "" when right.
func checkPage(events []*store.Event, acked map[string]time.Time) string {
	ids := map[uuid.UUID]bool{}
	onPage := map[string]bool{}
	for i, e := range events {
		if ids[e.ID] {
			return fmt.Sprintf("event %s twice", e.SourceID)
		}
		ids[e.ID] = true
		onPage[e.SourceID] = true
		if i > 0 && e.Time.After(events[i-1].Time) {
			return "not newest first"
		}
	}
	if len(events) == 0 {
		if len(acked) > 0 {
			return fmt.Sprintf("empty page after %d mails", len(acked))
		}
		return ""
	}
	// Events of the oldest millisecond on the page may go on on the next.
	oldest := events[len(events)-1].Time
	for id, at := range acked {
		if at.After(oldest) && !onPage[id] {
			return fmt.Sprintf("mail %s of %v missing from a page of %d down to %v", id, at, len(events), oldest)
		}
	}
	if len(events) < 50 && len(events) < len(acked) {
		return fmt.Sprintf("%d events on the page, %d mails acknowledged", len(events), len(acked))
	}
	return ""
}

// TestClusterTwoNodesDown: with two of three nodes down, webhooks and pages
// are refused with 503 and Retry-After, the store says EUNAVAILABLE, and a
// refused append has written nothing half: its conditional batch of claims
// applied whole or not at all, and no event row exists without its claim.
// With the nodes back, the same deliveries are stored, once.
func TestClusterTwoNodesDown(t *testing.T) {
	r := newClusterRig(t)
	ctx := t.Context()
	if code, _, err := r.page(r.handles[0]); err != nil || code != http.StatusOK {
		t.Fatalf("timeline page with all nodes up: %d %v", code, err)
	}
	body, ids := r.orderBatch("pre", 0, 10)
	if code, _ := r.post(body); code != http.StatusOK {
		t.Fatalf("webhook with all nodes up: %d", code)
	}

	r.service("stop-node", "2", "3")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			r.service("start-node", "2", "3")
		}
	})

	// Webhooks: 503 with Retry-After, never anything else.
	var refused [][]byte
	var refusedIDs []string
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; len(refused) < 5; i++ {
		b, ids := r.orderBatch("down", i, 10)
		code, retryAfter := r.post(b)
		switch {
		case code == http.StatusServiceUnavailable && retryAfter != "":
			refused = append(refused, b)
			refusedIDs = append(refusedIDs, ids...)
		case code == http.StatusServiceUnavailable:
			t.Errorf("webhook refused without Retry-After")
		default:
			t.Fatalf("webhook with two nodes of three down answered %d, want 503\n%s", code, r.logs())
		}
		if time.Now().After(deadline) {
			t.Fatal("no 503 within 30s")
		}
	}
	code, retryAfter, err := r.page(r.handles[0])
	if err != nil || code != http.StatusServiceUnavailable || retryAfter == "" {
		t.Errorf("timeline page with two nodes down: %d (Retry-After %q) %v, want 503 with Retry-After", code, retryAfter, err)
	}

	// The store: a batch of 20 new events for a new client is refused.
	client := uuid.New()
	var batch []*store.Event
	at := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 20 {
		batch = append(batch, mail(client, r.sfx+"-half", i, at.Add(time.Duration(i)*time.Millisecond)))
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err = r.tl.AppendEvents(dctx, batch...)
	cancel()
	if !store.IsRetryable(err) {
		t.Fatalf("AppendEvents with two nodes down = %v (code %q), want EUNAVAILABLE", err, store.ErrorCode(err))
	}

	r.service("start-node", "2", "3")
	restarted = true

	// Nothing half-written: the client's claims are all there or none, and
	// no event row exists without its claim.
	all := r.tl.Session()
	var claims, rows int
	if err := all.Query(`SELECT count(*) FROM event_claims WHERE client_id = ?`, [16]byte(client)).Consistency(gocql.All).Scan(&claims); err != nil {
		t.Fatal(err)
	}
	if err := all.Query(`SELECT count(*) FROM event_ids WHERE client_id = ?`, [16]byte(client)).Consistency(gocql.All).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("after the refused append: %d of 20 claims, %d index rows", claims, rows)
	if claims != 0 && claims != 20 {
		t.Errorf("a refused conditional batch left %d of its 20 claims", claims)
	}
	if rows > claims {
		t.Errorf("%d index rows for %d claims", rows, claims)
	}
	// Sent again, the append is stored whole, once.
	if err := r.tl.AppendEvents(ctx, batch...); err != nil {
		t.Fatalf("the refused append again: %v", err)
	}
	page, err := r.tl.Events(ctx, client, store.EventQuery{Limit: 100})
	if err != nil || len(page.Events) != 20 {
		t.Fatalf("after the retry the client has %d events (%v), want 20", len(page.Events), err)
	}

	// Webhooks and pages again; the refused deliveries are stored once.
	s := &sender{acked: map[string]bool{}}
	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	defer rcancel()
	for i, b := range refused {
		if !s.deliver(rctx, r, b, refusedIDs[i*10:(i+1)*10]) {
			t.Fatalf("a refused webhook was not accepted after the nodes came back:\n%s", r.logs())
		}
	}
	if code, _, err := r.page(r.handles[0]); err != nil || code != http.StatusOK {
		t.Errorf("timeline page after the nodes came back: %d %v", code, err)
	}
	seen := r.readAll("ALL")
	for _, id := range append(ids, refusedIDs...) {
		if seen[id] != 1 {
			t.Errorf("order %s stored %d times, want once", id, seen[id])
		}
	}
}

// TestClusterPostgresLoss: PostgreSQL is stopped for a few seconds while
// webhooks stream in. Requests are answered 503 with Retry-After (never
// 500), the server keeps running and takes them again once PostgreSQL is
// back, and every order is stored once and counted once in the trading
// statistics.
func TestClusterPostgresLoss(t *testing.T) {
	r := newClusterRig(t)
	ctx := t.Context()
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	orders := &sender{acked: map[string]bool{}}
	done := orders.stream(streamCtx, r, "pg")
	time.Sleep(3 * time.Second)

	r.service("stop", "postgres")
	stopped := time.Now()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			r.service("start", "postgres")
		}
	})
	time.Sleep(5 * time.Second)
	orders.mu.Lock()
	unavailDuring := orders.unavail
	orders.mu.Unlock()
	code, retryAfter, _ := r.page(r.handles[0])
	r.service("start", "postgres")
	restarted = true
	t.Logf("PostgreSQL down for %v", time.Since(stopped).Round(time.Millisecond))
	time.Sleep(4 * time.Second)
	stopStream()
	done.Wait()

	if code != http.StatusServiceUnavailable || retryAfter == "" {
		t.Errorf("timeline page with PostgreSQL down: %d (Retry-After %q), want 503 with Retry-After", code, retryAfter)
	}
	if unavailDuring == 0 {
		t.Error("no webhook was answered 503 while PostgreSQL was down")
	}
	seen := r.readAll("ALL")
	lost, dup := 0, 0
	orders.mu.Lock()
	defer orders.mu.Unlock()
	for id := range orders.acked {
		switch seen[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	fills := 0
	for _, h := range r.handles {
		st, err := r.pg.TradeStats(ctx, r.ids[h], time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		fills += st.Trades365d
	}
	summary := fmt.Sprintf("orders: %d sent, %d acknowledged, %d answers 503 (%d without Retry-After), %d unanswered, other failures %v; "+
		"read back at ALL: %d lost, %d doubled; fills counted %d", orders.sent, len(orders.acked), orders.unavail, orders.noRetry,
		orders.noAnswer, orders.bad, lost, dup, fills)
	t.Log(summary)
	if lost > 0 || dup > 0 || len(orders.bad) > 0 || orders.noRetry > 0 || orders.noAnswer > 0 || orders.sent != len(orders.acked) || fills != len(orders.acked) {
		t.Errorf("PostgreSQL loss: %s\nserver log:\n%s", summary, r.logs())
	}
}
