// Package workflow is the language of desk workflows: a definition
// ("when fill if risk>=7 then remind \"Call {{.Name}}\" after 2h") parsed
// into a trigger, a condition (the segment filter language), an action and
// a delay; the YAML files `brokersync workflows apply` reads; and what a
// trigger matches. reminders.Workflows runs them; the bot's /workflow
// command writes them.
package workflow

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// TriggerKind is what a workflow waits for.
type TriggerKind string

// The triggers.
const (
	TriggerFill           TriggerKind = "fill"
	TriggerOrderPlaced    TriggerKind = "order placed"
	TriggerOrderCancelled TriggerKind = "order cancelled"
	TriggerOrderRejected  TriggerKind = "order rejected"
	TriggerMarketMove     TriggerKind = "market move"
	TriggerInbound        TriggerKind = "inbound"         // Arg: email, call or chat
	TriggerSentimentDrop  TriggerKind = "sentiment drop"  //
	TriggerEntered        TriggerKind = "entered segment" // Arg: the saved segment
	TriggerLeft           TriggerKind = "left segment"    // Arg: the saved segment
	TriggerStageChange    TriggerKind = "stage change"    // Arg: the new stage, "" for any
	TriggerMilestone      TriggerKind = "milestone"       // Arg: the milestone kind, "" for any
	TriggerNoContact      TriggerKind = "no contact"      // Days
)

// Trigger is a workflow's trigger.
type Trigger struct {
	Kind TriggerKind
	Arg  string
	Days int // no contact for Days days
}

func (t Trigger) String() string {
	switch t.Kind {
	case TriggerInbound:
		return "inbound " + t.Arg
	case TriggerEntered, TriggerLeft:
		return string(t.Kind) + " " + t.Arg
	case TriggerStageChange:
		if t.Arg != "" {
			return "stage change to " + t.Arg
		}
	case TriggerMilestone:
		if t.Arg != "" {
			return "milestone " + t.Arg
		}
	case TriggerNoContact:
		return fmt.Sprintf("no contact for %d days", t.Days)
	}
	return string(t.Kind)
}

// ActionKind is what a workflow does.
type ActionKind string

// The actions.
const (
	ActionRemind   ActionKind = "remind"          // remind the client's broker: Text
	ActionPost     ActionKind = "post"            // post Text to Channel
	ActionTag      ActionKind = "tag"             // add Tag
	ActionUntag    ActionKind = "untag"           // remove Tag
	ActionStage    ActionKind = "set stage"       // set Stage
	ActionManagers ActionKind = "notify managers" // tell the desk's managers: Text
)

// Action is a workflow's action.
type Action struct {
	Kind    ActionKind
	Text    string // the template, as written
	Channel string // Slack channel id
	Tag     string
	Stage   store.Stage
	tmpl    *template.Template
}

// Messages reports whether the action posts a message (through the
// reminder scheduler).
func (a Action) Messages() bool {
	return a.Kind == ActionRemind || a.Kind == ActionPost || a.Kind == ActionManagers
}

