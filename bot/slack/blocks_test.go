package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
)

func TestEscapeKeepsMentions(t *testing.T) {
	got := escape("<b>Corn & soy</b> for <@U123> in <#C9> (<not a mention>)")
	want := "&lt;b&gt;Corn &amp; soy&lt;/b&gt; for <@U123> in <#C9> (&lt;not a mention&gt;)"
	if got != want {
		t.Errorf("escape = %q, want %q", got, want)
	}
}

func TestBlocksStayWithinSlackLimits(t *testing.T) {
	var items []string
	for i := range 400 {
		items = append(items, fmt.Sprintf("2026-01-%02d 10:00 · call · Long summary number %d with ünïcödé & <angle> brackets", i%28+1, i))
	}
	var fields bot.Fields
	for i := range 23 {
		fields = append(fields, bot.Field{Label: fmt.Sprintf("F%d", i), Value: strings.Repeat("v", 2500)})
	}
	var blocks []bot.Block
	blocks = append(blocks, bot.Heading{Text: strings.Repeat("H", 200)}, fields, bot.List{Title: "Events", Items: items})
	for range 60 {
		blocks = append(blocks, bot.Context{Text: "c"})
	}
	out := Blocks(bot.Response{Text: "x", Blocks: blocks})
	if len(out) > maxBlocks {
		t.Fatalf("%d blocks, Slack takes %d", len(out), maxBlocks)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var decoded []map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	sectionsWithFields := 0
	for _, blk := range out {
		switch blk := blk.(type) {
		case *slack.HeaderBlock:
			if n := len([]rune(blk.Text.Text)); n > maxHeaderText {
				t.Errorf("header of %d characters", n)
			}
		case *slack.SectionBlock:
			if blk.Text != nil && len(blk.Text.Text) > maxSectionText {
				t.Errorf("section of %d bytes", len(blk.Text.Text))
			}
			if blk.Text != nil && strings.Contains(blk.Text.Text, "<angle>") {
				t.Errorf("unescaped text: %q", blk.Text.Text[:80])
			}
			if len(blk.Fields) > 0 {
				sectionsWithFields++
				if len(blk.Fields) > maxFields {
					t.Errorf("section with %d fields", len(blk.Fields))
				}
				for _, f := range blk.Fields {
					if n := len([]rune(f.Text)); n > maxFieldText {
						t.Errorf("field of %d characters", n)
					}
				}
			}
		}
	}
	if sectionsWithFields != 3 {
		t.Errorf("23 fields in %d sections, want 3", sectionsWithFields)
	}
	last, ok := out[len(out)-1].(*slack.ContextBlock)
	if !ok || !strings.Contains(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "more than Slack shows") {
		t.Errorf("a cut message does not say so: %#v", out[len(out)-1])
	}
}

func TestTextOnlyResponse(t *testing.T) {
	m := render(bot.Response{Status: bot.Invalid, Text: "risk: \"11\" is out of range & <wrong>"})
	if m.ResponseType != "ephemeral" || len(m.Blocks) != 1 || m.Text != "risk: \"11\" is out of range &amp; &lt;wrong&gt;" {
		t.Errorf("%+v", m)
	}
}

// An export's CSV shows in the ephemeral answer when it fits, escaped;
// a larger one points at the command line.
func TestFileInAnswer(t *testing.T) {
	small := render(bot.Response{Text: "1 client", File: &bot.File{Name: "vip.csv", Content: []byte("handle,name\nacme,A & <B>\n")}})
	js, err := json.Marshal(small.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if len(small.Blocks) != 2 || !strings.Contains(string(js), "acme,A \\u0026amp; \\u0026lt;B\\u0026gt;") || !strings.Contains(string(js), "vip.csv") {
		t.Errorf("small file: %s", js)
	}
	big := render(bot.Response{Text: "many", File: &bot.File{Name: "all.csv", Content: []byte(strings.Repeat("x", 5000))}})
	js, _ = json.Marshal(big.Blocks)
	if len(big.Blocks) != 2 || !strings.Contains(string(js), "all.csv is 5 KB, too large to show here") || strings.Contains(string(js), "xxxx") {
		t.Errorf("big file: %s", js)
	}
}
