package workflow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Every trigger and action reads, and writes back as it reads.
func TestParseEveryTriggerAndAction(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		trig     Trigger
	}{
		{`when fill then remind "Call {{.Name}}"`, `when fill then remind "Call {{.Name}}"`, Trigger{Kind: TriggerFill}},
		{`WHEN order placed then tag placed`, `when order placed then tag placed`, Trigger{Kind: TriggerOrderPlaced}},
		{`when order canceled then tag c`, `when order cancelled then tag c`, Trigger{Kind: TriggerOrderCancelled}},
		{`when order rejected then notify managers "{{.Name}}: rejected"`, `when order rejected then notify managers "{{.Name}}: rejected"`, Trigger{Kind: TriggerOrderRejected}},
		{`when market move if commodity:corn then post <#C0123ABCD|desk> "{{.Event}}"`, `when market move if commodity:corn then post <#C0123ABCD> "{{.Event}}"`, Trigger{Kind: TriggerMarketMove}},
		{`when inbound email then untag quiet`, `when inbound email then untag quiet`, Trigger{Kind: TriggerInbound, Arg: "email"}},
		{`when inbound call then set stage active`, `when inbound call then set stage active`, Trigger{Kind: TriggerInbound, Arg: "call"}},
		{`when inbound chat then tag chatty after 2 hours`, `when inbound chat then tag chatty after 2h`, Trigger{Kind: TriggerInbound, Arg: "chat"}},
		{`when sentiment drop if risk>=7 then notify managers “{{.Name}} is unhappy”`, `when sentiment drop if risk>=7 then notify managers "{{.Name}} is unhappy"`, Trigger{Kind: TriggerSentimentDrop}},
		{`when entered segment At-Risk then tag at-risk`, `when entered segment at-risk then tag at-risk`, Trigger{Kind: TriggerEntered, Arg: "at-risk"}},
		{`when left segment at-risk then untag at-risk`, `when left segment at-risk then untag at-risk`, Trigger{Kind: TriggerLeft, Arg: "at-risk"}},
		{`when stage change then remind "{{.Name}} is {{.Stage}} now"`, `when stage change then remind "{{.Name}} is {{.Stage}} now"`, Trigger{Kind: TriggerStageChange}},
		{`when stage change to dormant then tag sleeping`, `when stage change to dormant then tag sleeping`, Trigger{Kind: TriggerStageChange, Arg: "dormant"}},
		{`when milestone then remind "{{.Event}}"`, `when milestone then remind "{{.Event}}"`, Trigger{Kind: TriggerMilestone}},
		{`when milestone anniversary then remind "{{.Event}}" after 1d`, `when milestone anniversary then remind "{{.Event}}" after 1d`, Trigger{Kind: TriggerMilestone, Arg: "anniversary"}},
		{`when no contact for 30 days if tag:vip then notify managers "{{.Name}}"`, `when no contact for 30 days if tag:vip then notify managers "{{.Name}}"`, Trigger{Kind: TriggerNoContact, Days: 30}},
		{`when no contact for 14d then remind "ring {{.Name}}" after 90m`, `when no contact for 14 days then remind "ring {{.Name}}" after 90m`, Trigger{Kind: TriggerNoContact, Days: 14}},
	} {
		d, err := Parse(tc.in, store.DefaultCatalogue())
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if d.Trigger != tc.trig {
			t.Errorf("%s: trigger %+v, want %+v", tc.in, d.Trigger, tc.trig)
		}
		if got := d.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
		back, err := Parse(d.String(), store.DefaultCatalogue())
		if err != nil || back.String() != d.String() {
			t.Errorf("%s does not read back: %v %v", d, back, err)
		}
	}
	d, err := Parse(`when fill then post C0123ABCD "x" after 3d`, store.DefaultCatalogue())
	if err != nil || d.Action.Channel != "C0123ABCD" || d.After != 72*time.Hour {
		t.Errorf("post with a bare id: %+v %v", d, err)
	}
}

