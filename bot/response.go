package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Request is one command, from Slack or the shell.
type Request struct {
	User    string // Slack id of who asks
	Channel string // where it was typed; "" from the shell
	Command string // "/client", "/log", ...
	Text    string // everything after the command, as Slack sends it (escapes and all)
	// Args, when set, replaces Text: words that need no parsing, from a
	// button's value or a modal's fields.
	Args []string
	// ID identifies this request at its source (a Slack trigger id). Events
	// it logs derive their ids from it, so a request delivered twice logs once.
	ID string
}

// Status tells a transport how a request went, without parsing text.
type Status int

// Statuses.
const (
	OK       Status = iota
	Invalid         // the request is malformed; the text says how to write it
	Refused         // the user may not do this; nothing changed
	NotFound        // no such client (among those the user may see)
	Failed          // our side failed; the user may try again
	// NeedClient: a message cannot be logged because its channel is linked
	// to no client; a transport asks which client (a Slack modal).
	NeedClient
)

func (s Status) String() string {
	return [...]string{"ok", "invalid", "refused", "not found", "failed", "need client"}[s]
}

// Response is the answer to a request. Text is always set: it is the whole
// answer for a terminal and the notification text in Slack. Blocks, when
// present, are a richer form of the same answer that transports render
// (bot/slack as Block Kit, PlainText for a terminal). Text and blocks may
// hold <@U123> and <#C123> references, which renderers show as mentions.
type Response struct {
	Status Status
	Text   string
	Blocks []Block
	File   *File // an attachment: Slack uploads it, a terminal prints it
	// Replace asks a transport to show the answer in place of the message
	// whose button was pressed (a reminder marked done or snoozed), for
	// everyone who sees that message, rather than as a private answer.
	Replace bool
}

// File is a document attached to an answer.
type File struct {
	Name    string // e.g. at-risk-2026-12-07.csv
	Title   string
	Type    string // e.g. csv
	Content []byte
}

// Err reports whether the response is an error of any kind.
func (r Response) Err() bool { return r.Status != OK }

// Block is one part of a structured response.
type Block interface{ block() }

// Heading is a title.
type Heading struct{ Text string }

// Paragraph is free text.
type Paragraph struct{ Text string }

// Fields are labelled values, such as a profile's.
type Fields []Field

// Field is one labelled value.
type Field struct{ Label, Value string }

// List is a list of one-line items: timeline events, search results.
type List struct {
	Title string
	Items []string
}

// Context is small print: counts, hints, where to look next.
type Context struct{ Text string }

// Actions are buttons.
type Actions []Button

// Button either asks the bot to do something (Action, with Value as its
// argument) or opens a web page (URL).
type Button struct {
	Label   string
	Action  string // one of the Action* names
	Value   string
	URL     string
	Primary bool
	// PickUser makes it a menu of the workspace's people: picking one
	// sends Action+":"+Value as the action, with the person picked.
	PickUser bool
}

// Button actions, carried by Slack buttons back to bot/slack.
const (
	ActionOpenTimeline = "open_timeline" // Value: client handle
	ActionAddNote      = "add_note"      // Value: client handle
	ActionShowClient   = "show_client"   // Value: client handle
	ActionUndoReminder = "undo_reminder" // Value: reminder id
	// The buttons of a posted reminder.
	ActionReminderDone   = "reminder_done"   // Value: reminder id
	ActionReminderSnooze = "reminder_snooze" // Value: reminder id and 1h, tomorrow or week
	ActionLogCall        = "log_call"        // Value: reminder id; opens a modal
	// The buttons of a manager's digest.
	ActionDigestSnooze   = "digest_snooze"   // Value: reminder id and 1h, tomorrow or week
	ActionDigestReassign = "digest_reassign" // a PickUser menu; Value: reminder id
)

func (Heading) block()   {}
func (Paragraph) block() {}
func (Fields) block()    {}
func (List) block()      {}
func (Context) block()   {}
func (Actions) block()   {}

var refRE = regexp.MustCompile(`<([@#])([A-Z0-9]+)>`)

// PlainText renders a response for a terminal: mentions as @U123 and
// #C123, buttons that open pages as their address.
func PlainText(r Response) string { return plainRefs(plainText(r)) }

// PlainTextNamed is PlainText with mentions shown as the names the
// directory knows (@jane, #acme-deals); ids it cannot name stay ids.
func PlainTextNamed(ctx context.Context, r Response, n *Names) string {
	return n.Memo().Text(ctx, plainText(r))
}

func plainText(r Response) string {
	if len(r.Blocks) == 0 {
		return r.Text + "\n"
	}
	var b strings.Builder
	for _, bl := range r.Blocks {
		switch bl := bl.(type) {
		case Heading:
			fmt.Fprintf(&b, "%s\n", bl.Text)
		case Paragraph:
			fmt.Fprintf(&b, "%s\n", bl.Text)
		case Context:
			fmt.Fprintf(&b, "%s\n", bl.Text)
		case Fields:
			width := 0
			for _, f := range bl {
				width = max(width, len([]rune(f.Label)))
			}
			for _, f := range bl {
				pad := strings.Repeat(" ", width-len([]rune(f.Label)))
				value := strings.ReplaceAll(f.Value, "\n", "\n  "+strings.Repeat(" ", width))
				fmt.Fprintf(&b, "  %s:%s %s\n", f.Label, pad, value)
			}
		case List:
			if bl.Title != "" {
				fmt.Fprintf(&b, "%s\n", bl.Title)
			}
			for _, it := range bl.Items {
				fmt.Fprintf(&b, "  %s\n", it)
			}
		case Actions:
			for _, bt := range bl {
				if bt.URL != "" {
					fmt.Fprintf(&b, "%s: %s\n", bt.Label, bt.URL)
				}
			}
		}
	}
	return b.String()
}

func plainRefs(s string) string { return refRE.ReplaceAllString(s, "$1$2") }

// mentions lists the user ids mentioned in s.
func mentions(s string) []string {
	var out []string
	for _, m := range refRE.FindAllStringSubmatch(s, -1) {
		if m[1] == "@" {
			out = append(out, m[2])
		}
	}
	return out
}

// slackUserRE matches Slack user ids (U…, or W… on Enterprise Grid).
var slackUserRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// IsSlackUser reports whether an actor is a Slack user id, as opposed to a
// system actor ("market", "brokersync"), a client handle or a phone number.
func IsSlackUser(id string) bool { return slackUserRE.MatchString(id) }

// userRef is a mention of a Slack user; any other actor is shown as it is.
func userRef(id string) string {
	if !IsSlackUser(id) {
		return id
	}
	return "<@" + id + ">"
}

func channelRef(id string) string { return "<#" + id + ">" }

// textResponse is a plain answer.
func textResponse(status Status, format string, a ...any) Response {
	return Response{Status: status, Text: fmt.Sprintf(format, a...)}
}

// formatTime shows t in the user's time zone, with the zone's
// abbreviation: 2026-12-07 09:30 CST.
func formatTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(TimeLayout)
}

// TimeLayout is how times are shown to people: with their zone, so that a
// time read in Slack, in a terminal or on the web page means one instant.
const TimeLayout = "2006-01-02 15:04 MST"
