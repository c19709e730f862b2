package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env builds a getenv for run from pairs; the data dir defaults to a temp dir.
func env(t *testing.T, kv ...string) func(string) string {
	m := map[string]string{"BROKERSYNC_DATA_DIR": t.TempDir()}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func runCmd(t *testing.T, getenv func(string) string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut, getenv)
	return out.String(), err
}

func TestMalformedSettingStopsStartUp(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"BROKERSYNC_HTTP_ADDR", "8080", "BROKERSYNC_HTTP_ADDR"},
		{"BROKERSYNC_POSTGRES_URL", "mysql://x", "BROKERSYNC_POSTGRES_URL"},
		{"BROKERSYNC_CASSANDRA_CONSISTENCY", "MOST", "BROKERSYNC_CASSANDRA_CONSISTENCY"},
		{"BROKERSYNC_CASSANDRA_HOSTS", "a b", "BROKERSYNC_CASSANDRA_HOSTS"},
		{"SLACK_BOT_TOKEN", "xoxb-1", "SLACK_SIGNING_SECRET"},
		{"SLACK_APP_TOKEN", "abc", "SLACK_APP_TOKEN"},
		{"BROKERSYNC_PUBLIC_URL", "example.com", "BROKERSYNC_PUBLIC_URL"},
		{"BROKERSYNC_LOG_LEVEL", "loud", "BROKERSYNC_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, env(t, tt.name, tt.value), "", "serve")
			if err == nil {
				t.Fatal("serve started with a malformed setting")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s", msg, tt.want)
			}
			if tt.name == "SLACK_BOT_TOKEN" && strings.Contains(msg, "xoxb-1") {
				t.Errorf("error %q shows a secret", msg)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get fetches url as a browser with no cookies yet would: a signed link to
// a web page opens a session and the browser follows on to the page.
func get(url string) (int, string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := (&http.Client{Jar: jar}).Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// serve on the embedded store answers health, readiness and metrics, and
// stops cleanly when its context ends.
func TestServeOnEmbeddedStore(t *testing.T) {
	addr := freeAddr(t)
	getenv := env(t, "BROKERSYNC_HTTP_ADDR", addr)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard, getenv) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, err := get("http://" + addr + "/healthz")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body, err := get("http://" + addr + "/readyz")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"profiles":"ok"`) || !strings.Contains(body, `"timeline":"ok"`) {
		t.Errorf("/readyz = %d %s %v", code, body, err)
	}
	code, body, err = get("http://" + addr + "/metrics")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `brokersync_http_requests_total{code="200",route="/healthz"}`) {
		t.Errorf("/metrics = %d %v, want request counts:\n%.2000s", code, err, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

const goodCSV = `handle,name,company,phone.work,email.work,timezone,commodities,risk,tags,goal.1.description,goal.1.target
acme-grain,Acme Grain Co-op,Acme Grain,+1 515 555 0100,Ops@AcmeGrain.com,America/Chicago,"corn,soybeans",4,"hedger,high-value",Hedge half the 2027 crop,50
müller-agrar,Müller Agrar GmbH,,+49 30 901820,info@mueller-agrar.de,Europe/Berlin,CBOT:ZW,6,,,
`

// One client is one client, not "1 clients".
func TestImportOneClient(t *testing.T) {
	one := filepath.Join(t.TempDir(), "one.csv")
	if err := os.WriteFile(one, []byte("handle,name,team,broker\nsolo-farm,Solo Farm,grain-desk,U0JANE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(t, "BROKERSYNC_ADMINS", "U0ADMIN")
	if out, err := runCmd(t, getenv, "", "import", "clients", one); err != nil || !strings.HasPrefix(out, "imported 1 client in ") {
		t.Errorf("import of one client: %q %v", out, err)
	}
	// The import is on the client's timeline, as a profile change made in
	// Slack would be.
	out, err := runCmd(t, getenv, "", "exec", "/timeline solo-farm", "--as", "U0ADMIN")
	if err != nil || !strings.Contains(out, "client imported to grain-desk from "+one) {
		t.Errorf("the timeline after an import: %q %v", out, err)
	}
}

// Clients imported from CSV survive a restart, and export writes them back.
func TestImportExportAcrossRestarts(t *testing.T) {
	getenv := env(t)
	file := filepath.Join(t.TempDir(), "clients.csv")
	if err := os.WriteFile(file, []byte(goodCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, getenv, "", "import", "clients", "--team", "grain-desk", "--broker=U0JANE", file)
	if err != nil || !strings.Contains(out, "imported 2 clients") {
		t.Fatalf("import: %q %v", out, err)
	}

	out, err = runCmd(t, getenv, "", "export", "clients")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("export wrote %d rows, want header and 2:\n%s", len(rows), out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	acme := rows[1]
	for field, want := range map[string]string{
		"handle": "acme-grain", "phone.work": "+15155550100", "email.work": "ops@acmegrain.com",
		"commodities": "corn,soybeans", "risk": "4", "tags": "hedger,high-value", "goal.1.target": "50",
	} {
		if got := acme[col[field]]; got != want {
			t.Errorf("exported %s = %q, want %q", field, got, want)
		}
	}
	if rows[2][col["handle"]] != "müller-agrar" || rows[2][col["commodities"]] != "wheat" {
		t.Errorf("second client exported as %v", rows[2])
	}

	// The export imports again into an empty store unchanged.
	again := env(t)
	if _, err := runCmd(t, again, out, "import", "clients", "-"); err != nil {
		t.Fatalf("re-importing the export: %v", err)
	}
	if out2, _ := runCmd(t, again, "", "export", "clients"); out2 != out {
		t.Errorf("export of the re-import differs:\n%s\nwant:\n%s", out2, out)
	}
}

// A file with one bad row is rejected whole, naming line, field and value.
func TestImportRejectsBadFileWhole(t *testing.T) {
	tests := []struct{ name, row, want string }{
		{"phone", `bad-phone,Bad Phone,+1 12,,`, `line 4: phone.work: "+1 12" is not a valid phone number`},
		{"email", `bad-email,Bad Email,,ops@,`, `line 4: email.work: "ops@" is not a valid email address`},
		{"time zone", `bad-tz,Bad TZ,,,Mars/Olympus`, `line 4: timezone: "Mars/Olympus" is not an IANA time zone`},
		{"duplicate handle", `first,Again,,,`, `line 4: handle: first is also on line 2`},
		{"duplicate email", `dup-email,Dup,,FIRST@example.com,`, `line 4: email.work: first@example.com is also on line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := env(t)
			in := "handle,name,phone.work,email.work,timezone\nfirst,First,,first@example.com,\nsecond,Second,,,\n" + tt.row + "\n"
			_, err := runCmd(t, getenv, in, "import", "clients", "-", "--team", "grain-desk", "--broker", "U0JANE")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was imported") {
				t.Fatalf("import error = %v, want it to say %q and that nothing was imported", err, tt.want)
			}
			out, err := runCmd(t, getenv, "", "export", "clients")
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(out, "\n"); n != 1 {
				t.Errorf("after a rejected import the export has %d lines, want only the header:\n%s", n, out)
			}
		})
	}
}