func (a Action) String() string {
	switch a.Kind {
	case ActionRemind:
		return "remind " + quote(a.Text)
	case ActionPost:
		return "post <#" + a.Channel + "> " + quote(a.Text)
	case ActionTag, ActionUntag:
		return string(a.Kind) + " " + a.Tag
	case ActionStage:
		return "set stage " + string(a.Stage)
	case ActionManagers:
		return "notify managers " + quote(a.Text)
	}
	return string(a.Kind)
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Definition is a parsed workflow definition.
type Definition struct {
	Trigger Trigger
	Filter  *segment.Filter // nil: every client of the desk
	Action  Action
	After   time.Duration // the action waits this long after the trigger
}

// String is the definition in canonical form; Parse reads it back as the
// same definition.
func (d *Definition) String() string {
	var b strings.Builder
	b.WriteString("when " + d.Trigger.String())
	if d.Filter != nil && d.Filter.Root != nil {
		b.WriteString(" if " + d.Filter.String())
	}
	b.WriteString(" then " + d.Action.String())
	if d.After > 0 {
		b.WriteString(" after " + FormatDelay(d.After))
	}
	return b.String()
}

// FormatDelay writes a delay as Parse reads it: 90m, 2h, 3d.
func FormatDelay(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

// Error is a mistake in a definition: Start and End (rune offsets) mark
// the bad part.
type Error struct {
	Text       string
	Start, End int
	Msg        string
}

func (e *Error) Error() string { return e.Msg }

// Caret shows the definition with the bad part marked beneath it.
func (e *Error) Caret() string { return segment.Caret(e.Text, e.Start, e.End) }

type token struct {
	text       string // unquoted
	quoted     bool
	start, end int // rune offsets in the definition
}

func (t token) word() string {
	if t.quoted {
		return ""
	}
	return strings.ToLower(t.text)
}

func lex(text []rune) ([]token, *Error) {
	var out []token
	for i := 0; i < len(text); {
		r := text[i]
		if unicode.IsSpace(r) {
			i++
			continue
		}
		start := i
		if r == '"' || r == '“' || r == '”' {
			var b strings.Builder
			i++
			closed := false
			for i < len(text) {
				c := text[i]
				if c == '\\' && i+1 < len(text) {
					b.WriteRune(text[i+1])
					i += 2
					continue
				}
				if c == '"' || c == '”' || c == '“' {
					closed = true
					i++
					break
				}
				b.WriteRune(c)
				i++
			}
			if !closed {
				return nil, &Error{Text: string(text), Start: start, End: len(text), Msg: "this quote is never closed"}
			}
			out = append(out, token{text: b.String(), quoted: true, start: start, end: i})
			continue
		}
		for i < len(text) && !unicode.IsSpace(text[i]) {
			i++
		}
		out = append(out, token{text: string(text[start:i]), start: start, end: i})
	}
	return out, nil
}

// Syntax is the form of a definition, for help and errors.
const Syntax = `when <trigger> [if <segment filter>] then <action> [after <delay>]`

// Triggers and Actions list the forms, for help.
var (
	Triggers = []string{"fill", "order placed", "order cancelled", "order rejected", "market move",
		"inbound email", "inbound call", "inbound chat", "sentiment drop", "entered segment <name>", "left segment <name>",
		"stage change [to <stage>]", "milestone [<kind>]", "no contact for <N> days"}
	Actions = []string{`remind "<text>"`, `post #channel "<text>"`, "tag <tag>", "untag <tag>", "set stage <stage>", `notify managers "<text>"`}
)

// Parse reads a definition, its condition checked against cat. The error
// is an *Error.
func Parse(def string, cat *store.Catalogue) (*Definition, error) {
	text := []rune(def)
	errAt := func(start, end int, format string, a ...any) *Error {
		return &Error{Text: def, Start: start, End: end, Msg: fmt.Sprintf(format, a...)}
	}
	toks, lerr := lex(text)
	if lerr != nil {
		return nil, lerr
	}
	if len(toks) == 0 {
		return nil, errAt(0, 0, "a workflow reads: %s", Syntax)
	}
	if toks[0].word() != "when" {
		return nil, errAt(toks[0].start, toks[0].end, "a workflow starts with when: %s", Syntax)
	}
	ifAt, thenAt := -1, -1
	for i, t := range toks {
		switch t.word() {
		case "if":
			if ifAt < 0 && thenAt < 0 {
				ifAt = i
			}
		case "then":
			if thenAt < 0 {
				thenAt = i
			}
		}
	}
	if thenAt < 0 {
		last := toks[len(toks)-1]
		return nil, errAt(last.end, last.end+1, "then <action> is missing: %s", Syntax)
	}
	trigEnd := thenAt
	if ifAt >= 0 {
		trigEnd = ifAt
	}
	d := &Definition{}
	trig, err := parseTrigger(def, toks[0], toks[1:trigEnd])
	if err != nil {
		return nil, err
	}
	d.Trigger = trig
	if ifAt >= 0 {
		start, end := toks[ifAt].end, toks[thenAt].start
		raw := string(text[start:end])
		trimmed := strings.TrimLeftFunc(raw, unicode.IsSpace)
		offset := start + len([]rune(raw)) - len([]rune(trimmed))
		trimmed = strings.TrimRightFunc(trimmed, unicode.IsSpace)
		if trimmed == "" {
			return nil, errAt(toks[ifAt].start, toks[ifAt].end, "if needs a segment filter, e.g. if risk>=7 tag:vip")
		}
		f, err := segment.Parse(trimmed, cat)
		var pe *segment.Error
		if errors.As(err, &pe) {
			msg := pe.Msg
			if pe.Suggest != "" {
				msg += "; did you mean " + pe.Suggest + "?"
			}
			return nil, errAt(offset+pe.Start, offset+max(pe.End, pe.Start+1), "in the condition: %s", msg)
		}
		if err != nil {
			return nil, errAt(offset, offset+len([]rune(trimmed)), "in the condition: %v", err)
		}
		d.Filter = f
	}
	rest := toks[thenAt+1:]
	// after <delay> ends the definition.
	for i := len(rest) - 1; i >= 1; i-- {
		if rest[i].word() != "after" {
			continue
		}
		delay := rest[i+1:]
		if len(delay) == 0 {
			return nil, errAt(rest[i].start, rest[i].end, "after needs a delay: 30m, 2h, 3d")
		}
		var words []string
		for _, t := range delay {
			words = append(words, t.text)
		}
		dur, ok := ParseDelay(strings.Join(words, " "))
		if !ok {
			return nil, errAt(delay[0].start, delay[len(delay)-1].end, "%q is not a delay: write 30m, 2h or 3d (up to 90 days)", strings.Join(words, " "))
		}
		d.After = dur
		rest = rest[:i]
		break
	}
	a, err := parseAction(def, toks[thenAt], rest)
	if err != nil {
		return nil, err
	}
	d.Action = a
	return d, nil
}

var delayRE = regexp.MustCompile(`^(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)$`)

// ParseDelay reads a delay: 30m, 2h, 3d, 1w, "2 hours"; at most 90 days.
func ParseDelay(s string) (time.Duration, bool) {
	m := delayRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, false
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[m[2][0]]
	d := time.Duration(n) * unit
	if d > 90*24*time.Hour {
		return 0, false
	}
	return d, true
}

func parseTrigger(def string, when token, toks []token) (Trigger, error) {
	errAt := func(start, end int, format string, a ...any) error {
		return &Error{Text: def, Start: start, End: end, Msg: fmt.Sprintf(format, a...)}
	}
	if len(toks) == 0 {
		return Trigger{}, errAt(when.start, when.end, "when needs a trigger: %s", strings.Join(Triggers, ", "))
	}
	start, end := toks[0].start, toks[len(toks)-1].end
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = strings.ToLower(t.text)
	}
	phrase := strings.Join(words, " ")
	unknown := func() error {
		return errAt(start, end, "%q is not a trigger; triggers: %s", phrase, strings.Join(Triggers, ", "))
	}
	switch phrase {
	case "fill", "fills":
		return Trigger{Kind: TriggerFill}, nil
	case "order placed":
		return Trigger{Kind: TriggerOrderPlaced}, nil
	case "order cancelled", "order canceled":
		return Trigger{Kind: TriggerOrderCancelled}, nil
	case "order rejected":
		return Trigger{Kind: TriggerOrderRejected}, nil
	case "market move":
		return Trigger{Kind: TriggerMarketMove}, nil
	case "inbound email", "inbound call", "inbound chat":
		return Trigger{Kind: TriggerInbound, Arg: words[1]}, nil
	case "sentiment drop":
		return Trigger{Kind: TriggerSentimentDrop}, nil
	case "stage change":
		return Trigger{Kind: TriggerStageChange}, nil
	case "milestone":
		return Trigger{Kind: TriggerMilestone}, nil
	}
	switch {
	case len(words) == 3 && (words[0] == "entered" || words[0] == "left") && words[1] == "segment":
		name, err := segment.NormalizeName(toks[2].text)
		if err != nil {
			return Trigger{}, errAt(toks[2].start, toks[2].end, "%v", err)
		}
		k := TriggerEntered
		if words[0] == "left" {
			k = TriggerLeft
		}
		return Trigger{Kind: k, Arg: name}, nil
	case len(words) == 2 && (words[0] == "entered" || words[0] == "left") && words[1] == "segment":
		return Trigger{}, errAt(toks[1].start, toks[1].end, "which saved segment? e.g. %s segment at-risk", words[0])
	case len(words) == 4 && words[0] == "stage" && words[1] == "change" && words[2] == "to":
		st, err := parseStage(words[3])
		if err != nil {
			return Trigger{}, errAt(toks[3].start, toks[3].end, "%v", err)
		}
		return Trigger{Kind: TriggerStageChange, Arg: string(st)}, nil
	case len(words) == 2 && words[0] == "milestone":
		return Trigger{Kind: TriggerMilestone, Arg: words[1]}, nil
	case len(words) >= 3 && words[0] == "no" && words[1] == "contact" && words[2] == "for":
		n, ok := parseDays(words[3:])
		if !ok {
			s, e := toks[2].end, end
			if len(toks) > 3 {
				s = toks[3].start
			}
			return Trigger{}, errAt(s, e, "write the days: no contact for 30 days (1 to 730)")
		}
		return Trigger{Kind: TriggerNoContact, Days: n}, nil
	}
	return Trigger{}, unknown()
}

func parseDays(words []string) (int, bool) {
	s := strings.Join(words, " ")
	s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "days"), "day"), "d")
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 1 && n <= 730
}

