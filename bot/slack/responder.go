package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// responder posts answers to Slack's response_url, which accepts up to five
// posts within 30 minutes of the request. It honours 429 Retry-After and
// retries server errors and failed connections a few times with backoff.
type responder struct {
	client   *http.Client
	logger   *slog.Logger
	attempts int
	maxWait  time.Duration // longest Retry-After it will honour
	backoff  time.Duration
}

func newResponder(client *http.Client, logger *slog.Logger) *responder {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &responder{client: client, logger: logger, attempts: 5, maxWait: 30 * time.Second, backoff: 250 * time.Millisecond}
}

// post sends msg to url. It returns when Slack accepted it, refused it
// (a 4xx other than 429: retrying would not help), or attempts ran out.
func (p *responder) post(ctx context.Context, url string, msg any) error {
	if url == "" {
		return fmt.Errorf("no response_url")
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	wait := p.backoff
	var last error
	for attempt := 1; attempt <= p.attempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := p.client.Do(req)
		if err != nil {
			last = err
		} else {
			text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			switch {
			case resp.StatusCode < 300:
				return nil
			case resp.StatusCode == http.StatusTooManyRequests:
				last = fmt.Errorf("rate limited: %s", text)
				if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
					if d > p.maxWait {
						return fmt.Errorf("response_url rate limited for %s, longer than we wait", d)
					}
					wait = d
				}
			case resp.StatusCode >= 500:
				last = fmt.Errorf("response_url answered %d: %s", resp.StatusCode, text)
			default:
				return fmt.Errorf("response_url refused the answer: %d %s", resp.StatusCode, text)
			}
		}
		if attempt == p.attempts {
			break
		}
		p.logger.Debug("response_url retry", slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Any("err", last))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, p.maxWait)
	}
	return fmt.Errorf("response_url: gave up after %d attempts: %w", p.attempts, last)
}

// retryAfter reads a Retry-After of whole seconds, as Slack sends it.
func retryAfter(v string) (time.Duration, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return max(time.Duration(n)*time.Second, 100*time.Millisecond), true
}
