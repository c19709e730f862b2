package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/internal/testenv"
	"github.com/brokersync/brokersync/store/embedded"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

// runAll runs the program and returns what it wrote on both streams.
func runAll(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	// A command that should have refused to start stops here all the same.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err = run(ctx, args, strings.NewReader(""), &out, &errOut, getenv)
	return out.String(), errOut.String(), err
}

// secrets is an environment holding every kind of secret BrokerSync reads.
var secrets = map[string]string{
	"SLACK_BOT_TOKEN":           "xoxb-SECRET-BOT-TOKEN",
	"SLACK_SIGNING_SECRET":      "SECRET-SIGNING",
	"SLACK_APP_TOKEN":           "xapp-SECRET-APP-TOKEN",
	"BROKERSYNC_WEBHOOK_SECRET": "SECRET-WEBHOOK",
	"BROKERSYNC_LINK_KEY":       "SECRET-LINK-KEY-0123456789abcdefghij",
	"BROKERSYNC_IMAP_URL":       "imaps://jane:SECRET-IMAP-PASS@127.0.0.1:1/INBOX",
	"BROKERSYNC_POSTGRES_URL":   "postgres://brokersync:SECRET-PG-PASS@127.0.0.1:1/brokersync?connect_timeout=2",
}

func secretEnv(t *testing.T, kv ...string) func(string) string {
	var pairs []string
	for k, v := range secrets {
		pairs = append(pairs, k, v)
	}
	return env(t, append(pairs, kv...)...)
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for name, v := range secrets {
		secret := v
		if u, err := url.Parse(v); err == nil && u.User != nil {
			secret, _ = u.User.Password()
		}
		if strings.Contains(text, secret) {
			t.Errorf("%s shows %s's secret:\n%s", what, name, text)
		}
	}
}

// No usage, error or log line shows a secret from the environment.
func TestSecretsStaySecret(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-bogus"}, {"serve", "-h"}, {"exec", "-h"}, {"migrate", "--help"}, {"serve", "-http-addr"},
	} {
		out, errOut, err := runAll(t, secretEnv(t), args...)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		assertNoSecret(t, fmt.Sprintf("%q", args), out+errOut+errText)
	}
	out, _, err := runAll(t, secretEnv(t), "serve", "-h")
	if err != nil || !strings.Contains(out, "BROKERSYNC_POSTGRES_URL, set in the environment") {
		t.Errorf("serve -h: %v; want the secret settings listed as set, without their values:\n%s", err, out)
	}

	// Malformed or unreachable URLs with passwords are named without them.
	for _, tt := range []struct{ name, value, want string }{
		{"BROKERSYNC_POSTGRES_URL", "postgres://brokersync:SECRET-PG-PASS@127.0.0.1:1/brokersync?connect_timeout=2", "postgres://brokersync:xxxxx@127.0.0.1:1/brokersync"},
		{"BROKERSYNC_POSTGRES_URL", "mysql://brokersync:SECRET-PG-PASS@db/x", "mysql://brokersync:xxxxx@db/x"},
		{"BROKERSYNC_IMAP_URL", "pop3://jane:SECRET-IMAP-PASS@mail.example.com", "pop3://jane:xxxxx@mail.example.com"},
		{"BROKERSYNC_IMAP_URL", "imaps://jane:SECRET-IMAP-PASS@/INBOX", "BROKERSYNC_IMAP_URL"},
		{"BROKERSYNC_LINK_KEY", "SECRET-LINK", "BROKERSYNC_LINK_KEY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, err := runAll(t, env(t, tt.name, tt.value), "serve")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve with %s=%s: %v; want an error naming %s", tt.name, tt.value, err, tt.want)
			}
			for _, s := range []string{"SECRET-PG-PASS", "SECRET-IMAP-PASS", "SECRET-LINK"} {
				if strings.Contains(err.Error()+errOut, s) {
					t.Errorf("error or log shows the secret: %v\n%s", err, errOut)
				}
			}
		})
	}
}