// Mistakes point at what is wrong: the caret sits under it.
func TestParseErrorsPointAtTheMistake(t *testing.T) {
	for _, tc := range []struct {
		in, at, msg string
	}{
		{`fill then tag x`, `fill`, "starts with when"},
		{`when fil then tag x`, `fil`, `"fil" is not a trigger`},
		{`when fill then tag x if y`, ``, ""}, // "if" after then is part of the action: an error at the action
		{`when fill if rsk>=7 then tag x`, `rsk`, "did you mean risk"},
		{`when fill if risk>=7 tag:vip then frob`, `frob`, "not an action"},
		{`when fill if then tag x`, `if`, "needs a segment filter"},
		{`when fill`, ``, "then <action> is missing"},
		{`when fill then remind Call him`, `Call him`, "in quotes"},
		{`when fill then remind "Call {{.Nme}}"`, `"Call {{.Nme}}"`, "can't evaluate field Nme"},
		{`when fill then remind "Call {{.Name"`, `"Call {{.Name"`, "template has a mistake"},
		{`when fill then post #general "x"`, `#general`, "not a channel"},
		{`when fill then set stage asleep`, `asleep`, "not a stage"},
		{`when fill then tag x after soon`, `soon`, "not a delay"},
		{`when fill then tag "x`, `"x`, "never closed"},
		{`when stage change to nowhere then tag x`, `nowhere`, "not a stage"},
		{`when no contact for ever then tag x`, `ever`, "write the days"},
		{`when entered segment then tag x`, `segment`, "which saved segment"},
	} {
		_, err := Parse(tc.in, store.DefaultCatalogue())
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a *Error", tc.in, err)
			continue
		}
		if tc.msg != "" && !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%s: %q, want it to say %q", tc.in, pe.Msg, tc.msg)
		}
		lines := strings.Split(pe.Caret(), "\n")
		if len(lines) != 2 || lines[0] != tc.in {
			t.Errorf("%s: caret %q", tc.in, pe.Caret())
			continue
		}
		if tc.at == "" {
			continue
		}
		start := strings.Index(tc.in, tc.at)
		if got := strings.Index(lines[1], "^"); got != len([]rune(tc.in[:start])) {
			t.Errorf("%s: caret at %d, want %d (under %q):\n%s", tc.in, got, start, tc.at, pe.Caret())
		}
		if got := len(strings.TrimSpace(lines[1])); got != len([]rune(tc.at)) {
			t.Errorf("%s: caret %d wide, want %d:\n%s", tc.in, got, len([]rune(tc.at)), pe.Caret())
		}
	}
}

// Texts name the client's fields and nothing else.
func TestTemplateFields(t *testing.T) {
	d, err := Parse(`when fill then remind "Call {{.Name}} ({{.Handle}}, {{.Desk}}, {{.Broker}}): {{.Event}}"`, store.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Name: "Acme Grain", Handle: "acme-grain", Team: "grain", Broker: "U1"}
	got, err := d.Action.Render(ClientFields(c, "w", "bought 5 ZCZ6"))
	if err != nil || got != "Call Acme Grain (acme-grain, grain, <@U1>): bought 5 ZCZ6" {
		t.Errorf("%q %v", got, err)
	}
	for _, bad := range []string{`{{.Client.Email}}`, `{{call .Name}}`, `{{template "x"}}`} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestChain(t *testing.T) {
	e := &store.Event{Attrs: store.Attrs{Extra: map[string]string{CausedBy: "a,b"}}}
	if got := Chain(e, "c"); got != "a,b,c" {
		t.Errorf("%s", got)
	}
	if got := Chain(e, "a"); got != "a,b" {
		t.Errorf("%s", got)
	}
	if got := Chain(nil, "a"); got != "a" {
		t.Errorf("%s", got)
	}
}
