package workflow

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/brokersync/brokersync/store"
)

// Fields are what a workflow's text may say of the client and the event:
// {{.Name}}, {{.Handle}}, … Nothing else of BrokerSync is reachable from a
// template.
type Fields struct {
	Name     string // the client's name
	Handle   string
	Company  string
	Desk     string
	Broker   string // the broker as a Slack mention
	Stage    string
	Tags     string // comma-separated
	Workflow string // the workflow's name
	Event    string // what triggered it: the event's summary
}

// FieldNames lists the fields, for help.
var FieldNames = []string{"Name", "Handle", "Company", "Desk", "Broker", "Stage", "Tags", "Workflow", "Event"}

// ClientFields are the fields of a client.
func ClientFields(c *store.Client, workflow, event string) Fields {
	f := Fields{Name: c.Name, Handle: c.Handle, Company: c.Company, Desk: c.Team, Stage: string(c.Stage),
		Tags: strings.Join(c.Tags, ", "), Workflow: workflow, Event: event}
	if c.Broker != "" {
		f.Broker = "<@" + c.Broker + ">"
	}
	return f
}

var templateLoc = regexp.MustCompile(`^template: [^:]*:\d+:(\d+): (?:executing "[^"]*" at <[^>]*>: )?`)

// ParseTemplate parses a workflow's text and tries it on empty fields, so
// that a field that does not exist is a mistake when the workflow is
// written, not when it fires.
func ParseTemplate(text string) (*template.Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("the text is empty")
	}
	t, err := template.New("text").Option("missingkey=error").Parse(text)
	if err == nil {
		err = t.Execute(&bytes.Buffer{}, Fields{})
	}
	if err != nil {
		msg := templateLoc.ReplaceAllString(err.Error(), "")
		return nil, fmt.Errorf("the text's template has a mistake: %s (fields: %s)", msg, "{{."+strings.Join(FieldNames, "}}, {{.")+"}}")
	}
	return t, nil
}

// Render writes the action's text for f.
func (a Action) Render(f Fields) (string, error) {
	t := a.tmpl
	if t == nil {
		var err error
		if t, err = ParseTemplate(a.Text); err != nil {
			return "", err
		}
	}
	var b bytes.Buffer
	if err := t.Execute(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}
