// Command slackload measures how fast BrokerSync acknowledges Slack slash
// commands: it sends correctly signed commands at a fixed rate to a running
// server and reports the acknowledgement latency (p50, p90, p95, p99, max)
// and errors. Slack gives up on an acknowledgement after 3,000 ms.
//
// The load is open: request i starts at i/rate whether or not earlier ones
// have finished, so a slow server shows up as latency, not as a lower rate.
// With -fake-slack it also plays Slack's Web API (users.info) and receives
// response_url posts, so the server runs without a Slack workspace:
//
//	SLACK_BOT_TOKEN=xoxb-load SLACK_SIGNING_SECRET=loadsecret \
//	  SLACK_API_URL=http://127.0.0.1:18081/api/ brokersync serve &
//	slackload -secret loadsecret -fake-slack 127.0.0.1:18081 -setup -rate 100 -duration 60s
//
// It exits 1 when any request failed or p99 is over -goal.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type commands []string

func (c *commands) String() string     { return strings.Join(*c, "; ") }
func (c *commands) Set(v string) error { *c = append(*c, v); return nil }

type config struct {
	url, secret, user, admin, fakeSlack, desk, client string
	rate                                              float64
	duration, timeout, goal                           time.Duration
	setup, serveOnly                                  bool
	cmds                                              commands
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080/slack/commands", "BrokerSync's slash-command endpoint")
	flag.StringVar(&c.secret, "secret", os.Getenv("SLACK_SIGNING_SECRET"), "Slack signing secret the server checks (SLACK_SIGNING_SECRET)")
	flag.StringVar(&c.user, "user", "ULOADBROKER", "Slack user id the commands come from")
	flag.StringVar(&c.admin, "admin", "ULOADADMIN", "Slack user id of an admin, for -setup")
	flag.StringVar(&c.desk, "desk", "load-desk", "desk of the load user, for -setup")
	flag.StringVar(&c.client, "client", "load-acme", "client handle the default commands use")
	flag.Float64Var(&c.rate, "rate", 100, "requests per second")
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "how long to send")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Second, "give up on a request after this")
	flag.DurationVar(&c.goal, "goal", 100*time.Millisecond, "p99 goal; exit status 1 when missed or on any error")
	flag.StringVar(&c.fakeSlack, "fake-slack", "", "serve a fake Slack Web API and response_url sink on this address")
	flag.BoolVar(&c.setup, "setup", false, "first put -user on -desk and add -client, through signed commands")
	flag.BoolVar(&c.serveOnly, "serve-only", false, "with -fake-slack: only serve the fake, until interrupted")
	flag.Var(&c.cmds, "cmd", "a command to send, e.g. '/client show load-acme' (repeat for a mix; default: show, timeline, find, note)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "slackload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.secret == "" {
		return errors.New("-secret (or SLACK_SIGNING_SECRET) is required")
	}
	if c.rate <= 0 || c.duration <= 0 {
		return errors.New("-rate and -duration must be positive")
	}
	responseURL := ""
	if c.fakeSlack != "" {
		fake := slacktest.NewFakeSlack()
		fake.AddUser(c.user, "loadbroker", "America/Chicago", false, false)
		fake.AddUser(c.admin, "loadadmin", "UTC", true, false)
		ln, err := net.Listen("tcp", c.fakeSlack)
		if err != nil {
			return err
		}
		fake.BaseURL = "http://" + ln.Addr().String()
		srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		responseURL = fake.ResponseURL("load")
		fmt.Printf("fake Slack API at %s/api/ (start the server with SLACK_API_URL=%s/api/)\n", fake.BaseURL, fake.BaseURL)
		if c.serveOnly {
			<-ctx.Done()
			return nil
		}
	}
	if len(c.cmds) == 0 {
		c.cmds = commands{"/client show " + c.client, "/timeline " + c.client, "/client find load", "/note " + c.client + " load test note"}
	}
	client := &http.Client{Timeout: c.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}}
	l := &loader{c: c, client: client, responseURL: responseURL}
	if c.setup {
		if err := l.setup(ctx); err != nil {
			return err
		}
	}
	res := l.load(ctx)
	res.print(os.Stdout, c)
	if res.errors > 0 || res.pct(99) > c.goal {
		return fmt.Errorf("goal missed: %d errors, p99 %v (goal %v)", res.errors, res.pct(99).Round(100*time.Microsecond), c.goal)
	}
	return nil
}

type loader struct {
	c           config
	client      *http.Client
	responseURL string
	seq         atomic.Int64
}

