package bot_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
)

func csvHandles(t *testing.T, r bot.Response) []string {
	t.Helper()
	if r.File == nil {
		t.Fatalf("no file attached: %s", r.Text)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.File.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, row := range rows[1:] {
		out = append(out, row[0])
	}
	return out
}

// /segment: preview, save, list, show, export and delete, on the desks of
// whoever asks.
func testSegmentCommands(t *testing.T, h *harness) {
	vip := "vip-" + h.sfx
	h.ok(h.broker, "/client", "tag "+h.acme+" +"+vip)
	h.ok(h.broker2, "/client", "tag "+h.other+" +"+vip)
	h.ok(h.broker, "/client", "set "+h.acme+" risk=8 stage=active")

	p := bot.PlainText(h.ok(h.broker, "/segment", "preview tag:"+vip+" risk>=7"))
	if !strings.Contains(p, "1 client on your desks") || !strings.Contains(p, h.acme) || !strings.Contains(p, "risk 8") || strings.Contains(p, h.other) {
		t.Errorf("broker's preview:\n%s", p)
	}
	// As Slack sends it: > escaped.
	if p := bot.PlainText(h.ok(h.broker, "/segment", "preview tag:"+vip+" risk&gt;=7")); !strings.Contains(p, "1 client") {
		t.Errorf("escaped preview:\n%s", p)
	}
	if p := bot.PlainText(h.ok(h.admin, "/segment", "preview tag:"+vip)); !strings.Contains(p, "2 clients on all desks") {
		t.Errorf("admin's preview:\n%s", p)
	}

	// A mistake is pointed at.
	r := h.do(h.broker, "/segment", "preview tag:"+vip+" rsk>=7")
	if r.Status != bot.Invalid || !strings.Contains(r.Text, `"rsk" is not a term; did you mean risk?`) || !strings.Contains(r.Text, strings.Repeat(" ", len("tag:"+vip+" "))+"^~~") {
		t.Errorf("a misspelt term: %v %s", r.Status, r.Text)
	}

	hot := "hot-" + h.sfx
	r = h.ok(h.broker, "/segment", "save "+hot+" tag:"+vip+" risk>=7")
	if !strings.Contains(r.Text, "Saved segment *"+hot+"*") || !strings.Contains(r.Text, "1 client") {
		t.Errorf("save: %s", r.Text)
	}
	if p := bot.PlainText(h.ok(h.broker, "/segment", "list")); !strings.Contains(p, hot) || !strings.Contains(p, "tag:"+vip+" risk>=7` — 1 client") {
		t.Errorf("list:\n%s", p)
	}
	if p := bot.PlainText(h.ok(h.broker, "/segment", "show "+hot)); !strings.Contains(p, h.acme) || !strings.Contains(p, "Saved by @"+h.broker) {
		t.Errorf("show:\n%s", p)
	}
	// A saved segment is seen by the desks of whoever saved it (its filter
	// may name them), not by another desk's broker.
	if r := h.do(h.broker2, "/segment", "show "+hot); r.Status != bot.NotFound || strings.Contains(r.Text, vip) {
		t.Errorf("show to another desk: %v %s", r.Status, r.Text)
	}
	if p := bot.PlainText(h.ok(h.broker2, "/segment", "list")); strings.Contains(p, hot) {
		t.Errorf("list to another desk:\n%s", p)
	}
	if r := h.do(h.broker2, "/segment", "preview segment:"+hot); r.Status != bot.Invalid || !strings.Contains(r.Text, "no saved segment") {
		t.Errorf("segment: term of another desk's segment: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.broker2, "/segment", "save "+hot+" tag:x"); r.Status != bot.Refused || !strings.Contains(r.Text, "Another desk has a segment called") {
		t.Errorf("another desk saves over it: %v %s", r.Status, r.Text)
	}
	// The admin sees it, over every desk.
	h.ok(h.broker2, "/client", "set "+h.other+" risk=9")
	if p := bot.PlainText(h.ok(h.admin, "/segment", "show "+hot)); !strings.Contains(p, h.acme) || !strings.Contains(p, h.other) {
		t.Errorf("admin's show:\n%s", p)
	}

	if got := csvHandles(t, h.ok(h.broker, "/segment", "export "+hot)); len(got) != 1 || got[0] != h.acme {
		t.Errorf("broker's export: %v", got)
	}
	// The same filter exported by the other desk holds only its client.
	if got := csvHandles(t, h.ok(h.broker2, "/segment", "export tag:"+vip+" risk>=7")); len(got) != 1 || got[0] != h.other {
		t.Errorf("other desk's export: %v", got)
	}
	r = h.ok(h.broker, "/segment", "export tag:"+vip)
	if !strings.HasPrefix(r.File.Name, "segment-") || !strings.HasSuffix(r.File.Name, ".csv") || r.File.Type != "csv" {
		t.Errorf("file of a filter's export: %+v", r.File)
	}

	// Changing or deleting: who saved it, a manager or an admin.
	if r := h.do(h.broker2, "/segment", "delete "+hot); r.Status != bot.NotFound {
		t.Errorf("another desk's broker deletes: %v %s", r.Status, r.Text)
	}
	if r := h.ok(h.manager, "/segment", "save "+hot+" tag:"+vip); !strings.Contains(r.Text, "Changed segment") {
		t.Errorf("manager changes: %s", r.Text)
	}
	// A segment that names itself is refused before it is saved.
	if r := h.do(h.broker, "/segment", "save "+hot+" segment:"+hot+" tag:x"); r.Status != bot.Invalid || !strings.Contains(r.Text, "refers to itself") {
		t.Errorf("a loop: %v %s", r.Status, r.Text)
	}
	h.ok(h.broker, "/segment", "delete "+hot)
	if r := h.do(h.broker, "/segment", "show "+hot); r.Status != bot.NotFound {
		t.Errorf("show a deleted segment: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.stranger, "/segment", "preview tag:"+vip); r.Status != bot.Refused || strings.Contains(r.Text, h.acme) {
		t.Errorf("stranger: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.broker, "/segment", "help"); !strings.Contains(r.Text, "notional.90d>1m") || !strings.Contains(r.Text, "/segment save <name> <filter>") {
		t.Errorf("help: %s", r.Text)
	}
}

// A broker's preview and export never include another desk's client,
// whatever the filter.
func testSegmentDeskRights(t *testing.T, h *harness) {
	h.ok(h.broker2, "/client", fmt.Sprintf("set %s risk=9 tags=vip-%s stage=active", h.other, h.sfx))
	filters := []string{
		"", "desk:" + h.otherDesk, "broker:<@" + h.broker2 + ">", "tag:vip-" + h.sfx, "-tag:nothing",
		"desk:" + h.otherDesk + " OR desk:" + h.desk, "-desk:" + h.desk, "risk>=1 OR -risk>=1",
		"(stage:active OR -stage:active) (desk:" + h.otherDesk + ")", "last.contact>1d OR last.contact<1d",
		`desk:"` + h.otherDesk + `' OR '1'='1"`, "trades.30d:0", "-segment:nothing-here",
	}
	for _, f := range filters {
		for _, sub := range []string{"preview", "export"} {
			r := h.do(h.broker, "/segment", sub+" "+f)
			text := r.Text + bot.PlainText(r)
			if r.File != nil {
				text += string(r.File.Content)
			}
			if strings.Contains(text, h.other) || strings.Contains(text, "Northwind") {
				t.Errorf("%s %q as a broker of %s shows a client of %s:\n%s", sub, f, h.desk, h.otherDesk, text)
			}
		}
	}
}
