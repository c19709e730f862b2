package mail

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// renderHTML renders an HTML body as the text a reader would see: markup,
// scripts, styles and the head are dropped, block elements start new lines,
// entities are decoded and runs of whitespace collapse to one space.
// Blockquotes are prefixed with "> " so that quoted replies in HTML mail are
// recognised by the same rules as in plain text mail. own is the text
// before the first element mail clients wrap the quoted history in
// (Outlook's divRplyFwdMsg and the ruled border above its header block,
// Gmail's gmail_quote, Yahoo's yahoo_quoted, Thunderbird's
// moz-cite-prefix): what the sender wrote, by the sender's own client's
// account; the whole text when there is no such element.
func renderHTML(src string) (text, own string) {
	text, own, _ = render(src, false)
	return text, own
}

// renderHTMLOwn renders only what the sender wrote: the text before the
// quoted history. marked reports whether the markup marks any quoted
// history (an element of renderHTML's, or a blockquote).
func renderHTMLOwn(src string) (own string, marked bool) {
	_, own, marked = render(src, true)
	return own, marked
}

// mayMarkHistory is a quick look for what renderHTML's markers are made
// of, as mail clients spell them, so that HTML without any need not be
// rendered.
func mayMarkHistory(src string) bool {
	for _, m := range historyHints {
		if strings.Contains(src, m) {
			return true
		}
	}
	return false
}

var historyHints = append([]string{"<blockquote", "<BLOCKQUOTE"}, stopHints...)

// stopHints are what the markers renderHTMLOwn stops at are made of.
var stopHints = []string{"divRplyFwdMsg", "appendonsend", "OLK_SRC_BODY_SECTION", "mail-editor-reference-message-container",
	"gmail_quote", "yahoo_quoted", "moz-cite-prefix", "OutlookMessageHeader", "protonmail_quote",
	"#E1E1E1", "#e1e1e1", "#B5C4DF", "#b5c4df"}

// render is renderHTML; with stop, it stops at the quoted history (text
// is then own).
func render(src string, stop bool) (text, own string, marked bool) {
	z := html.NewTokenizer(strings.NewReader(src))
	var w textWriter
	history := -1 // output length where the quoted history starts
	skip := 0     // depth inside elements whose content is never shown
	inHead := false
	pre := 0
	msoP := false // the current <p> is Outlook's MsoNormal
	pStart := 0   // output length when it started: an empty one is a blank line
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF or a tokenizer error: either way, what was read is kept.
			out := w.b.String()
			if history < 0 {
				t := tidy(out)
				return t, t, w.quoted
			}
			return tidy(out), tidy(out[:history]), true
		case html.TextToken:
			if skip > 0 || inHead {
				continue
			}
			if pre > 0 {
				w.preformatted(string(z.Text()))
			} else {
				w.words(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			start := tt != html.EndTagToken
			selfClosing := tt == html.SelfClosingTagToken
			switch a {
			case atom.Script, atom.Style, atom.Title, atom.Template, atom.Textarea:
				if selfClosing {
					continue
				}
				if start {
					skip++
				} else if skip > 0 {
					skip--
				}
				continue
			case atom.Head:
				// A missing </head> must not hide the body, so <body> ends it too.
				inHead = start && !selfClosing
				continue
			case atom.Body:
				inHead = false
				continue
			}
			if skip > 0 || inHead {
				continue
			}
			if start && hasAttr && a != atom.P && history < 0 && isHistoryMarker(z) {
				history = w.b.Len()
				hasAttr = false
				if stop {
					t := tidy(w.b.String())
					return t, t, true
				}
			}
			switch a {
			case atom.Br:
				w.lineBreak()
			case atom.P:
				// Outlook writes every line as <p class=MsoNormal> with no
				// margin, and blank lines as paragraphs of &nbsp;.
				if start {
					msoP = hasAttr && isMsoNormal(z)
					pStart = w.b.Len()
				}
				if msoP && (start || w.b.Len() > pStart) {
					w.breakLines(1)
				} else {
					w.breakLines(2)
				}
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Ul, atom.Ol, atom.Table, atom.Hr, atom.Dl:
				w.breakLines(2)
			case atom.Blockquote:
				w.breakLines(2)
				if selfClosing {
					continue
				}
				if start {
					w.quote++
					w.quoted = true
				} else if w.quote > 0 {
					w.quote--
				}
			case atom.Pre:
				w.breakLines(2)
				if selfClosing {
					continue
				}
				if start {
					pre++
				} else if pre > 0 {
					pre--
				}
			case atom.Li:
				w.breakLines(1)
				if start {
					w.emit("- ")
				}
			case atom.Div, atom.Tr, atom.Dt, atom.Dd, atom.Section, atom.Article,
				atom.Header, atom.Footer, atom.Nav, atom.Aside, atom.Address,
				atom.Figure, atom.Figcaption, atom.Center, atom.Form, atom.Fieldset,
				atom.Main, atom.Caption, atom.Tbody, atom.Thead, atom.Tfoot:
				w.breakLines(1)
			case atom.Td, atom.Th:
				w.space = true
			}
		}
	}
}