// -h answers with every flag and exits 0.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, cmd := range []string{"serve", "exec", "migrate", "import", "export", "rebuild-stats"} {
		out, _, err := runAll(t, env(t), cmd, "-h")
		if err != nil {
			t.Errorf("%s -h: %v (exit %d), want exit 0", cmd, err, exitCode(err))
		}
		for _, s := range settings {
			if !strings.Contains(out, "-"+s.flag+" ") || !strings.Contains(out, s.env) {
				t.Errorf("%s -h does not list -%s (%s)", cmd, s.flag, s.env)
			}
		}
		if cmd == "exec" {
			for _, f := range []string{"-as string", "-channel string", "-v\t"} {
				if !strings.Contains(out, f) {
					t.Errorf("exec -h does not list %s:\n%s", f, out)
				}
			}
		}
	}
	if _, _, err := runAll(t, env(t), "serve", "-bogus"); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "-h") {
		t.Errorf("a bad flag: %v (exit %d), want a usage error pointing at -h", err, exitCode(err))
	}
}

// Each setting that stops start-up names itself in one line, before any
// store is opened or migrated.
func TestStartUpNamesWhatIsWrong(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln := freeAddr(t)
	_, port, _ := strings.Cut(ln, ":")
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"data dir under a file", []string{"BROKERSYNC_DATA_DIR", filepath.Join(file, "data")}, "BROKERSYNC_DATA_DIR"},
		{"postgres unreachable", []string{"BROKERSYNC_POSTGRES_URL", "postgres://brokersync:pw@127.0.0.1:1/brokersync?connect_timeout=2"}, "BROKERSYNC_POSTGRES_URL"},
		{"port out of range", []string{"BROKERSYNC_HTTP_ADDR", "127.0.0.1:70000"}, "BROKERSYNC_HTTP_ADDR"},
		{"port negative", []string{"BROKERSYNC_HTTP_ADDR", "127.0.0.1:-1"}, "BROKERSYNC_HTTP_ADDR"},
		{"port not a number", []string{"BROKERSYNC_HTTP_ADDR", "127.0.0.1:http-ish"}, "BROKERSYNC_HTTP_ADDR"},
		{"catalogue not a catalogue", []string{"BROKERSYNC_CATALOGUE", file}, "BROKERSYNC_CATALOGUE"},
		{"dormant-after not days", []string{"BROKERSYNC_DORMANT_AFTER", "soon"}, "BROKERSYNC_DORMANT_AFTER"},
		{"catalogue missing", []string{"BROKERSYNC_CATALOGUE", filepath.Join(file, "nope.json")}, "BROKERSYNC_CATALOGUE"},
		{"port " + port + " fine, data dir not", []string{"BROKERSYNC_HTTP_ADDR", ln, "BROKERSYNC_DATA_DIR", filepath.Join(file, "data")}, "BROKERSYNC_DATA_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := env(t, tt.kv...)
			for _, cmd := range []string{"serve", "migrate"} {
				_, _, err := runAll(t, getenv, cmd)
				if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: %v; want one line naming %s", cmd, err, tt.want)
				}
			}
			if _, err := os.Stat(filepath.Join(getenv("BROKERSYNC_DATA_DIR"), embedded.FileName)); err == nil {
				t.Error("the embedded store was opened (and migrated) before the bad setting was refused")
			}
		})
	}
}

