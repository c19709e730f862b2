package bot_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
)

// /workflow: add (with its mistakes pointed at), list, show, test, enable,
// disable, delete; a workflow added fires on what then happens.
func testWorkflowCommands(t *testing.T, h *harness) {
	name := "wake-" + h.sfx
	// The broker is on two desks: which one?
	if r := h.do(h.broker, "/workflow", "add "+name+" when stage change to active then tag woke"); r.Status != bot.Invalid || !strings.Contains(r.Text, "Which desk?") {
		t.Errorf("no desk: %v %s", r.Status, r.Text)
	}
	// A mistake, with a caret under it.
	def := "when stage chnge then tag woke"
	r := h.do(h.broker, "/workflow", "add "+name+" desk="+h.desk+" "+def)
	caret := strings.Repeat(" ", strings.Index(def, "stage")) + "^~~~~~~~~~~"
	if r.Status != bot.Invalid || !strings.Contains(r.Text, `"stage chnge" is not a trigger`) || !strings.Contains(r.Text, def+"\n"+caret+"\n") {
		t.Errorf("a misspelt trigger: %v\n%s", r.Status, r.Text)
	}
	r = h.do(h.broker, "/workflow", "add "+name+" desk="+h.desk+` when fill if rsk>=7 then tag woke`)
	if r.Status != bot.Invalid || !strings.Contains(r.Text, "did you mean risk") || !strings.Contains(r.Text, "\n"+strings.Repeat(" ", len("when fill if "))+"^~~\n") {
		t.Errorf("a misspelt condition: %v\n%s", r.Status, r.Text)
	}
	r = h.do(h.broker, "/workflow", "add "+name+" desk="+h.desk+` when fill then remind “Call {{.Nmae}}”`)
	if r.Status != bot.Invalid || !strings.Contains(r.Text, "can't evaluate field Nmae") {
		t.Errorf("a bad template: %v\n%s", r.Status, r.Text)
	}
	r = h.do(h.broker, "/workflow", "add "+name+" desk="+h.desk+` when entered segment nowhere-`+h.sfx+` then tag x`)
	if r.Status != bot.Invalid || !strings.Contains(r.Text, "nowhere-"+h.sfx) {
		t.Errorf("an unknown segment: %v\n%s", r.Status, r.Text)
	}
	if p := bot.PlainText(h.ok(h.broker, "/workflow", "list")); strings.Contains(p, name) {
		t.Errorf("mistakes saved something:\n%s", p)
	}
	r = h.ok(h.broker, "/workflow", "add "+name+" desk="+h.desk+" cooldown=2h when stage change to active if risk>=3 then tag woke")
	if !strings.Contains(r.Text, "Workflow *"+name+"* of "+h.desk+" saved") || !strings.Contains(r.Text, "`when stage change to active if risk>=3 then tag woke`") {
		t.Errorf("add: %s", r.Text)
	}
	// The same again changes nothing.
	if r := h.ok(h.broker, "/workflow", "add "+name+" desk="+h.desk+" cooldown=2h when stage change to active if risk>=3 then tag woke"); !strings.Contains(r.Text, "unchanged") {
		t.Errorf("added again: %s", r.Text)
	}
	if p := bot.PlainText(h.ok(h.broker, "/workflow", "show "+name)); !strings.Contains(p, "enabled, cool-down 2h0m0s") {
		t.Errorf("show:\n%s", p)
	}
	// It fires on what happens next: acme (risk 4) made active.
	h.ok(h.broker, "/client", "set "+h.acme+" stage=active")
	if c := h.client(h.acme); !slices.Contains(c.Tags, "woke") {
		t.Errorf("not fired: tags %v", c.Tags)
	}
	var fired bool
	for _, e := range h.events(h.acme) {
		fired = fired || strings.Contains(e.Summary, "workflow "+name+" fired")
	}
	if !fired {
		t.Errorf("no firing on the timeline")
	}
	// The dry run lists what fired.
	p := bot.PlainText(h.ok(h.manager, "/workflow", "test "+name))
	if !strings.Contains(p, "it would have fired 1 time on 1 client") || !strings.Contains(p, h.acme) {
		t.Errorf("test:\n%s", p)
	}
	h.ok(h.broker, "/workflow", "disable "+name)
	h.ok(h.broker, "/client", "set "+h.acme+" stage=dormant")
	h.ok(h.broker, "/client", "tag "+h.acme+" -woke")
	h.ok(h.broker, "/client", "set "+h.acme+" stage=active")
	if c := h.client(h.acme); slices.Contains(c.Tags, "woke") {
		t.Errorf("a disabled workflow fired")
	}
	if p := bot.PlainText(h.ok(h.broker, "/workflow", "list")); !strings.Contains(p, name+"* · "+h.desk+" (disabled)") {
		t.Errorf("list:\n%s", p)
	}
	h.ok(h.broker, "/workflow", "enable "+name)
	h.ok(h.broker, "/workflow", "delete "+name)
	if r := h.do(h.broker, "/workflow", "show "+name); r.Status != bot.NotFound {
		t.Errorf("after delete: %v %s", r.Status, r.Text)
	}
}

// Brokers and managers write their desk's workflows, admins any desk's;
// nobody sees another desk's.
func testWorkflowDeskRights(t *testing.T, h *harness) {
	name := "rights-" + h.sfx
	h.ok(h.manager, "/workflow", "add "+name+" when fill then notify managers \"{{.Name}} filled\"")
	if r := h.do(h.broker2, "/workflow", "add x-"+h.sfx+" desk="+h.desk+" when fill then tag x"); r.Status != bot.Refused {
		t.Errorf("another desk's broker adds: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.broker2, "/workflow", "add "+name+" when fill then tag x"); r.Status != bot.Refused || !strings.Contains(r.Text, "Another desk has a workflow called") {
		t.Errorf("another desk's broker takes the name: %v %s", r.Status, r.Text)
	}
	for _, cmd := range []string{"show ", "test ", "disable ", "delete "} {
		if r := h.do(h.broker2, "/workflow", cmd+name); r.Status != bot.NotFound || strings.Contains(r.Text, h.desk) {
			t.Errorf("another desk's broker, %s: %v %s", cmd, r.Status, r.Text)
		}
	}
	if p := bot.PlainText(h.ok(h.broker2, "/workflow", "list")); strings.Contains(p, name) {
		t.Errorf("another desk's list:\n%s", p)
	}
	if r := h.do(h.stranger, "/workflow", "add y-"+h.sfx+" desk="+h.desk+" when fill then tag x"); r.Status != bot.Refused {
		t.Errorf("a stranger adds: %v %s", r.Status, r.Text)
	}
	h.ok(h.admin, "/workflow", "add admin-"+h.sfx+" desk="+h.otherDesk+" when fill then tag x")
	if p := bot.PlainText(h.ok(h.broker2, "/workflow", "list")); !strings.Contains(p, "admin-"+h.sfx) {
		t.Errorf("the desk's broker does not see the admin's workflow:\n%s", p)
	}
	if p := bot.PlainText(h.ok(h.admin, "/workflow", "list")); !strings.Contains(p, "admin-"+h.sfx) || !strings.Contains(p, name) {
		t.Errorf("admin's list:\n%s", p)
	}
}