// Every imported client has a desk and a broker, from its row or from
// --team and --broker: a client on no desk would be seen by no broker.
func TestImportClientsNeedDeskAndBroker(t *testing.T) {
	const file = "handle,name,team,broker\nowned,Owned,softs-desk,U0OMAR\nbare,Bare,,\n"
	for _, tt := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"no desk", nil, "line 3: team: the row has no desk"},
		{"no broker", []string{"--team", "grain-desk"}, "line 3: broker: the row has no broker"},
		{"desk only for rows without one", []string{"--broker", "U0JANE"}, "line 3: team: the row has no desk"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := env(t)
			_, err := runCmd(t, getenv, file, append(append([]string{"import", "clients"}, tt.flags...), "-")...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was imported") {
				t.Fatalf("import error = %v, want %q and nothing imported", err, tt.want)
			}
			if out, _ := runCmd(t, getenv, "", "export", "clients"); strings.Count(out, "\n") != 1 {
				t.Errorf("a refused import stored clients:\n%s", out)
			}
		})
	}
	// A broker must be a Slack user id, in the file as in the flag.
	if _, err := runCmd(t, env(t), "handle,name,team,broker\nx1,X,grain-desk,jane\n", "import", "clients", "-"); err == nil ||
		!strings.Contains(err.Error(), `line 2: broker: "jane" is not a Slack user id`) {
		t.Errorf("broker jane: %v", err)
	}
	for _, flags := range [][]string{{"--broker", "jane"}, {"--team", "Bad Desk!"}, {"--desk", "x"}} {
		if _, err := runCmd(t, env(t), file, append(append([]string{"import", "clients"}, flags...), "-")...); err == nil || exitCode(err) != 2 {
			t.Errorf("import %v: %v, want a usage error", flags, err)
		}
	}

	// With both defaults, the bare row takes them; the other keeps its own.
	getenv := env(t)
	out, err := runCmd(t, getenv, file, "import", "clients", "--team", "Grain-Desk", "--broker", "U0JANE", "-")
	if err != nil {
		t.Fatal(err)
	}
	// Nobody is on either desk yet: the import says so.
	for _, want := range []string{"imported 2 clients", "warning: nobody is on desk grain-desk yet", "warning: nobody is on desk softs-desk yet", "/team add"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCmd(t, getenv, "", "export", "clients")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[col["handle"]]] = r[col["team"]] + " " + r[col["broker"]]
	}
	if got["bare"] != "grain-desk U0JANE" || got["owned"] != "softs-desk U0OMAR" {
		t.Errorf("desks and brokers after import: %v", got)
	}

	// On a staffed desk, a broker who is not on it is pointed out.
	getenv = env(t, "BROKERSYNC_ADMINS", "U0ADMIN")
	if _, err := runCmd(t, getenv, "", "exec", "/team add <@U0ANNA> grain-desk broker", "--as", "U0ADMIN"); err != nil {
		t.Fatal(err)
	}
	out, err = runCmd(t, getenv, "handle,name,team,broker\nz1,Z,grain-desk,U0JANE\nz2,Z,grain-desk,U0ANNA\n", "import", "clients", "-")
	if err != nil || !strings.Contains(out, "warning: broker U0JANE is not on desk grain-desk (1 client)") || strings.Contains(out, "U0ANNA") {
		t.Errorf("import onto a staffed desk: %v\n%s", err, out)
	}
}

func TestRiskOutOfRangeInCSV(t *testing.T) {
	_, err := runCmd(t, env(t), "handle,name,risk\nrisky,Risky,11\n", "import", "clients", "--team", "grain-desk", "--broker", "U0JANE", "-")
	want := `line 2: risk: "11" is not a risk tolerance from 1`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestVersionAndUsage(t *testing.T) {
	out, err := runCmd(t, env(t), "", "version")
	if err != nil || !strings.HasPrefix(out, "brokersync ") {
		t.Errorf("version: %q %v", out, err)
	}
	if _, err := runCmd(t, env(t), "", "frobnicate"); err == nil || exitCode(err) != 2 {
		t.Errorf("unknown command: err %v exit %d, want a usage error", err, exitCode(err))
	}
}
