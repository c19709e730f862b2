// Package segment is the filter language of client segments (SPEC §5):
// parsing a filter such as `asset:energy risk>=7 last.contact>30d`, with
// errors that point at the bad term, and compiling it to parameterised SQL
// for PostgreSQL and the embedded SQLite store. Values never become SQL
// text: every one is a parameter.
package segment

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brokersync/brokersync/store"
)

// Limits keep a filter something a person wrote: the parser and compiler
// stay linear and shallow whatever they are given.
const (
	MaxLength = 2000 // runes
	MaxTerms  = 100
	MaxDepth  = 20 // nested parentheses and negations
)

// Node is a parsed filter: *And, *Or, *Not or *Term.
type Node interface{ span() (int, int) }

// And holds when every one of Nodes does.
type And struct {
	Nodes      []Node
	Start, End int
}

// Or holds when any of Nodes does.
type Or struct {
	Nodes      []Node
	Start, End int
}

// Not holds when X does not.
type Not struct {
	X          Node
	Start, End int
}

// Term is one condition, name op value, e.g. risk>=7. Start and End are
// rune offsets in the filter.
type Term struct {
	Name       string // as defined, lower case: "trades.30d"
	Op         string // ":", "=", "!=", "<", "<=", ">", ">="
	Value      string // unquoted
	Start, End int

	def *termDef
	val value // checked and converted
}

func (n *And) span() (int, int)  { return n.Start, n.End }
func (n *Or) span() (int, int)   { return n.Start, n.End }
func (n *Not) span() (int, int)  { return n.Start, n.End }
func (n *Term) span() (int, int) { return n.Start, n.End }

// Filter is a parsed filter and the text it came from.
type Filter struct {
	Text string
	Root Node // nil for an empty filter, which matches every client

	cat *store.Catalogue // what it was parsed against; Resolve parses the segments it names against it too
}

// Error is a malformed filter: Start and End (rune offsets) mark the bad
// part, Suggest is the nearest term name when a name was not known.
type Error struct {
	Filter     string
	Start, End int
	Msg        string
	Suggest    string
}

func (e *Error) Error() string {
	msg := e.Msg
	if e.Suggest != "" {
		msg += "; did you mean " + e.Suggest + "?"
	}
	return msg
}

// Caret shows the filter with the bad part marked beneath it:
//
//	asset:energy rsk>=7
//	             ^~~~~~
func (e *Error) Caret() string { return Caret(e.Filter, e.Start, e.End) }

// Caret shows text with the runes from start to end marked beneath it: a
// caret and tildes. Tabs and newlines would misplace the mark, so they show
// as spaces.
func Caret(text string, start, end int) string {
	runes := []rune(text)
	start, end = min(max(start, 0), len(runes)), min(max(end, start+1), len(runes)+1)
	line := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, text)
	return line + "\n" + strings.Repeat(" ", start) + "^" + strings.Repeat("~", max(end-start-1, 0))
}

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tOr
	tAnd
	tNot  // NOT or a leading -
	tTerm // name op value
	tWord // a word with no operator
)

type token struct {
	kind       tokKind
	text       string // the source text
	name, op   string
	value      string
	start, end int // rune offsets
	vstart     int // where the value starts, its quote included
}

// lexer walks the filter rune by rune.
type lexer struct {
	src  []rune
	pos  int
	text string
}

func isNameRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_')
}