// A PostgreSQL server that refuses the connection (here: no such database)
// stops start-up naming the setting; a bad data directory beside a good
// PostgreSQL stops it before PostgreSQL is migrated.
func TestStartUpChecksPostgresBeforeMigrating(t *testing.T) {
	server := testenv.PostgresURL(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_db_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	getenv := env(t, "BROKERSYNC_POSTGRES_URL", u.String())
	_, _, err = runAll(t, getenv, "serve")
	if err == nil || !strings.Contains(err.Error(), "BROKERSYNC_POSTGRES_URL") || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "\n") {
		t.Errorf("serve with a database that does not exist: %v; want one line naming BROKERSYNC_POSTGRES_URL and why", err)
	}
	if _, err := os.Stat(filepath.Join(getenv("BROKERSYNC_DATA_DIR"), embedded.FileName)); err == nil {
		t.Error("the embedded store was migrated before PostgreSQL was found wrong")
	}

	ctx := context.Background()
	name := "bs_startup_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	fresh, err := backendtest.CreateDatabase(ctx, server, name, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backendtest.DropDatabase(context.Background(), server, name) })
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runAll(t, env(t, "BROKERSYNC_POSTGRES_URL", fresh, "BROKERSYNC_DATA_DIR", filepath.Join(file, "data")), "serve")
	if err == nil || !strings.Contains(err.Error(), "BROKERSYNC_DATA_DIR") {
		t.Fatalf("serve with a bad data dir: %v, want it named", err)
	}
	conn, err := pgx.Connect(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("PostgreSQL was migrated (%d tables) before the bad data directory stopped start-up", tables)
	}
}

// exec answers on stdout and writes no log lines unless asked; flags may
// come before the command too.
func TestExecQuietUnlessAsked(t *testing.T) {
	getenv := env(t, "BROKERSYNC_ADMINS", "U0ADMIN")
	out, errOut, err := runAll(t, getenv, "exec", "--as", "U0ADMIN", "/team add <@U0JANE> grain-desk broker")
	if err != nil || !strings.Contains(out, "broker on grain-desk") {
		t.Fatalf("exec with --as first: %q %v", out, err)
	}
	if errOut != "" {
		t.Errorf("exec wrote on stderr:\n%s", errOut)
	}
	_, errOut, err = runAll(t, getenv, "exec", "-v", "/team list", "--as", "U0ADMIN")
	if err != nil || !strings.Contains(errOut, "embedded store open") {
		t.Errorf("exec -v: %v; want log lines on stderr, got %q", err, errOut)
	}
	_, errOut, _ = runAll(t, env(t, "BROKERSYNC_ADMINS", "U0ADMIN", "BROKERSYNC_LOG_LEVEL", "debug", "BROKERSYNC_DATA_DIR", getenv("BROKERSYNC_DATA_DIR")), "exec", "/team list", "--as", "U0ADMIN")
	if !strings.Contains(errOut, "embedded store open") {
		t.Errorf("exec with BROKERSYNC_LOG_LEVEL: want log lines on stderr, got %q", errOut)
	}
}

