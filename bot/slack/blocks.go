package slack

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
)

// Slack's limits on what a message may hold.
const (
	maxBlocks       = 50
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxFields       = 10
	maxHeaderText   = 150
	maxButtonText   = 75
	maxFallbackText = 3000
)

// message is the body of a slash-command answer or of a response_url post.
type message struct {
	ResponseType    string        `json:"response_type,omitempty"`
	Text            string        `json:"text"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool          `json:"replace_original,omitempty"`
}

// render turns a bot response into an ephemeral Slack message: only the
// person who asked sees it, since profiles and timelines are confidential.
func render(r bot.Response) message {
	return message{ResponseType: "ephemeral", Text: clip(escape(r.Text), maxFallbackText), Blocks: append(Blocks(r), fileBlocks(r.File)...)}
}

// maxInlineFile is the largest attachment shown in the answer itself, as a
// code block within one section.
const maxInlineFile = 2800

// fileBlocks shows an attachment in the (ephemeral) answer, so that only
// the person who asked sees it: inline when it is small, otherwise a
// pointer to the command line, which writes any size.
func fileBlocks(f *bot.File) []slack.Block {
	if f == nil {
		return nil
	}
	if text := "*" + escape(f.Name) + "*\n```" + escape(string(f.Content)) + "```"; len(f.Content) <= maxInlineFile && len(text) <= maxSectionText {
		return []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	return []slack.Block{slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%s is %d KB, too large to show here: `brokersync export clients --segment …` writes it in full.", escape(f.Name), (len(f.Content)+1023)/1024)))}
}

// Blocks renders a response's blocks as Block Kit. A response without
// blocks renders as one section of its text.
func Blocks(r bot.Response) []slack.Block {
	var out []slack.Block
	if len(r.Blocks) == 0 {
		return sections(r.Text)
	}
	for i, b := range r.Blocks {
		switch b := b.(type) {
		case bot.Heading:
			out = append(out, slack.NewHeaderBlock(plainText(clip(b.Text, maxHeaderText))))
		case bot.Paragraph:
			out = append(out, sections(b.Text)...)
		case bot.Fields:
			for start := 0; start < len(b); start += maxFields {
				var fs []*slack.TextBlockObject
				for _, f := range b[start:min(start+maxFields, len(b))] {
					fs = append(fs, mrkdwn(clip("*"+escape(f.Label)+"*\n"+escape(f.Value), maxFieldText)))
				}
				out = append(out, slack.NewSectionBlock(nil, fs, nil))
			}
		case bot.List:
			lines := make([]string, 0, len(b.Items)+1)
			if b.Title != "" {
				lines = append(lines, "*"+b.Title+"*")
			}
			for _, it := range b.Items {
				lines = append(lines, "• "+it)
			}
			out = append(out, sections(strings.Join(lines, "\n"))...)
		case bot.Context:
			out = append(out, slack.NewContextBlock("", mrkdwn(clip(escape(b.Text), maxFieldText))))
		case bot.Actions:
			var els []slack.BlockElement
			for j, bt := range b {
				id := bt.Action
				if id == "" {
					id = fmt.Sprintf("link_%d_%d", i, j) // Slack wants an id even for link buttons
				}
				if bt.PickUser {
					els = append(els, slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plainText(clip(bt.Label, maxButtonText)), id+":"+bt.Value))
					continue
				}
				el := slack.NewButtonBlockElement(id, bt.Value, plainText(clip(bt.Label, maxButtonText)))
				el.URL = bt.URL
				if bt.Primary {
					el.Style = slack.StylePrimary
				}
				els = append(els, el)
			}
			if len(els) > 0 {
				out = append(out, slack.NewActionBlock("", els...))
			}
		}
	}
	if len(out) > maxBlocks {
		out = append(out[:maxBlocks-1], slack.NewContextBlock("", mrkdwn("… more than Slack shows in one message; see the web view.")))
	}
	return out
}

// sections splits text, escaping what must be, into sections of at most
// Slack's size, on line boundaries where possible.
func sections(text string) []slack.Block {
	text = escape(text)
	var out []slack.Block
	for text != "" {
		part := text
		if len(part) > maxSectionText {
			part = clipBytes(part, maxSectionText)
			if i := strings.LastIndexByte(part, '\n'); i > maxSectionText/2 {
				part = part[:i]
			} else if i := strings.LastIndexByte(part, '&'); i > len(part)-5 && !strings.Contains(part[i:], ";") {
				part = part[:i] // do not split an escape
			}
		}
		text = strings.TrimPrefix(text[len(part):], "\n")
		out = append(out, slack.NewSectionBlock(mrkdwn(part), nil, nil))
	}
	return out
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

var escapedRef = regexp.MustCompile(`&lt;([@#][A-Z0-9]+)&gt;`)

// escape escapes the three characters Slack reserves, keeping the bot's
// <@U123> and <#C123> references as mentions.
func escape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return escapedRef.ReplaceAllString(s, "<$1>")
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// clipBytes shortens s to at most n bytes without splitting a rune.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
