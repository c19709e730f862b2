package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"
)

// What a newcomer does first: `brokersync demo`, then `brokersync serve`
// with the same settings, then open the link the demo printed: the demo
// client's timeline, drawn, and its profile.
func TestDemoThenServe(t *testing.T) {
	addr := freeAddr(t)
	getenv := env(t, "BROKERSYNC_HTTP_ADDR", addr)
	out, err := runCmd(t, getenv, "", "demo")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{"Demo desk ready", "grain-desk", "energy-desk", "50 clients", "UDEMOMARA manages both"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo's output lacks %q:\n%s", want, out)
		}
	}
	links := regexp.MustCompile(`http://\S+/clients/(\S+)/timeline\?\S+`).FindAllStringSubmatch(out, -1)
	if len(links) != 2 {
		t.Fatalf("demo printed %d links, want the broker's and the manager's:\n%s", len(links), out)
	}
	// A second run changes nothing.
	again, err := runCmd(t, getenv, "", "demo")
	if err != nil || !strings.Contains(again, "0 fills newly counted") {
		t.Errorf("demo again: %v\n%s", err, again)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, err := get("http://" + addr + "/healthz")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	for _, l := range links {
		resp, err := browser.Get(l[0])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<circle class="mark`) {
			t.Fatalf("%s: %d, no overview drawn", l[0], resp.StatusCode)
		}
		resp, err = browser.Get("http://" + addr + "/clients/" + l[1] + "/profile")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Audit trail") || !strings.Contains(string(body), "fills, 1 year") {
			t.Errorf("profile: %d", resp.StatusCode)
		}
	}
}