// startServe runs serve until the test ends and returns its base URL.
func startServe(t *testing.T, getenv func(string) string) string {
	t.Helper()
	addr := getenv("BROKERSYNC_HTTP_ADDR")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, err := get("http://" + addr + "/healthz")
		if err == nil && code == http.StatusOK {
			return "http://" + addr
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var linkRE = regexp.MustCompile(`http://[^\s>|)]+/timeline\?[^\s>|)]+`)

// forge makes a link as anyone holding key could.
func forge(key []byte, base, handle, user string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("link\x00" + handle + "\x00" + user + "\x00" + e))
	return base + "/clients/" + handle + "/timeline?" + url.Values{"u": {user}, "exp": {e}, "sig": {fmt.Sprintf("%x", m.Sum(nil))}}.Encode()
}

// The web link key is the server's own: generated once and kept in the
// store (so exec, restarts and replicas share it), or BROKERSYNC_LINK_KEY;
// never derived from the webhook secret that every sender holds. A link
// opens only while its user may see the client.
func TestWebLinkKey(t *testing.T) {
	for _, backend := range []string{"embedded", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			addr := freeAddr(t)
			kv := []string{"BROKERSYNC_HTTP_ADDR", addr, "BROKERSYNC_PUBLIC_URL", "http://" + addr,
				"BROKERSYNC_ADMINS", "U0ADMIN", "BROKERSYNC_WEBHOOK_SECRET", "whsec-held-by-every-sender"}
			if backend == "postgres" {
				kv = append(kv, "BROKERSYNC_POSTGRES_URL", backendtest.PostgresURL(t))
			}
			getenv := env(t, kv...)
			sfx := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
			desk, handle, jane := "desk-"+sfx, "acme-"+sfx, "U0JANE"+strings.ToUpper(sfx)
			exec := func(ge func(string) string, line, as string) string {
				t.Helper()
				out, err := runCmd(t, ge, "", "exec", line, "--as", as)
				if err != nil {
					t.Fatalf("exec %s: %v", line, err)
				}
				return out
			}
			exec(getenv, "/team add <@"+jane+"> "+desk+" broker", "U0ADMIN")
			exec(getenv, "/client add "+handle+` "Acme Grain"`, jane)
			link := linkRE.FindString(exec(getenv, "/timeline "+handle, jane))
			if link == "" {
				t.Fatal("/timeline in exec gave no link")
			}
			deskLink := regexp.MustCompile(`http://[^\s>|)]+/desk\?[^\s>|)]+`).FindString(exec(getenv, "/desk "+desk, jane))
			if deskLink == "" {
				t.Fatal("/desk in exec gave no link")
			}
			if backend == "postgres" {
				// Another replica: its own data directory, the same PostgreSQL.
				replica := map[string]string{}
				for i := 0; i+1 < len(kv); i += 2 {
					replica[kv[i]] = kv[i+1]
				}
				replica["BROKERSYNC_DATA_DIR"] = t.TempDir()
				getenv = func(k string) string { return replica[k] }
			}
			base := startServe(t, getenv)
			if code, body, err := get(link); err != nil || code != http.StatusOK || !strings.Contains(body, "Acme Grain") {
				t.Fatalf("a link made by exec: %d %v %.300s", code, err, body)
			}
			if code, body, err := get(deskLink); err != nil || code != http.StatusOK || !strings.Contains(body, handle) {
				t.Fatalf("a desk link made by exec: %d %v %.300s", code, err, body)
			}
			old := hmac.New(sha256.New, []byte("whsec-held-by-every-sender"))
			old.Write([]byte("brokersync web links v1"))
			forged := forge(old.Sum(nil), base, handle, jane, time.Now().Add(10*365*24*time.Hour))
			if code, _, _ := get(forged); code != http.StatusForbidden {
				t.Errorf("a link forged from the webhook secret: %d, want 403", code)
			}
			forged = forge(old.Sum(nil), base, handle, jane, time.Now().Add(time.Hour))
			if code, _, _ := get(forged); code != http.StatusForbidden {
				t.Errorf("a link forged from the webhook secret, expiring within the day: %d, want 403", code)
			}
			exec(getenv, "/team remove <@"+jane+">", "U0ADMIN")
			if code, _, _ := get(link); code != http.StatusForbidden {
				t.Errorf("the link of a user removed from the desk: %d, want 403", code)
			}
			if code, _, _ := get(deskLink); code != http.StatusForbidden {
				t.Errorf("the desk link of a user removed from the desk: %d, want 403", code)
			}
		})
	}

	t.Run("BROKERSYNC_LINK_KEY", func(t *testing.T) {
		addr := freeAddr(t)
		key := "a-link-key-of-our-own-0123456789abcdef"
		getenv := env(t, "BROKERSYNC_HTTP_ADDR", addr, "BROKERSYNC_ADMINS", "U0ADMIN", "BROKERSYNC_LINK_KEY", key)
		for _, cmd := range []string{"/team add <@U0JANE> grain broker", `/client add acme "Acme" team=grain`} {
			if _, err := runCmd(t, getenv, "", "exec", cmd, "--as", "U0ADMIN"); err != nil {
				t.Fatal(err)
			}
		}
		base := startServe(t, getenv)
		if code, body, _ := get(forge([]byte(key), base, "acme", "U0ADMIN", time.Now().Add(time.Hour))); code != http.StatusOK {
			t.Errorf("a link signed with BROKERSYNC_LINK_KEY: %d %.200s", code, body)
		}
		if code, _, _ := get(forge([]byte("another-key-0123456789abcdef012345"), base, "acme", "U0ADMIN", time.Now().Add(time.Hour))); code != http.StatusForbidden {
			t.Errorf("a link signed with another key: %d, want 403", code)
		}
	})
}