func (l *lexer) errAt(start, end int, format string, a ...any) *Error {
	return &Error{Filter: l.text, Start: start, End: end, Msg: fmt.Sprintf(format, a...)}
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && unicode.IsSpace(l.src[l.pos]) {
		l.pos++
	}
	if l.pos >= len(l.src) {
		return token{kind: tEOF, start: l.pos, end: l.pos}, nil
	}
	start := l.pos
	switch r := l.src[l.pos]; {
	case r == '(':
		l.pos++
		return token{kind: tLParen, text: "(", start: start, end: l.pos}, nil
	case r == ')':
		l.pos++
		return token{kind: tRParen, text: ")", start: start, end: l.pos}, nil
	case r == '-' || r == '!':
		l.pos++
		return token{kind: tNot, text: string(r), start: start, end: l.pos}, nil
	case r == '"' || r == '\'':
		// A quoted value with no name before it.
		v, err := l.quoted()
		if err != nil {
			return token{}, err
		}
		return token{kind: tWord, text: string(l.src[start:l.pos]), value: v, start: start, end: l.pos}, nil
	}
	for l.pos < len(l.src) && isNameRune(l.src[l.pos]) {
		l.pos++
	}
	name := string(l.src[start:l.pos])
	op := l.op()
	if op == "" {
		// A word: OR, AND, NOT, or a term without an operator.
		for l.pos < len(l.src) && !unicode.IsSpace(l.src[l.pos]) && l.src[l.pos] != '(' && l.src[l.pos] != ')' {
			l.pos++
		}
		word := string(l.src[start:l.pos])
		switch word {
		case "OR", "or", "||":
			return token{kind: tOr, text: word, start: start, end: l.pos}, nil
		case "AND", "and", "&&":
			return token{kind: tAnd, text: word, start: start, end: l.pos}, nil
		case "NOT", "not":
			return token{kind: tNot, text: word, start: start, end: l.pos}, nil
		}
		if word == "" {
			// A rune that starts nothing: skip it as one word.
			l.pos++
			word = string(l.src[start:l.pos])
		}
		return token{kind: tWord, text: word, value: word, start: start, end: l.pos}, nil
	}
	var v string
	vstart := l.pos
	if l.pos < len(l.src) && (l.src[l.pos] == '"' || l.src[l.pos] == '\'') {
		var err error
		if v, err = l.quoted(); err != nil {
			return token{}, err
		}
	} else {
		vs := l.pos
		for l.pos < len(l.src) && !unicode.IsSpace(l.src[l.pos]) && l.src[l.pos] != '(' && l.src[l.pos] != ')' {
			l.pos++
		}
		v = string(l.src[vs:l.pos])
	}
	return token{kind: tTerm, text: string(l.src[start:l.pos]), name: strings.ToLower(name), op: op, value: v, start: start, end: l.pos, vstart: vstart}, nil
}

// op reads a comparison operator, if one is next.
func (l *lexer) op() string {
	rest := l.src[l.pos:]
	for _, op := range []string{"<=", ">=", "!=", "<>", ":", "=", "<", ">"} {
		if len(rest) >= len(op) && string(rest[:len(op)]) == op {
			l.pos += len(op)
			if op == "<>" {
				return "!="
			}
			return op
		}
	}
	return ""
}

// quoted reads a value in single or double quotes; a quote is doubled or
// escaped with a backslash to stand for itself.
func (l *lexer) quoted() (string, error) {
	q := l.src[l.pos]
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		r := l.src[l.pos]
		switch {
		case r == '\\' && l.pos+1 < len(l.src):
			b.WriteRune(l.src[l.pos+1])
			l.pos += 2
			continue
		case r == q && l.pos+1 < len(l.src) && l.src[l.pos+1] == q:
			b.WriteRune(q)
			l.pos += 2
			continue
		case r == q:
			l.pos++
			return b.String(), nil
		}
		b.WriteRune(r)
		l.pos++
	}
	return "", l.errAt(start, len(l.src), "this quote is never closed: end the value with %c", q)
}

// parser is a recursive descent over the tokens:
//
//	or    = and { OR and }
//	and   = unary { [AND] unary }
//	unary = ( - | NOT ) unary | primary
//	primary = ( or ) | term
type parser struct {
	cat   *store.Catalogue
	lex   lexer
	tok   token
	depth int
	terms int
}

