package workflow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

func TestParseFile(t *testing.T) {
	specs, err := ParseFile([]byte(FileExample), store.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("%d specs", len(specs))
	}
	a, b := specs[0], specs[1]
	if a.Workflow.Name != "big-fill-call" || a.Workflow.Desk != "grain-desk" || !a.Workflow.Enabled || a.Line != 2 ||
		a.Workflow.Definition != `when fill if notional.30d>1m then remind "Call {{.Name}} about the fill" after 2h` {
		t.Errorf("first: %+v", a)
	}
	if b.Workflow.Enabled || b.Workflow.Cooldown != 24*time.Hour || b.Definition.Trigger.Days != 30 || b.Line != 8 {
		t.Errorf("second: %+v", b)
	}
	// The list alone is a file too.
	specs, err = ParseFile([]byte("- name: x\n  desk: d\n  when: fill\n  then: tag x\n"), store.DefaultCatalogue())
	if err != nil || len(specs) != 1 {
		t.Errorf("a bare list: %v %v", specs, err)
	}
}

// Every mistake of a file is reported, each at its line (and column).
func TestParseFileErrorsHaveLines(t *testing.T) {
	file := `workflows:
  - name: ok
    desk: grain
    when: fill
    then: tag x
  - name: bad-trigger
    desk: grain
    when: fil
    then: tag x
  - name: bad-filter
    desk: grain
    when: fill
    if: risk>=7 rsk<3
    then: tag x
  - name: missing-then
    desk: grain
    when: fill
  - name: bad-key
    desk: grain
    whn: fill
    then: tag x
  - name: ok
    desk: grain
    when: fill
    then: remind "{{.Nam}}"
    cooldown: forever
`
	_, err := ParseFile([]byte(file), store.DefaultCatalogue())
	var fe FileErrors
	if !errors.As(err, &fe) {
		t.Fatalf("%v", err)
	}
	var got []string
	for _, e := range fe {
		got = append(got, strings.SplitN(e.Error(), "\n", 2)[0])
	}
	want := []string{
		`line 8, column 11: "fil" is not a trigger; triggers: fill, order placed, order cancelled, order rejected, market move, inbound email, inbound call, inbound chat, sentiment drop, entered segment <name>, left segment <name>, stage change [to <stage>], milestone [<kind>], no contact for <N> days`,
		`line 13, column 17: in the condition: "rsk" is not a term; did you mean risk?`,
		`line 15, column 5: then is missing`,
		`line 20, column 5: unknown key "whn"; a workflow has name, desk, when, if, then, after, cooldown, enabled`,
		`line 18, column 5: when is missing`,
		`line 26, column 15: "forever" is not a cool-down: 30m, 1h, 1d`,
		`line 25, column 18: the text's template has a mistake: can't evaluate field Nam in type workflow.Fields (fields: {{.Name}}, {{.Handle}}, {{.Company}}, {{.Desk}}, {{.Broker}}, {{.Stage}}, {{.Tags}}, {{.Workflow}}, {{.Event}})`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Not YAML at all: the parser's line.
	_, err = ParseFile([]byte("workflows:\n  - name: x\n    desk: d\n    when: fill\n      then: tag x\n"), store.DefaultCatalogue())
	if !errors.As(err, &fe) || fe[0].Line != 5 || !strings.Contains(fe[0].Msg, "not valid YAML") {
		t.Errorf("broken YAML: %v", err)
	}
	// Two workflows of one name.
	_, err = ParseFile([]byte("- {name: x, desk: d, when: fill, then: tag x}\n- {name: x, desk: d, when: fill, then: tag y}\n"), store.DefaultCatalogue())
	if !errors.As(err, &fe) || fe[0].Line != 2 || !strings.Contains(fe[0].Msg, "first is on line 1") {
		t.Errorf("a name twice: %v", err)
	}
}
