package main

import (
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestExec runs slash commands from the shell, on the embedded store, with
// the rights of the user named by --as.
func TestExec(t *testing.T) {
	getenv := env(t, "BROKERSYNC_ADMINS", "U0ADMIN")
	exec := func(args ...string) (string, error) {
		t.Helper()
		return runCmd(t, getenv, "", append([]string{"exec"}, args...)...)
	}

	out, err := exec("/team add <@U0JANE> grain-desk broker", "--as", "U0ADMIN")
	if err != nil || !strings.Contains(out, "broker on grain-desk") {
		t.Fatalf("/team add: %q, %v", out, err)
	}
	// Words the shell unquoted are quoted again.
	out, err = exec("/client", "add", "acme-grain", "Acme Grain Co-op", "accounts=acc-1001", "--as=<@U0JANE>")
	if err != nil || !strings.Contains(out, "acme-grain") {
		t.Fatalf("/client add: %q, %v", out, err)
	}
	out, err = exec("/client show ACC-1001", "--as", "U0JANE")
	if err != nil || !strings.Contains(out, "Acme Grain Co-op") || !strings.Contains(out, "grain-desk") {
		t.Fatalf("/client show by account number: %q, %v", out, err)
	}
	// Reminders set from the shell are listed like in Slack (exec has no
	// directory, so times are UTC).
	out, err = exec("/remind acme-grain in 3 hours call back about Dec corn", "--as", "U0JANE")
	if err != nil || !strings.Contains(out, "I will remind you about Acme Grain Co-op") {
		t.Fatalf("/remind: %q, %v", out, err)
	}
	out, err = exec("/followups week", "--as", "U0JANE")
	if err != nil || !strings.Contains(out, "call back about Dec corn") || !strings.Contains(out, "acme-grain") {
		t.Fatalf("/followups week: %q, %v", out, err)
	}
	out, err = exec("/followups overdue", "--as", "U0JANE")
	if err != nil || !strings.Contains(out, "No follow-ups overdue") {
		t.Fatalf("/followups overdue: %q, %v", out, err)
	}
	// A manager lists the desk's and a broker's, as in Slack.
	if out, err = exec("/team add <@U0MARIA> grain-desk manager", "--as", "U0ADMIN"); err != nil {
		t.Fatalf("/team add manager: %q, %v", out, err)
	}
	for _, scope := range []string{"grain-desk", "<@U0JANE>"} {
		out, err = exec("/followups week "+scope, "--as", "U0MARIA")
		if err != nil || !strings.Contains(out, "call back about Dec corn") || !strings.Contains(out, "@U0JANE") {
			t.Fatalf("/followups week %s as the manager: %q, %v", scope, out, err)
		}
	}
	// The manager reads the desk's digest as text; a broker may not.
	out, err = exec("/digest now", "--as", "U0MARIA")
	if err != nil || !strings.Contains(out, "grain-desk desk: digest so far") || !strings.Contains(out, "Overdue follow-ups: none") ||
		!strings.Contains(out, "New clients\n  acme-grain (Acme Grain Co-op), broker @U0JANE") {
		t.Fatalf("/digest now: %q, %v", out, err)
	}
	if out, err = exec("/digest now", "--as", "U0JANE"); err == nil || !strings.Contains(err.Error(), "managers") {
		t.Fatalf("/digest now as a broker: %q, %v", out, err)
	}
	out, err = exec("/team history grain-desk", "--as", "U0ADMIN")
	if err != nil || !strings.Contains(out, "@U0ADMIN added @U0JANE to grain-desk as broker") {
		t.Errorf("/team history: %q, %v", out, err)
	}

	// An answer that is an error is the command's error, for the exit status.
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"someone on no desk", []string{"/client show acme-grain", "--as", "U0STRANGER"}, "not on a BrokerSync desk"},
		{"a broker at an admin command", []string{"/team list", "--as", "U0JANE"}, "admin"},
		{"bad input", []string{"/client set acme-grain risk=11", "--as", "U0JANE"}, "risk"},
		{"no user", []string{"/client show acme-grain"}, "--as"},
		{"not a command", []string{"client show acme-grain", "--as", "U0JANE"}, "not a slash command"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec(tt.args...)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Errorf("exec %q = %q, %v; want an error mentioning %q", tt.args, out, err, tt.want)
			}
		})
	}
}

// With Slack on, exec shows mentions as the names Slack's directory gives
// (users.info, conversations.info) and times in the user's zone; a system
// actor is never a mention.
func TestExecNamesFromSlack(t *testing.T) {
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	fake.BaseURL = srv.URL
	fake.AddUser("U0ADMIN", "ada", "UTC", false, false)
	fake.AddUser("U0JANE", "jane", "America/Chicago", false, false)
	fake.AddChannel("C0DEALS", "acme-deals")
	fake.AddMembers("C0DEALS", "U0JANE")
	getenv := env(t, "BROKERSYNC_ADMINS", "U0ADMIN", "SLACK_BOT_TOKEN", "xoxb-test", "SLACK_SIGNING_SECRET", "s",
		"SLACK_API_URL", srv.URL+"/api/")
	exec := func(args ...string) string {
		t.Helper()
		out, err := runCmd(t, getenv, "", append([]string{"exec"}, args...)...)
		if err != nil {
			t.Fatalf("exec %q: %v", args, err)
		}
		return out
	}
	exec("/team add <@U0JANE> grain-desk broker", "--as", "U0ADMIN")
	exec(`/client add acme-grain "Acme Grain Co-op"`, "--as", "U0JANE")
	out := exec("/client link acme-grain <#C0DEALS>", "--as", "U0JANE")
	if !strings.Contains(out, "#acme-deals") || strings.Contains(out, "C0DEALS") {
		t.Errorf("/client link: %q", out)
	}
	out = exec("/team history grain-desk", "--as", "U0ADMIN")
	if !strings.Contains(out, "@ada added @jane to grain-desk as broker") || !strings.Contains(out, " UTC ") {
		t.Errorf("/team history: %q", out)
	}
	out = exec("/timeline acme-grain", "--as", "U0JANE")
	if !strings.Contains(out, "linked by @jane") || !strings.Contains(out, " CST ") || strings.Contains(out, "<@") {
		t.Errorf("/timeline: %q", out)
	}
	out = exec("/client find acme", "--as", "U0JANE")
	if !strings.Contains(out, "1 client ") || !strings.Contains(out, "@jane") {
		t.Errorf("/client find: %q", out)
	}
}