// Parse parses a filter, checking commodities and asset classes against
// cat. An empty filter (only spaces) matches every client. The error is an
// *Error.
func Parse(text string, cat *store.Catalogue) (*Filter, error) {
	f := &Filter{Text: text, cat: cat}
	if n := utf8.RuneCountInString(text); n > MaxLength {
		return nil, &Error{Filter: text, Start: MaxLength, End: n, Msg: fmt.Sprintf("a filter has at most %d characters; this one has %d", MaxLength, n)}
	}
	if !utf8.ValidString(text) {
		return nil, &Error{Filter: strings.ToValidUTF8(text, "\uFFFD"), Msg: "the filter is not valid UTF-8 text"}
	}
	for i, r := range []rune(text) {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return nil, &Error{Filter: text, Start: i, End: i + 1, Msg: fmt.Sprintf("the filter holds a control character (%U)", r)}
		}
	}
	p := &parser{cat: cat, lex: lexer{src: []rune(text), text: text}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return f, nil
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		if p.tok.kind == tRParen {
			return nil, p.errTok("this ) closes no (")
		}
		return nil, p.errTok("unexpected %q", p.tok.text)
	}
	f.Root = root
	return f, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errTok(format string, a ...any) *Error {
	return p.lex.errAt(p.tok.start, p.tok.end, format, a...)
}

func (p *parser) or() (Node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for p.tok.kind == tOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tEOF || p.tok.kind == tRParen || p.tok.kind == tOr {
			return nil, p.errTok("OR needs a term after it")
		}
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	s, _ := nodes[0].span()
	_, e := nodes[len(nodes)-1].span()
	return &Or{Nodes: nodes, Start: s, End: e}, nil
}