// send posts one signed slash command and returns the acknowledgement.
func (l *loader) send(ctx context.Context, user, line string) (int, string, time.Duration, error) {
	command, text, _ := strings.Cut(line, " ")
	n := l.seq.Add(1)
	trigger := fmt.Sprintf("load.%d.%d", time.Now().UnixNano(), n)
	form := url.Values{
		"token": {"unused"}, "team_id": {"TLOAD"}, "team_domain": {"load"}, "channel_id": {"CLOAD"}, "channel_name": {"load"},
		"user_id": {user}, "user_name": {"load"}, "command": {command}, "text": {text},
		"api_app_id": {"ALOAD"}, "trigger_id": {trigger}, "response_url": {l.responseURL},
	}
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(l.c.secret))
	io.WriteString(mac, "v0:"+ts+":"+body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.c.url, strings.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, "", time.Since(start), err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	var m struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m.Text, took, err
}

// setup puts the load user on a desk and adds the client, so that the
// commands have something to work on. Repeating it changes nothing.
func (l *loader) setup(ctx context.Context) error {
	for _, s := range []struct{ user, line string }{
		{l.c.admin, fmt.Sprintf("/team add <@%s> %s broker", l.c.user, l.c.desk)},
		{l.c.user, fmt.Sprintf("/client add %s \"Load Acme Grain\" team=%s risk=5 commodities=corn,wti", l.c.client, l.c.desk)},
		{l.c.user, fmt.Sprintf("/note %s set up for the load test", l.c.client)},
	} {
		status, text, _, err := l.send(ctx, s.user, s.line)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("setup %q: %d %v", s.line, status, err)
		}
		fmt.Printf("setup: %s -> %s\n", s.line, firstLine(text))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

type result struct {
	mu        sync.Mutex
	latencies []time.Duration
	byCommand map[string][]time.Duration
	sent      int
	errors    int
	deferred  int // acknowledged empty, answered through response_url
	failures  map[string]int
	elapsed   time.Duration
}

func (r *result) pct(p float64) time.Duration { return percentile(r.latencies, p) }

// percentile of sorted latencies, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// load sends commands at the fixed rate for the duration.
func (l *loader) load(ctx context.Context) *result {
	res := &result{failures: map[string]int{}, byCommand: map[string][]time.Duration{}}
	// Request i starts at start + i/rate, however long earlier ones take.
	total := int(l.c.rate * l.c.duration.Seconds())
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if d := time.Until(start.Add(time.Duration(float64(i) * float64(time.Second) / l.c.rate))); d > 0 {
			time.Sleep(d)
		}
		line := l.c.cmds[i%len(l.c.cmds)]
		res.sent++
		wg.Go(func() {
			status, text, took, err := l.send(ctx, l.c.user, line)
			res.mu.Lock()
			defer res.mu.Unlock()
			res.latencies = append(res.latencies, took)
			res.byCommand[line] = append(res.byCommand[line], took)
			switch {
			case err != nil:
				res.errors++
				res.failures[errKind(err)]++
			case status != http.StatusOK:
				res.errors++
				res.failures["HTTP "+strconv.Itoa(status)]++
			case text == "":
				res.deferred++
			case strings.Contains(text, "went wrong") || strings.Contains(text, "not answering") || strings.Contains(text, "not on a BrokerSync desk"):
				res.errors++
				res.failures["answered with an error: "+firstLine(text)]++
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	for _, l := range res.byCommand {
		slices.Sort(l)
	}
	return res
}

func errKind(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}

func (r *result) print(w io.Writer, c config) {
	fmt.Fprintf(w, "\n%d requests in %v (%.1f/s; target %.0f/s) to %s\n", r.sent, r.elapsed.Round(time.Millisecond), float64(r.sent)/r.elapsed.Seconds(), c.rate, c.url)
	fmt.Fprintf(w, "commands: %s\n", c.cmds.String())
	fmt.Fprintf(w, "acknowledgement latency: p50 %v  p90 %v  p95 %v  p99 %v  max %v\n",
		r.pct(50).Round(10*time.Microsecond), r.pct(90).Round(10*time.Microsecond), r.pct(95).Round(10*time.Microsecond),
		r.pct(99).Round(10*time.Microsecond), r.pct(100).Round(10*time.Microsecond))
	if len(r.byCommand) > 1 {
		for _, line := range c.cmds {
			l := r.byCommand[line]
			fmt.Fprintf(w, "  %-40s p50 %v  p99 %v  max %v\n", line, percentile(l, 50).Round(10*time.Microsecond),
				percentile(l, 99).Round(10*time.Microsecond), percentile(l, 100).Round(10*time.Microsecond))
		}
	}
	fmt.Fprintf(w, "errors: %d; acknowledged empty (answer via response_url): %d; over Slack's 3 s: %d\n",
		r.errors, r.deferred, len(r.latencies)-countBelow(r.latencies, 3*time.Second))
	for k, n := range r.failures {
		fmt.Fprintf(w, "  %d × %s\n", n, k)
	}
}

func countBelow(sorted []time.Duration, d time.Duration) int {
	i, _ := slices.BinarySearch(sorted, d)
	return i
}
