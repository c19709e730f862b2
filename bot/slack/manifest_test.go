package slack_test

import (
	"os"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// The app manifest declares what the handler serves: every command the bot
// answers, the shortcut's callback id, the three request URLs, the events.
func TestManifestMatchesHandler(t *testing.T) {
	b, err := os.ReadFile("../../slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(b)
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), logger())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	core, err := bot.New(bot.Config{Catalogue: store.DefaultCatalogue(), Clients: db, Timeline: db.Timeline(), Teams: db, Links: db, Recorder: &ingest.Recorder{Timeline: db.Timeline()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range core.Commands() {
		if !strings.Contains(m, "command: "+c+"\n") {
			t.Errorf("manifest lacks %s", c)
		}
	}
	for _, want := range []string{
		"callback_id: log_to_client", "url: https://brokersync.example.com/slack/commands",
		"request_url: https://brokersync.example.com/slack/events",
		"request_url: https://brokersync.example.com/slack/interactions",
		"- message.channels", "- message.groups", "- users:read ", "- commands ", "- chat:write ",
		"- channels:read ", "- groups:read ", // conversations.members, asked by /client link
		"- files:write ", // files.uploadV2, for /segment export
	} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
	// The parser relies on Slack sending mentions as <@U…> ids.
	if n := strings.Count(m, "should_escape: true"); n != len(core.Commands()) {
		t.Errorf("%d commands escape mentions, want all %d", n, len(core.Commands()))
	}
}
