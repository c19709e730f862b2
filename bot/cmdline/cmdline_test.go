package cmdline

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"", nil},
		{"   \t ", nil},
		{"show acme-grain", []string{"show", "acme-grain"}},
		{`add acme "Acme Grain Co-op" team=grain-desk`, []string{"add", "acme", "Acme Grain Co-op", "team=grain-desk"}},
		{`set acme name="Acme Grain" risk=7`, []string{"set", "acme", "name=Acme Grain", "risk=7"}},
		{"add acme “Acme Grain” x", []string{"add", "acme", "Acme Grain", "x"}},
		{"add acme ”Acme Grain” x", []string{"add", "acme", "Acme Grain", "x"}},
		{"add acme „Acme Grain“ «Société Générale»", []string{"add", "acme", "Acme Grain", "Société Générale"}},
		{"set acme name=‘Acme’", []string{"set", "acme", "name=Acme"}},
		{"note O'Brien said 5\" is fine", []string{"note", "O'Brien", "said", "5\"", "is", "fine"}},
		{"a\u00a0b\u3000c", []string{"a", "b", "c"}}, // no-break and ideographic spaces
		{"broker=<@U123ABC|jane>", []string{"broker=<@U123ABC>"}},
		{"<#C0123|energy-desk> <@W999>", []string{"<#C0123>", "<@W999>"}},
		{"email.work=<mailto:Jane@Acme.com|Jane@Acme.com>", []string{"email.work=Jane@Acme.com"}},
		{"<mailto:jane@acme.com>", []string{"jane@acme.com"}},
		{"phone.work=<tel:+13125550100|+1 312 555 0100>", []string{"phone.work=+1 312 555 0100"}},
		{"<https://acme.com|acme.com> <!here>", []string{"acme.com", "@here"}},
		{"<!subteam^S123|@desk>", []string{"@desk"}},
		{"a &amp; b &lt;3 &gt;", []string{"a", "&", "b", "<3", ">"}},
		{"price < 4.50 and > 4", []string{"price", "<", "4.50", "and", ">", "4"}},
		{`"unclosed quote`, []string{`"unclosed`, "quote"}},
		{`name="`, []string{`name="`}},
		{`""`, []string{""}},
		{"株式会社 ölhandel 🌽", []string{"株式会社", "ölhandel", "🌽"}},
		{"bad\xffutf8", []string{"bad\uFFFDutf8"}},
		{"<|> <|x> <@|y>", []string{"<|>", "<|x>", "<@|y>"}}, // found by the fuzzer
	}
	for _, tt := range tests {
		got := Texts(Parse(tt.line).Words)
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("parseLine(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestParseRefs(t *testing.T) {
	ws := parseLine("<@U123|jane> broker=<@U456> <#C789|desk> U42 C42 U1 x=<@U1>y")
	users := []string{}
	for _, w := range ws {
		if id, ok := w.User(); ok {
			users = append(users, id)
		}
	}
	if want := []string{"U123", "U42"}; !slices.Equal(users, want) {
		t.Errorf("users = %q, want %q", users, want)
	}
	if ws[1].Ref.Kind != '@' || ws[1].Ref.ID != "U456" || ws[1].Key() != "broker" {
		t.Errorf("broker=<@U456>: ref %+v key %q", ws[1].Ref, ws[1].Key())
	}
	if id, ok := ws[2].Channel(); !ok || id != "C789" {
		t.Errorf("channel = %q %v", id, ok)
	}
	if ws[6].Ref.Kind != 0 {
		t.Errorf("x=<@U1>y is not one reference: %+v", ws[6].Ref)
	}
	if ws[6].Unclosed != 0 || ws[0].Quoted {
		t.Errorf("flags wrong: %+v %+v", ws[6], ws[0])
	}
}

func TestArgsRest(t *testing.T) {
	line := "acme-grain  Called re: <@U1|bob>'s \"Dec corn\"\nhedge &amp; margin"
	a := Args{line: line, Words: parseLine(line)}
	if got, want := a.Rest(1), "Called re: <@U1>'s \"Dec corn\"\nhedge & margin"; got != want {
		t.Errorf("rest = %q, want %q", got, want)
	}
	q := `acme "just this"`
	a = Args{line: q, Words: parseLine(q)}
	if got := a.Rest(1); got != "just this" {
		t.Errorf("rest of one quoted word = %q", got)
	}
	if got := a.Rest(5); got != "" {
		t.Errorf("rest past the end = %q", got)
	}
	p := Plain([]string{"acme", "multi\nline  note"})
	if got := p.Rest(1); got != "multi\nline  note" {
		t.Errorf("plain rest = %q", got)
	}
}

// FuzzParseLine checks what must hold for any line a user can type: no
// panic, valid UTF-8 out, words within the line in order, the rest of the
// line never empty while words remain, and quoted words coming back whole.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`add acme "Acme Grain Co-op" team=grain-desk`, "“x” ‘y’ «z»", "<@U1|a> <#C1|b> <mailto:a@b.c|a@b.c>",
		"&amp;&lt;&gt;", `a="b c"=d`, "<<@U1>>", "<", "<@>", "<!date^123^{date}|x>", "\xff\xfe", "\u00a0\u3000",
	} {
		f.Add(s, "plain words")
	}
	f.Fuzz(func(t *testing.T, line, extra string) {
		a := Parse(line)
		line, ws := a.line, a.Words
		last := 0
		for i, w := range ws {
			if w.Start < last || w.End < w.Start || w.End > len(line) {
				t.Fatalf("word %d %q at %d..%d out of order (line %q)", i, w.Text, w.Start, w.End, line)
			}
			last = w.End
			if !utf8.ValidString(w.Text) {
				t.Fatalf("word %q is not UTF-8", w.Text)
			}
			if w.Eq >= 0 && (w.Eq >= len(w.Text) || w.Text[w.Eq] != '=') {
				t.Fatalf("word %q: eq %d does not point at '='", w.Text, w.Eq)
			}
			if r := a.Rest(i); !utf8.ValidString(r) {
				t.Fatalf("rest(%d) = %q is not UTF-8", i, r)
			}
		}
		// A word of letters, quoted, comes back whole.
		word := strings.Map(func(r rune) rune {
			if r == '"' || r == '“' || r == '”' || r == '<' || r == '&' || r == utf8.RuneError {
				return -1
			}
			return r
		}, strings.ToValidUTF8(extra, ""))
		got := Parse(`x "` + word + `"`).Words
		if len(got) != 2 || got[1].Text != word {
			t.Fatalf("quoted %q parsed as %q", word, Texts(got))
		}
	})
}