// isHistoryMarker reads a start tag's attributes: does the element hold
// (or, for Outlook's ruled border, start) the quoted history?
func isHistoryMarker(z *html.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		v := strings.ToLower(string(val))
		switch string(key) {
		case "id":
			switch strings.TrimPrefix(v, "x_") { // OWA prefixes ids with x_
			case "divrplyfwdmsg", "appendonsend", "olk_src_body_section", "mail-editor-reference-message-container":
				return true
			}
		case "class":
			for _, c := range strings.Fields(v) {
				switch strings.TrimPrefix(c, "x_") {
				case "gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix", "outlookmessageheader", "protonmail_quote":
					return true
				}
			}
		case "style":
			// Outlook's rule above the header block of the message replied to.
			v = strings.ReplaceAll(v, " ", "")
			if strings.Contains(v, "border-top:solid#e1e1e1") || strings.Contains(v, "border-top:solid#b5c4df") {
				return true
			}
		}
		if !more {
			return false
		}
	}
}

func isMsoNormal(z *html.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		if string(key) == "class" && strings.Contains(strings.ToLower(string(val)), "msonormal") {
			return true
		}
		if !more {
			return false
		}
	}
}

// textWriter accumulates rendered text, deferring spaces and line breaks
// until the next visible text so that none pile up at the edges.
type textWriter struct {
	b        strings.Builder
	newlines int  // line breaks owed before the next text, at most 2
	space    bool // a space is owed before the next text on the same line
	midLine  bool // the last thing written was text, not a line break
	quote    int  // blockquote depth
	quoted   bool // a blockquote was seen
}

func (w *textWriter) breakLines(n int) {
	if n > w.newlines {
		w.newlines = n
	}
	w.space = false
}

func (w *textWriter) lineBreak() {
	if w.newlines < 2 {
		w.newlines++
	}
	w.space = false
}

// words writes a text node outside <pre>, collapsing whitespace.
func (w *textWriter) words(s string) {
	fields := strings.FieldsFunc(s, isHTMLSpace)
	if len(fields) == 0 {
		if s != "" {
			w.space = true
		}
		return
	}
	if first, _ := utf8.DecodeRuneInString(s); isHTMLSpace(first) {
		w.space = true
	}
	w.emit(strings.Join(fields, " "))
	last, _ := utf8.DecodeLastRuneInString(s)
	w.space = isHTMLSpace(last)
}

func (w *textWriter) preformatted(s string) {
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			w.newlines++
		}
		if line = strings.TrimRight(line, " \t\r"); line != "" {
			w.emit(line)
		}
	}
}

func (w *textWriter) emit(s string) {
	if w.b.Len() > 0 && w.newlines > 0 {
		w.b.WriteString(strings.Repeat("\n", w.newlines))
		w.midLine = false
	} else if w.space && w.midLine {
		w.b.WriteByte(' ')
	}
	w.newlines, w.space = 0, false
	if !w.midLine && w.quote > 0 {
		w.b.WriteString(strings.Repeat("> ", min(w.quote, 10)))
	}
	w.b.WriteString(s)
	w.midLine = true
}

// isHTMLSpace treats no-break and zero-width spaces as ordinary whitespace:
// Outlook fills empty paragraphs with &nbsp; and nobody wants to keep them.
func isHTMLSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u00a0' || r == '\u200b' || r == '\ufeff'
}
