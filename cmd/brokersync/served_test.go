package main

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// served is the built brokersync binary serving as a process of its own,
// which a test starts, kills (SIGKILL) and starts again with the same
// settings and log.
type served struct {
	t       *testing.T
	bin     string
	env     []string
	addr    string
	logPath string
	cmd     *exec.Cmd
}

// newServed returns a server of bin on a free address with settings over
// the test's environment (less its BROKERSYNC_ and SLACK_ variables); it is
// stopped at the end of the test.
func newServed(t *testing.T, bin string, settings map[string]string) *served {
	s := &served{t: t, bin: bin, addr: freeAddr(t), logPath: filepath.Join(t.TempDir(), "server.log")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BROKERSYNC_") && !strings.HasPrefix(kv, "SLACK_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env, "BROKERSYNC_HTTP_ADDR="+s.addr)
	for k, v := range settings {
		s.env = append(s.env, k+"="+v)
	}
	t.Cleanup(s.stop)
	return s
}

func (s *served) base() string { return "http://" + s.addr }

// start runs the server and waits until it answers /healthz.
func (s *served) start() {
	t := s.t
	t.Helper()
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.env, logf, logf
	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for {
		if code, _, err := get(s.base() + "/healthz"); err == nil && code == http.StatusOK {
			t.Logf("server %s up in %v", s.addr, time.Since(began).Round(time.Millisecond))
			return
		}
		if time.Since(began) > time.Minute {
			t.Fatalf("the server did not come up within a minute:\n%s", tail(s.logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *served) running() bool { return s.cmd != nil && s.cmd.ProcessState == nil }

// kill ends the server with SIGKILL: it releases and saves nothing.
func (s *served) kill() {
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// stop ends the server with SIGTERM, with SIGKILL after 30 s.
func (s *served) stop() { _ = s.terminate() }

// terminate ends the server with SIGTERM, with SIGKILL after 30 s, and
// returns how it exited: nil when it stopped cleanly.
func (s *served) terminate() error {
	if !s.running() {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
		return errors.New("still running 30 s after SIGTERM")
	}
}
