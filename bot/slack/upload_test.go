package slack_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/store"
)

// /segment export uploads the CSV with files.uploadV2 to the asker's
// direct messages: the same bytes `brokersync export clients --segment`
// writes for the same person, and never another desk's client.
func TestSegmentExportUploaded(t *testing.T) {
	e := newEnv(t, options{})
	other := "north-" + e.sfx
	if err := e.teams.AddMember(t.Context(), store.Member{SlackID: e.stranger, Desk: "energy-" + e.sfx, Role: store.RoleBroker, AddedBy: e.admin}); err != nil {
		t.Fatal(err)
	}
	if r := e.command(e.admin, "/client", fmt.Sprintf(`add %s "Northwind" team=energy-%s`, other, e.sfx), "", nil); !strings.Contains(r.Body, other) {
		t.Fatalf("add: %s", r.Body)
	}
	filter := "-tag:nothing-" + e.sfx
	r := e.command(e.broker, "/segment", "export "+filter, "", nil)
	if !strings.Contains(r.Body, "direct messages with BrokerSync") {
		t.Fatalf("answer: %s", r.Body)
	}
	ups := e.slack.Uploaded()
	if len(ups) != 1 {
		t.Fatalf("%d files uploaded, want 1", len(ups))
	}
	up := ups[0]
	if up.Channel != "D"+e.broker || !strings.HasPrefix(up.Filename, "segment-") || !strings.HasSuffix(up.Filename, ".csv") {
		t.Errorf("uploaded %s to %s", up.Filename, up.Channel)
	}
	var cli bytes.Buffer
	if _, err := e.bot.ExportSegment(t.Context(), e.broker, filter, &cli); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(up.Content, cli.Bytes()) {
		t.Errorf("uploaded CSV:\n%s\nwant what the command line writes:\n%s", up.Content, cli.Bytes())
	}
	if !bytes.Contains(up.Content, []byte(e.acme)) || bytes.Contains(up.Content, []byte(other)) {
		t.Errorf("uploaded CSV holds the wrong clients:\n%s", up.Content)
	}

	// Slack refusing the upload: the answer keeps the file.
	e.slack.FailWith("files.completeUploadExternal", "not_allowed")
	r = e.command(e.broker, "/segment", "export "+filter, "", nil)
	if !strings.Contains(r.Body, "Slack did not take the file") || !strings.Contains(r.Body, e.acme) {
		t.Errorf("answer when the upload fails: %s", r.Body)
	}
}
