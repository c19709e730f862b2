package oauthtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokersync/brokersync/internal/testenv"
)

// Dovecot is a real Dovecot of the test's own, on a loopback port, whose
// oauth2 passdb introspects tokens at the test's IdP (XOAUTH2 and
// OAUTHBEARER), and which also takes PLAIN logins with Password, so that
// the test can put mail into a mailbox as its owner's mail client would.
type Dovecot struct {
	Addr     string // 127.0.0.1:port
	Password string // every mailbox's password for PLAIN
	Dir      string
}

// dovecotBinary finds the dovecot that scripts/services.sh installs
// (Debian's dovecot-imapd); BROKERSYNC_DOVECOT names another.
func dovecotBinary() string {
	if p := os.Getenv("BROKERSYNC_DOVECOT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/dovecot"); err == nil {
		return "/usr/sbin/dovecot"
	}
	return ""
}

// StartDovecot starts a Dovecot for idp and stops it when the test ends.
// Without dovecot installed, or without root (it hands mail to nobody), the
// test is skipped, or fails under `make test` and CI.
func StartDovecot(t testing.TB, idp *IdP) *Dovecot {
	t.Helper()
	bin := dovecotBinary()
	why := ""
	switch {
	case bin == "":
		why = "dovecot is not installed (scripts/services.sh install dovecot installs it)"
	case os.Geteuid() != 0:
		why = "the test Dovecot needs root (it switches to nobody for mail)"
	case testing.Short() && !testenv.Required():
		t.Skip("skipping in -short mode: starts a Dovecot")
	}
	if why != "" {
		if testenv.Required() {
			t.Fatalf("%s; the OAuth2 IMAP tests need it", why)
		}
		t.Skipf("skipping: %s", why)
	}
	// Dovecot's own processes (dovenull, dovecot, nobody) must reach the
	// directory, and its sockets want a short path: not t.TempDir().
	dir, err := os.MkdirTemp("", "bsoauth-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "mail"), nobodyUID(), nogroupGID()); err != nil {
		t.Fatal(err)
	}
	d := &Dovecot{Password: "plain-" + filepath.Base(dir), Dir: dir}
	ext := fmt.Sprintf(`introspection_mode = post
introspection_url = %s
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 10000
`, idp.IntrospectURL())
	if err := os.WriteFile(filepath.Join(dir, "dovecot-oauth2.conf.ext"), []byte(ext), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		d.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		conf := fmt.Sprintf(`# written by internal/oauthtest: a test IMAP server with the oauth2 passdb
protocols = imap
listen = 127.0.0.1
instance_name = brokersync-oauth-%[2]d
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer plain
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = yes
mail_location = maildir:%[1]s/mail/%%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
first_valid_gid = 1
mail_fsync = never
namespace inbox {
  inbox = yes
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = %[1]s/dovecot-oauth2.conf.ext
}
passdb {
  driver = static
  mechanisms = plain
  args = password=%[3]s
}
userdb {
  driver = static
  args = home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, dir, port, d.Password)
		confFile := filepath.Join(dir, "dovecot.conf")
		if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-F", "-c", confFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, _ := os.Create(filepath.Join(dir, "stdout.log"))
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if lastErr = waitGreeting(d.Addr, exited, 20*time.Second); lastErr == nil {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(15 * time.Second):
					syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					<-exited
				}
				out.Close()
				if t.Failed() {
					t.Logf("dovecot log:\n%s", tail(filepath.Join(dir, "dovecot.log"), 60))
				}
			})
			return d
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		out.Close()
	}
	t.Fatalf("dovecot did not start: %v\n%s\n%s", lastErr, tail(filepath.Join(dir, "stdout.log"), 20), tail(filepath.Join(dir, "dovecot.log"), 40))
	return nil
}

// Log is the Dovecot log so far.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return string(b)
}

func waitGreeting(addr string, exited <-chan struct{}, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		select {
		case <-exited:
			return fmt.Errorf("dovecot exited during start-up")
		default:
		}
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if err == nil && strings.HasPrefix(line, "* OK") {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no IMAP greeting on %s within %s", addr, within)
		case <-exited:
			return fmt.Errorf("dovecot exited during start-up")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(file string, n int) string {
	b, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func nobodyUID() int  { return lookupID("/etc/passwd", "nobody", 65534) }
func nogroupGID() int { return lookupID("/etc/group", "nogroup", 65534) }

func lookupID(file, name string, def int) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return def
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[0] == name {
			var id int
			if _, err := fmt.Sscan(f[2], &id); err == nil {
				return id
			}
		}
	}
	return def
}

// Doveadm runs doveadm against this Dovecot.
func (d *Dovecot) Doveadm(args ...string) ([]byte, error) {
	bin := filepath.Join(filepath.Dir(dovecotBinary()), "..", "bin", "doveadm")
	if p, err := exec.LookPath("doveadm"); err == nil {
		bin = p
	}
	return exec.Command(bin, append([]string{"-c", filepath.Join(d.Dir, "dovecot.conf")}, args...)...).CombinedOutput()
}