var channelRE = regexp.MustCompile(`^(?:<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|#?([CG][A-Z0-9]{6,}))$`)

func parseAction(def string, then token, toks []token) (Action, error) {
	errAt := func(start, end int, format string, a ...any) error {
		return &Error{Text: def, Start: start, End: end, Msg: fmt.Sprintf(format, a...)}
	}
	if len(toks) == 0 {
		return Action{}, errAt(then.start, then.end, "then needs an action: %s", strings.Join(Actions, ", "))
	}
	w0 := toks[0].word()
	// text reads the quoted text that ends an action.
	text := func(toks []token, what string) (string, *template.Template, error) {
		if len(toks) == 0 {
			last := then
			return "", nil, errAt(last.end, last.end+1, "%s needs its text in quotes, e.g. %s \"Call {{.Name}}\"", what, what)
		}
		if len(toks) > 1 || !toks[0].quoted {
			return "", nil, errAt(toks[0].start, toks[len(toks)-1].end, "put the text of %s in quotes: %s \"Call {{.Name}} about the fill\"", what, what)
		}
		t, err := ParseTemplate(toks[0].text)
		if err != nil {
			return "", nil, errAt(toks[0].start, toks[0].end, "%v", err)
		}
		return toks[0].text, t, nil
	}
	switch {
	case w0 == "remind":
		s, t, err := text(toks[1:], "remind")
		return Action{Kind: ActionRemind, Text: s, tmpl: t}, err
	case w0 == "post":
		if len(toks) < 2 {
			return Action{}, errAt(toks[0].start, toks[0].end, "post needs a channel and a text: post #channel \"…\"")
		}
		m := channelRE.FindStringSubmatch(toks[1].text)
		if m == nil || toks[1].quoted {
			return Action{}, errAt(toks[1].start, toks[1].end, "%q is not a channel: mention it (#channel, as Slack completes it) or give its id (C0123ABCD)", toks[1].text)
		}
		ch := m[1] + m[2]
		s, t, err := text(toks[2:], "post")
		return Action{Kind: ActionPost, Channel: ch, Text: s, tmpl: t}, err
	case w0 == "tag" || w0 == "untag":
		if len(toks) != 2 {
			return Action{}, errAt(toks[0].start, toks[len(toks)-1].end, "%s takes one tag: %s vip", w0, w0)
		}
		tag, err := store.NormalizeTag(toks[1].text)
		if err != nil {
			return Action{}, errAt(toks[1].start, toks[1].end, "%s", store.ErrorMessage(err))
		}
		return Action{Kind: ActionKind(w0), Tag: tag}, nil
	case w0 == "set" && len(toks) >= 2 && toks[1].word() == "stage":
		if len(toks) != 3 {
			return Action{}, errAt(toks[0].start, toks[len(toks)-1].end, "set stage takes one stage: set stage dormant")
		}
		st, err := parseStage(toks[2].text)
		if err != nil {
			return Action{}, errAt(toks[2].start, toks[2].end, "%v", err)
		}
		return Action{Kind: ActionStage, Stage: st}, nil
	case w0 == "notify" && len(toks) >= 2 && toks[1].word() == "managers":
		s, t, err := text(toks[2:], "notify managers")
		return Action{Kind: ActionManagers, Text: s, tmpl: t}, err
	}
	return Action{}, errAt(toks[0].start, toks[len(toks)-1].end, "not an action; actions: %s", strings.Join(Actions, ", "))
}

// Stages are the lifecycle stages a workflow may name.
var Stages = []store.Stage{store.Prospect, store.Onboarding, store.Active, store.Dormant, store.Closed}

func parseStage(s string) (store.Stage, error) {
	st := store.Stage(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Stages {
		if x == st {
			return st, nil
		}
	}
	names := make([]string, len(Stages))
	for i, x := range Stages {
		names[i] = string(x)
	}
	return "", fmt.Errorf("%q is not a stage: %s", s, strings.Join(names, ", "))
}
