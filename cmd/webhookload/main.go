// Command webhookload sends signed order events to a running BrokerSync
// server at a fixed rate (or as fast as it accepts them) for a while, then
// reads the stores the server writes to and checks that every accepted event
// is on its client's timeline exactly once and counted once in the trading
// statistics. It reports events/s and latency percentiles.
//
//	BROKERSYNC_WEBHOOK_SECRET=... BROKERSYNC_DATA_DIR=... \
//	  go run ./cmd/webhookload -url http://127.0.0.1:8080 -rate 3000 -duration 60s
//
// It reads the same BROKERSYNC_* settings as the server (data directory, or
// PostgreSQL URL and Cassandra hosts) to create its clients (load-001, ...)
// and to verify. Latency is measured from when a request was due, not when
// it went out, so a server that falls behind shows it in the percentiles.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks"
)

type options struct {
	url         string
	urls        []string       // url split at commas: requests go round-robin
	next        *atomic.Uint64 // the next of urls
	secret      string
	rate        float64
	duration    time.Duration
	batch       int
	concurrency int
	clients     int
	redeliver   float64
	attempts    int
	stores      storeConfig
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("webhookload", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the BrokerSync server; several, separated by commas, take requests in turn (replicas without a balancer)")
	fs.StringVar(&o.secret, "secret", os.Getenv("BROKERSYNC_WEBHOOK_SECRET"), "webhook secret (BROKERSYNC_WEBHOOK_SECRET)")
	fs.Float64Var(&o.rate, "rate", 3000, "events per second to offer; 0 sends as fast as the server accepts")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send")
	fs.IntVar(&o.batch, "batch", 1, "events per request (1 sends single events; more sends {\"events\": [...]})")
	fs.IntVar(&o.concurrency, "concurrency", 64, "requests in flight at most")
	fs.IntVar(&o.clients, "clients", 20, "load-test clients to spread events over (created when missing)")
	fs.Float64Var(&o.redeliver, "redeliver", 0.02, "share of accepted requests sent again, as a sender retrying after a lost answer")
	fs.IntVar(&o.attempts, "attempts", 8, "tries per request on 5xx answers and network errors, with backoff, as a sender would")
	o.stores.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.secret == "":
		return errors.New("no secret: set BROKERSYNC_WEBHOOK_SECRET or -secret")
	case o.batch < 1 || o.batch > webhooks.DefaultMaxBatch:
		return fmt.Errorf("-batch must be 1 to %d", webhooks.DefaultMaxBatch)
	case o.concurrency < 1 || o.rate < 0 || o.duration <= 0 || o.attempts < 1:
		return errors.New("-concurrency, -rate, -duration and -attempts must be positive")
	}

	o.urls, o.next = strings.Split(o.url, ","), new(atomic.Uint64)
	st, err := o.stores.open(ctx)
	if err != nil {
		return err
	}
	defer st.close()
	clients, err := st.ensureClients(ctx, o.clients)
	if err != nil {
		return err
	}
	before, err := st.fillCounts(ctx, clients)
	if err != nil {
		return err
	}

	runID := "load-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	fmt.Fprintf(out, "run %s: %s for %s, %s, batch %d, %d in flight, %d clients\n",
		runID, o.url, o.duration, rateText(o.rate), o.batch, o.concurrency, len(clients))
	res := send(ctx, o, runID, clients)
	res.print(out)

	fmt.Fprintln(out, "verifying against the stores...")
	v, err := st.verify(ctx, runID, res, clients, before)
	// A store restarting (as fault tests do) is no verdict: wait for it.
	for deadline := time.Now().Add(3 * time.Minute); store.IsRetryable(err) && time.Now().Before(deadline); {
		fmt.Fprintf(out, "  %v; trying again in 5s\n", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
		v, err = st.verify(ctx, runID, res, clients, before)
	}
	if err != nil {
		return err
	}
	v.print(out)
	if !v.ok() {
		return errors.New("verification failed")
	}
	return nil
}

func rateText(rate float64) string {
	if rate == 0 {
		return "as fast as accepted"
	}
	return fmt.Sprintf("%g events/s offered", rate)
}

