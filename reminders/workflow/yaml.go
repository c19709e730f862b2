package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/brokersync/brokersync/store"
)

// Spec is one workflow of a file, checked.
type Spec struct {
	Workflow   store.Workflow // Name, Desk, Definition (canonical), Enabled, Cooldown
	Definition *Definition
	Line       int
}

// FileError is a mistake in a workflows file, at a line and column.
type FileError struct {
	Line, Column int
	Msg          string
}

func (e *FileError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// FileErrors are every mistake found in a file, in line order.
type FileErrors []*FileError

func (es FileErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// FileExample is a workflows file, for help.
const FileExample = `workflows:
  - name: big-fill-call
    desk: grain-desk
    when: fill
    if: notional.30d>1m
    then: remind "Call {{.Name}} about the fill"
    after: 2h
  - name: quiet-vip
    desk: grain-desk
    when: no contact for 30 days
    if: tag:vip
    then: notify managers "{{.Name}} has heard nothing from us in 30 days"
    cooldown: 24h
    enabled: false`

var fileKeys = []string{"name", "desk", "when", "if", "then", "after", "cooldown", "enabled"}

// ParseFile reads a workflows file: a mapping with a workflows list (or
// the list alone), each item a mapping of name, desk, when, if, then,
// after, cooldown (default 1h) and enabled (default true); conditions are
// checked against cat. Every mistake is reported with its line, as
// FileErrors.
func ParseFile(data []byte, cat *store.Catalogue) ([]Spec, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, FileErrors{{Line: 1, Column: 1, Msg: strings.Join(te.Errors, "; ")}}
		}
		return nil, FileErrors{yamlSyntax(err)}
	}
	var errs FileErrors
	fail := func(n *yaml.Node, format string, a ...any) {
		errs = append(errs, &FileError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, a...)})
	}
	if len(doc.Content) == 0 {
		return nil, FileErrors{{Line: 1, Column: 1, Msg: "the file is empty; it lists workflows:\n" + FileExample}}
	}
	root := doc.Content[0]
	list := root
	if root.Kind == yaml.MappingNode {
		list = nil
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k := root.Content[i]; k.Value == "workflows" {
				list = root.Content[i+1]
			} else {
				fail(k, "unknown key %q: the file has one key, workflows", k.Value)
			}
		}
		if list == nil {
			fail(root, "no workflows: list; the file reads:\n%s", FileExample)
			return nil, errs
		}
	}
	if list.Kind != yaml.SequenceNode {
		fail(list, "workflows is a list of workflows, each starting with - name:")
		return nil, errs
	}
	var specs []Spec
	seen := map[string]int{}
	for _, item := range list.Content {
		spec, ok := parseItem(item, cat, fail)
		if !ok {
			continue
		}
		if line, dup := seen[spec.Workflow.Name]; dup {
			fail(item, "a second workflow named %s (the first is on line %d)", spec.Workflow.Name, line)
			continue
		}
		seen[spec.Workflow.Name] = item.Line
		specs = append(specs, spec)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return specs, nil
}

func yamlSyntax(err error) *FileError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	// The parser names the line where it noticed; the last named is the
	// nearest to the mistake.
	if ms := yamlLine.FindAllStringSubmatch(msg, -1); ms != nil {
		if n, err := strconv.Atoi(ms[len(ms)-1][1]); err == nil {
			line = n
		}
	}
	return &FileError{Line: line, Column: 1, Msg: "not valid YAML: " + msg}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func parseItem(item *yaml.Node, cat *store.Catalogue, fail func(*yaml.Node, string, ...any)) (Spec, bool) {
	if item.Kind != yaml.MappingNode {
		fail(item, "a workflow is a mapping of %s", strings.Join(fileKeys, ", "))
		return Spec{}, false
	}
	fields := map[string]*yaml.Node{}
	ok := true
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		known := false
		for _, f := range fileKeys {
			known = known || f == k.Value
		}
		switch {
		case !known:
			fail(k, "unknown key %q; a workflow has %s", k.Value, strings.Join(fileKeys, ", "))
			ok = false
		case fields[k.Value] != nil:
			fail(k, "%s is given twice", k.Value)
			ok = false
		case v.Kind != yaml.ScalarNode:
			fail(v, "%s is a single value", k.Value)
			ok = false
		default:
			fields[k.Value] = v
		}
	}
	for _, req := range []string{"name", "desk", "when", "then"} {
		if fields[req] == nil {
			fail(item, "%s is missing", req)
			ok = false
		}
	}
	if !ok {
		return Spec{}, false
	}
	spec := Spec{Line: item.Line, Workflow: store.Workflow{Enabled: true}}
	name, err := store.NormalizeWorkflowName(fields["name"].Value)
	if err != nil {
		fail(fields["name"], "%s", store.ErrorMessage(err))
		ok = false
	}
	spec.Workflow.Name = name
	spec.Workflow.Desk = strings.TrimSpace(fields["desk"].Value)
	if spec.Workflow.Desk == "" {
		fail(fields["desk"], "desk is empty")
		ok = false
	}
	if n := fields["cooldown"]; n != nil {
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			var okd bool
			d, okd = ParseDelay(n.Value)
			if !okd {
				fail(n, "%q is not a cool-down: 30m, 1h, 1d", n.Value)
				ok = false
			}
		}
		spec.Workflow.Cooldown = d
		if ok && (d < time.Second || d%time.Second != 0 || d > 90*24*time.Hour) {
			fail(n, "a cool-down is whole seconds, from 1s to 90 days")
			ok = false
		}
	}
	if n := fields["enabled"]; n != nil {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
		case "false", "no", "off":
			spec.Workflow.Enabled = false
		default:
			fail(n, "enabled is true or false")
			ok = false
		}
	}
	// The definition is put together from its parts; a mistake in it is
	// shown at its part's line.
	type part struct {
		node  *yaml.Node
		start int
	}
	var b strings.Builder
	var parts []part
	add := func(keyword, field string) {
		n := fields[field]
		if n == nil {
			return
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(keyword + " ")
		parts = append(parts, part{n, len([]rune(b.String()))})
		b.WriteString(n.Value)
	}
	add("when", "when")
	add("if", "if")
	add("then", "then")
	add("after", "after")
	def, err := Parse(b.String(), cat)
	var pe *Error
	if errors.As(err, &pe) {
		at := parts[0]
		for _, p := range parts {
			if pe.Start >= p.start {
				at = p
			}
		}
		col := at.node.Column + max(pe.Start-at.start, 0)
		if at.node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		if at.node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || strings.Contains(at.node.Value, "\n") {
			col = at.node.Column
		}
		line := at.node.Line
		fail(&yaml.Node{Line: line, Column: col}, "%s\n%s", pe.Msg, pe.Caret())
		return Spec{}, false
	}
	if err != nil {
		fail(item, "%v", err)
		return Spec{}, false
	}
	if !ok {
		return Spec{}, false
	}
	spec.Definition = def
	spec.Workflow.Definition = def.String()
	return spec, true
}