func (p *parser) and() (Node, error) {
	var nodes []Node
	for {
		switch p.tok.kind {
		case tEOF, tRParen, tOr:
			if len(nodes) == 0 {
				if p.tok.kind == tOr {
					return nil, p.errTok("OR needs a term before it")
				}
				if p.tok.kind == tRParen {
					return nil, p.errTok("empty parentheses: put terms between them")
				}
				return nil, p.errTok("a term is missing here")
			}
			if len(nodes) == 1 {
				return nodes[0], nil
			}
			s, _ := nodes[0].span()
			_, e := nodes[len(nodes)-1].span()
			return &And{Nodes: nodes, Start: s, End: e}, nil
		case tAnd:
			if len(nodes) == 0 {
				return nil, p.errTok("AND needs a term before it")
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if k := p.tok.kind; k == tEOF || k == tRParen || k == tOr || k == tAnd {
				return nil, p.errTok("AND needs a term after it")
			}
			continue
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
}

func (p *parser) unary() (Node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, p.errTok("nested too deep: at most %d levels of parentheses and negations", MaxDepth)
	}
	switch p.tok.kind {
	case tNot:
		start := p.tok.start
		if err := p.advance(); err != nil {
			return nil, err
		}
		if k := p.tok.kind; k != tTerm && k != tLParen && k != tNot && k != tWord {
			return nil, p.lex.errAt(start, start+1, "- must come right before a term or (, as in -tag:vip")
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		_, end := x.span()
		return &Not{X: x, Start: start, End: end}, nil
	case tLParen:
		start := p.tok.start
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tRParen {
			return nil, p.lex.errAt(start, p.tok.end, "empty parentheses: put terms between them")
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.lex.errAt(start, start+1, "this ( is never closed")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return x, nil
	case tTerm:
		t := p.tok
		if p.terms++; p.terms > MaxTerms {
			return nil, p.errTok("a filter has at most %d terms", MaxTerms)
		}
		term, err := p.term(t)
		if err != nil {
			return nil, err
		}
		return term, p.advance()
	case tWord:
		return nil, p.wordError(p.tok)
	}
	return nil, p.errTok("unexpected %q", p.tok.text)
}

// wordError explains a word that is not a term: most likely a term with
// its operator missing, or a value typed alone.
func (p *parser) wordError(t token) *Error {
	e := p.lex.errAt(t.start, t.end, "%q is not a term: write name:value, e.g. tag:vip or risk>=7", t.text)
	d := nearest(strings.ToLower(t.value))
	switch def := lookupDef(strings.ToLower(t.value)); {
	case def != nil:
		e.Msg = fmt.Sprintf("%s needs an operator and a value, e.g. %s", t.text, def.example)
	case d != "":
		e.Suggest = d + ":…"
	}
	if name := valueTerm(p.cat, t.value); name != "" && e.Suggest == "" {
		e.Suggest = name + ":" + t.value
	}
	return e
}

func (p *parser) term(t token) (*Term, error) {
	def := lookupDef(t.name)
	if why, ok := notYet[t.name]; ok {
		return nil, p.lex.errAt(t.start, t.end, "%s: %s", t.name, why)
	}
	if def == nil {
		e := p.lex.errAt(t.start, t.start+utf8.RuneCountInString(t.name), "%q is not a term", t.name)
		if t.name == "" {
			e.End = t.end
			e.Msg = fmt.Sprintf("%q has no term name before its operator", t.text)
		}
		e.Suggest = nearest(t.name)
		return nil, e
	}
	term := &Term{Name: def.name, Op: t.op, Value: t.value, Start: t.start, End: t.end, def: def}
	if !strings.Contains(def.ops, " "+t.op+" ") {
		return nil, p.lex.errAt(t.start, t.end, "%s takes %s, e.g. %s", def.name, opsText(def.ops), def.example)
	}
	if t.value == "" {
		return nil, p.lex.errAt(t.start, t.end, "%s needs a value, e.g. %s", def.name, def.example)
	}
	var v value
	var err error
	if def.parseIn != nil {
		v, err = def.parseIn(p.cat, t.value)
	} else {
		v, err = def.parse(t.value)
	}
	if err != nil {
		return nil, p.lex.errAt(t.vstart, t.end, "%s: %v", def.name, err)
	}
	term.val = v
	return term, nil
}

func opsText(ops string) string {
	f := strings.Fields(ops)
	if len(f) == 1 {
		return "only " + f[0]
	}
	return strings.Join(f[:len(f)-1], " ") + " or " + f[len(f)-1]
}

// Uses lists the term names the filter uses, in order of first use.
func (f *Filter) Uses() []string {
	var out []string
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *And:
			for _, x := range n.Nodes {
				walk(x)
			}
		case *Or:
			for _, x := range n.Nodes {
				walk(x)
			}
		case *Not:
			walk(n.X)
		case *Term:
			for _, u := range out {
				if u == n.Name {
					return
				}
			}
			out = append(out, n.Name)
		}
	}
	if f != nil {
		walk(f.Root)
	}
	return out
}

// String writes the filter back in canonical form: names lower case,
// values quoted where they need it, OR groups in parentheses.
func (f *Filter) String() string {
	if f == nil || f.Root == nil {
		return ""
	}
	return format(f.Root, false)
}

func format(n Node, nested bool) string {
	switch n := n.(type) {
	case *And:
		parts := make([]string, len(n.Nodes))
		for i, x := range n.Nodes {
			parts[i] = format(x, true)
		}
		return strings.Join(parts, " ")
	case *Or:
		parts := make([]string, len(n.Nodes))
		for i, x := range n.Nodes {
			parts[i] = format(x, false)
		}
		s := strings.Join(parts, " OR ")
		if nested {
			s = "(" + s + ")"
		}
		return s
	case *Not:
		inner := format(n.X, true)
		if _, ok := n.X.(*And); ok {
			inner = "(" + inner + ")"
		}
		return "-" + inner
	case *Term:
		v := n.Value
		if v == "" || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`()"'\`, r) }) {
			v = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		return n.Name + n.Op + v
	}
	return ""
}
