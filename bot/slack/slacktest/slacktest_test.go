package slacktest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

func post(t *testing.T, srv *httptest.Server, channel string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+"/api/chat.postMessage", url.Values{"channel": {channel}, "text": {"hi"}})
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// Under LimitPerChannel, posts hammering two channels at once: every two
// messages accepted in a channel are at least the gap apart, and every
// refusal says how long to wait in whole seconds.
func TestLimitPerChannelIsStrict(t *testing.T) {
	f := NewFakeSlack()
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	const perSecond = 20
	gap := time.Second / perSecond
	f.LimitPerChannel(perSecond)
	var wg sync.WaitGroup
	end := time.Now().Add(600 * time.Millisecond)
	for i := range 8 {
		wg.Go(func() {
			for time.Now().Before(end) {
				code, after := post(t, srv, []string{"C1", "C2"}[i%2])
				if code == http.StatusTooManyRequests {
					if n, err := strconv.Atoi(after); err != nil || n < 1 {
						t.Errorf("429 with Retry-After %q", after)
					}
				} else if code != http.StatusOK {
					t.Errorf("status %d", code)
				}
			}
		})
	}
	wg.Wait()
	last := map[string]time.Time{}
	accepted := map[string]int{}
	for _, p := range f.Posted() {
		if prev, ok := last[p.Channel]; ok && p.At.Sub(prev) < gap {
			t.Errorf("two messages in %s %v apart; the limit allows one every %v", p.Channel, p.At.Sub(prev), gap)
		}
		last[p.Channel] = p.At
		accepted[p.Channel]++
	}
	if f.RateLimited() == 0 || accepted["C1"] < 5 || accepted["C2"] < 5 {
		t.Fatalf("accepted %v with %d refusals: the test did not hammer the limit", accepted, f.RateLimited())
	}
}

// A post Slack refuses for another reason does not use the channel's turn.
func TestLimitPerChannelCountsOnlyAcceptedPosts(t *testing.T) {
	f := NewFakeSlack()
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	f.LimitPerChannel(1)
	f.FailWith("chat.postMessage", "is_archived")
	if code, _ := post(t, srv, "C1"); code != http.StatusOK || len(f.Posted()) != 0 {
		t.Fatalf("a refused post: status %d, %d accepted", code, len(f.Posted()))
	}
	f.FailWith("chat.postMessage", "")
	if code, _ := post(t, srv, "C1"); code != http.StatusOK || len(f.Posted()) != 1 {
		t.Fatalf("the first accepted post: status %d, %d accepted", code, len(f.Posted()))
	}
	if code, after := post(t, srv, "C1"); code != http.StatusTooManyRequests || after != "1" {
		t.Fatalf("a second post at once: status %d Retry-After %q; want 429 and 1", code, after)
	}
}