// result is what the senders saw.
type result struct {
	started     time.Time
	elapsed     time.Duration
	requests    int
	redelivered int
	retries     int               // requests sent again after a 5xx or a network error
	accepted    map[string]string // event id -> client handle, for events answered 200
	failed      map[string]int    // status or error -> requests
	latencies   []time.Duration   // per request, from when it was due
}

type job struct {
	due  time.Time
	body []byte
	ids  []string
	to   []string // client handle of each id
}

// send offers requests at the configured rate until the duration is over
// (or ctx ends), with at most o.concurrency in flight.
func send(ctx context.Context, o options, runID string, clients []string) *result {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	jobs := make(chan job, o.concurrency)
	httpc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency, MaxConnsPerHost: o.concurrency},
	}
	res := &result{accepted: map[string]string{}, failed: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range o.concurrency {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			for j := range jobs {
				status, retries := deliver(httpc, o, j.body)
				lat := time.Since(j.due)
				again := status == "200" && rng.Float64() < o.redeliver
				if again {
					// The answer "was lost": the sender delivers the same
					// events again, and they must not count twice.
					if s, r := deliver(httpc, o, j.body); s != "200" {
						status = "redelivery " + s
						retries += r
					}
				}
				mu.Lock()
				res.requests++
				res.retries += retries
				res.latencies = append(res.latencies, lat)
				if again {
					res.redelivered++
				}
				if status == "200" {
					for i, id := range j.ids {
						res.accepted[id] = j.to[i]
					}
				} else {
					res.failed[status]++
				}
				mu.Unlock()
			}
		})
	}

	start := time.Now()
	res.started = start
	interval := time.Duration(0)
	if o.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.batch) / o.rate)
	}
	seq := 0
	for n := 0; ; n++ {
		due := start.Add(time.Duration(n) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		j := job{due: due}
		if interval == 0 {
			j.due = time.Now()
		}
		now := time.Now()
		var body []byte
		if o.batch > 1 {
			body = append(body, `{"events":[`...)
		}
		for i := range o.batch {
			seq++
			id := runID + "-" + strconv.Itoa(seq)
			handle := clients[seq%len(clients)]
			if i > 0 {
				body = append(body, ',')
			}
			body = appendOrder(body, id, handle, seq, now)
			j.ids, j.to = append(j.ids, id), append(j.to, handle)
		}
		if o.batch > 1 {
			body = append(body, "]}"...)
		}
		j.body = body
		select {
		case jobs <- j: // blocks while every worker is busy: the delay counts in latency
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// deliver posts body until it is answered 200, a 4xx says trying again is
// pointless, or o.attempts run out; it backs off between tries as a sender
// should after a 503.
func deliver(c *http.Client, o options, body []byte) (status string, retries int) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		status, retry := post(c, o, body)
		if !retry || attempt == o.attempts {
			return status, attempt - 1
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// post sends body signed now; it returns "200" or what went wrong, and
// whether trying again may help.
func post(c *http.Client, o options, body []byte) (string, bool) {
	base := o.urls[(o.next.Add(1)-1)%uint64(len(o.urls))]
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/webhooks/orders", bytes.NewReader(body))
	if err != nil {
		return err.Error(), false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(o.secret, time.Now(), body))
	resp, err := c.Do(req)
	if err != nil {
		return "error: " + err.Error(), true
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode), resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
}

func (r *result) print(out io.Writer) {
	events := len(r.accepted)
	fmt.Fprintf(out, "sent %d requests in %s (%d redelivered, %d retried after an error): %d events accepted, %.0f events/s\n",
		r.requests, r.elapsed.Round(time.Millisecond), r.redelivered, r.retries, events, float64(events)/r.elapsed.Seconds())
	for s, n := range r.failed {
		fmt.Fprintf(out, "  %d requests failed: %s\n", n, s)
	}
	if len(r.latencies) == 0 {
		return
	}
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))].Round(10 * time.Microsecond)
	}
	fmt.Fprintf(out, "latency per request: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		pct(0.50), pct(0.90), pct(0.99), pct(0.999), r.latencies[len(r.latencies)-1].Round(10*time.Microsecond))
}
