// Package mail turns a raw message fetched by the IMAP ingester into what a
// timeline email event needs: who wrote to whom and when, which thread it
// belongs to, the readable body, a short excerpt of what the sender wrote,
// and the attachments' names and sizes (their content is not kept).
//
// Mail from the wild is often broken. Parse keeps whatever can be read and
// lists what it tolerated in Message.Defects; it gives up only on input
// that is too large or is not a mail at all, with a *SkipError.
package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Defaults for Options.
const (
	DefaultMaxSize    = 25 << 20
	DefaultExcerptMax = 2000
)

// Address is a mailbox; Email is lower-cased.
type Address struct {
	Name, Email string
}

// Attachment describes an attached file; its content is not kept.
type Attachment struct {
	Filename    string // "" if the sender gave none
	ContentType string
	Size        int64 // decoded bytes
}

// Message is a parsed mail. All strings are valid UTF-8.
type Message struct {
	MessageID string    // without <>; "" if absent
	ThreadID  string    // root of References, else In-Reply-To, else MessageID, else ""; without <>
	Subject   string    // decoded
	Date      time.Time // zero if absent or unparseable
	// Received, for a mail without a usable Date, is the earliest time in
	// its Received fields: when the mail entered the mail system, the same
	// in every mailbox it reached. Zero if there is none, and for a mail
	// with a Date.
	Received time.Time
	From     []Address
	To, Cc   []Address
	ReplyTo  []Address
	// Text is the whole readable body: text/plain preferred, else HTML
	// converted to text.
	Text string
	// Excerpt is what the sender wrote in this message: Text without quoted
	// replies, the signature after "-- ", mobile footers, legal disclaimers
	// and the footer parts of lists and gateways, at most
	// Options.ExcerptMax runes; made from the HTML version instead where
	// that is cleaner (HTMLExcerpt).
	Excerpt   string
	Truncated bool // Excerpt was cut at the cap
	// HTMLExcerpt: the Excerpt was made from the HTML version of a
	// multipart/alternative, whose markup shows where the quoted history
	// starts more clearly than the plain text does, or whose plain text is
	// a stub.
	HTMLExcerpt bool
	Attachments []Attachment
	// ContentHash is the hex SHA-256 of Date, From, To, Subject and the
	// body text, normalised; the idempotency key when MessageID is "".
	ContentHash string
	// Defects lists what was wrong with the message and how it was read
	// anyway (bad base64 part skipped, unknown charset guessed, ...), for
	// logs and metrics; nil for a well-formed message.
	Defects []Defect
}

// Defect is one thing wrong with a message that was read anyway.
type Defect struct {
	Kind   DefectKind
	Detail string // for people
}

func (d Defect) String() string { return string(d.Kind) + ": " + d.Detail }

// DefectKind sorts defects for metrics.
type DefectKind string

// Kinds of defects.
const (
	LenientHeader   DefectKind = "lenient_header"   // header lines repaired: stray text, indented or spaced field names
	LenientAddress  DefectKind = "lenient_address"  // an address field that breaks RFC 5322, read leniently
	BadDate         DefectKind = "bad_date"         // unparseable Date
	BadBase64       DefectKind = "bad_base64"       // a part skipped
	UnknownCharset  DefectKind = "unknown_charset"  // read as UTF-8 or Windows-1252
	WrongCharset    DefectKind = "wrong_charset"    // text not in the charset it was labelled with
	UnknownEncoding DefectKind = "unknown_encoding" // Content-Transfer-Encoding read as is
	BrokenMIME      DefectKind = "broken_mime"      // missing boundary, truncated part, unknown Content-Type
	OverLimit       DefectKind = "over_limit"       // a field, nesting or part count over a bound: the rest ignored
)

// Options bound the work done on one message. Zero values mean the defaults.
type Options struct {
	MaxSize    int64 // bytes; larger messages are skipped. Default 25 MiB.
	ExcerptMax int   // runes. Default 2000.
}

// SkipError says why a message is not ingested.
type SkipError struct {
	Kind   SkipKind // for counting skips
	Reason string   // for people; starts with the kind in words ("too large: ...")
}

// SkipKind sorts skipped messages for metrics.
type SkipKind string

// Kinds of skipped messages.
const (
	TooLarge      SkipKind = "too_large"
	NotAMail      SkipKind = "not_a_mail"
	ParserFailure SkipKind = "parser_failure"
)

func (e *SkipError) Error() string { return "mail skipped: " + e.Reason }

// Parse reads one RFC 5322 message from r, reading at most
// opts.MaxSize+1 bytes. It returns a *SkipError for input that is too large
// or not a mail, and another error only when reading r fails, which the
// caller may retry. It never panics.
func Parse(r io.Reader, opts Options) (*Message, error) {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	// Reading first rejects an oversize message before any parsing work.
	raw, err := io.ReadAll(io.LimitReader(r, opts.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("mail: reading message: %w", err)
	}
	return ParseBytes(raw, opts)
}

// ParseBytes is Parse for a message already in memory, which it does not
// copy. Its only errors are *SkipError.
func ParseBytes(raw []byte, opts Options) (msg *Message, err error) {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.ExcerptMax <= 0 {
		opts.ExcerptMax = DefaultExcerptMax
	}
	if int64(len(raw)) > opts.MaxSize {
		return nil, &SkipError{Kind: TooLarge, Reason: fmt.Sprintf("too large: over the %s limit", formatSize(opts.MaxSize))}
	}
	defer func() {
		if p := recover(); p != nil {
			msg, err = nil, &SkipError{Kind: ParserFailure, Reason: fmt.Sprintf("parser failure: %v", p)}
		}
	}()
	return parse(bytes.NewReader(raw), opts)
}

func parse(in io.Reader, opts Options) (*Message, error) {
	br := bufio.NewReader(in)
	h, defects, err := readHeader(br)
	if err != nil {
		return nil, err
	}
	w := &walker{defects: defects, limit: excerptLimit(opts.ExcerptMax)}
	m := &Message{
		Subject: cleanLine(decodeWords(h.Get("Subject"))),
		From:    addressList(field(h, "From", maxAddressField, w), "From", w),
		To:      addressList(field(h, "To", maxAddressField, w), "To", w),
		Cc:      addressList(field(h, "Cc", maxAddressField, w), "Cc", w),
		ReplyTo: addressList(field(h, "Reply-To", maxAddressField, w), "Reply-To", w),
	}
	if v := field(h, "Date", maxDateField, w); v != "" {
		if d, err := parseDate(v); err == nil {
			m.Date = d
		} else {
			w.defect(BadDate, "unparseable Date %q", clip(v))
		}
	}
	if m.Date.IsZero() {
		m.Received = earliestReceived(h)
	}
	m.MessageID = firstMsgID(field(h, "Message-Id", maxIDField, w))
	m.ThreadID = firstMsgID(field(h, "References", maxIDField, w))
	if m.ThreadID == "" {
		m.ThreadID = firstMsgID(field(h, "In-Reply-To", maxIDField, w))
	}
	if m.ThreadID == "" {
		m.ThreadID = m.MessageID
	}

	b := w.entity(h, br, 0, false)
	var own string
	m.Text, own = b.render()
	m.HTMLExcerpt = b.fromHTML
	m.Excerpt, m.Truncated = excerpt(own, m.Text, opts.ExcerptMax, b.ownDone)
	m.Attachments = w.attachments
	m.Defects = w.defects
	m.ContentHash = contentHash(m, h.Get("Date"))
	return m, nil
}

// readHeader reads the header block. Lines that are neither a field nor a
// continuation (a wrapped Subject that lost its indent, stray 8-bit text)
// are kept as continuations of the field before them, as lenient mail
// readers do. Fields written loosely are repaired: space before the colon
// ("From  :"), and an indented line that is the first of a field a reader
// cannot do without (" From: ...", with an address) rather than a
// continuation. Input whose first line is not a field, or that has none of
// the fields every mail has, is not a mail.
func readHeader(br *bufio.Reader) (textproto.Header, []Defect, error) {
	var raw bytes.Buffer
	var defects []Defect
	note := func(format string, args ...any) {
		if len(defects) < 5 {
			defects = append(defects, Defect{LenientHeader, fmt.Sprintf(format, args...)})
		}
	}
	var seen []string // lower-cased names of the fields read so far
lines:
	for n := 0; ; n++ {
		line, err := br.ReadBytes('\n') // reads from memory: only io.EOF
		if err != nil && err != io.EOF {
			return textproto.Header{}, nil, &SkipError{Kind: NotAMail, Reason: "not a mail: unreadable header"}
		}
		content := bytes.TrimRight(line, "\r\n")
		switch {
		case len(content) == 0 && len(line) == 0:
			// end of input right after the header
		case len(content) == 0:
			raw.WriteString("\r\n")
			break lines
		case n == 0 && bytes.HasPrefix(content, []byte("From ")) && !isFieldLine(content):
			// an mbox separator line
			n = -1
			continue
		case content[0] == ' ' || content[0] == '\t':
			trimmed := bytes.TrimLeft(content, " \t")
			if name := fieldKey(trimmed); name != "" && (n == 0 || isLostField(name, trimmed, seen)) {
				note("indented field %q read as a field", clip(name))
				content = trimmed
				break
			}
			if n == 0 {
				return textproto.Header{}, nil, &SkipError{Kind: NotAMail, Reason: "not a mail: starts with a continuation line"}
			}
		case !isFieldLine(content):
			if n == 0 {
				return textproto.Header{}, nil, &SkipError{Kind: NotAMail, Reason: "not a mail: no header"}
			}
			note("malformed header line %q kept as continuation", clip(string(content)))
			raw.WriteByte(' ')
		}
		if name := fieldKey(content); name != "" && content[0] != ' ' && content[0] != '\t' {
			seen = append(seen, strings.ToLower(name))
			if i := bytes.IndexByte(content, ':'); i != len(name) {
				note("space before the colon of %q removed", clip(name))
				content = append([]byte(name), content[i:]...)
			}
		}
		raw.Write(content)
		raw.WriteString("\r\n")
		if err == io.EOF {
			raw.WriteString("\r\n")
			break
		}
	}
	h, err := textproto.ReadHeader(bufio.NewReader(&raw))
	if err != nil {
		return textproto.Header{}, nil, &SkipError{Kind: NotAMail, Reason: "not a mail: unreadable header"}
	}
	for _, k := range []string{"From", "To", "Subject", "Date", "Message-Id"} {
		if h.Has(k) {
			return h, defects, nil
		}
	}
	return textproto.Header{}, nil, &SkipError{Kind: NotAMail, Reason: "not a mail: no From, To, Subject, Date or Message-ID"}
}

func isFieldLine(line []byte) bool { return fieldKey(line) != "" }

// fieldKey returns the name of a "Name: value" line, without the space
// some mailers put before the colon, or "".
func fieldKey(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return ""
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return ""
		}
	}
	return string(key)
}

// lostFields are the fields whose indented first line is read as the field
// rather than as a continuation of the one before, when not present yet.
var lostFields = map[string]bool{"from": true, "to": true, "cc": true, "reply-to": true,
	"date": true, "subject": true, "message-id": true}

func isLostField(name string, line []byte, seen []string) bool {
	name = strings.ToLower(name)
	if !lostFields[name] || slices.Contains(seen, name) {
		return false
	}
	switch name {
	case "from", "to", "cc", "reply-to":
		return bytes.IndexByte(line, '@') > 0
	}
	return true
}

// Header values are cut to these lengths before the structured parsers
// see them. No real field is longer, and go-message's msg-id parser takes
// time quadratic in the length of a comment.
const (
	maxIDField      = 4 << 10 // only the first id is used
	maxAddressField = 64 << 10
	maxDateField    = 256
)

func field(h textproto.Header, key string, max int, w *walker) string {
	v := h.Get(key)
	if len(v) > max {
		w.defect(OverLimit, "%s longer than %d bytes, the rest ignored", key, max)
		v = v[:max]
	}
	return v
}

// firstMsgID returns the first message id in a Message-ID, References or
// In-Reply-To value, without <>. Ids that break RFC 5322 (no '@', spaces)
// are still taken from between the angle brackets.
func firstMsgID(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	var h gomail.Header
	h.Set("References", v)
	if ids, _ := h.MsgIDList("References"); len(ids) > 0 {
		return cleanLine(ids[0])
	}
	if _, rest, ok := strings.Cut(v, "<"); ok {
		if id, _, ok := strings.Cut(rest, ">"); ok && strings.TrimSpace(id) != "" {
			return cleanLine(strings.TrimSpace(id))
		}
	}
	if f := strings.Fields(v); len(f) > 0 {
		return cleanLine(strings.Trim(f[0], "<>"))
	}
	return ""
}

// decodeWords decodes RFC 2047 encoded words. Unknown charsets and raw
// 8-bit bytes, both seen in real headers, are read as best as possible.
func decodeWords(s string) string {
	dec := mime.WordDecoder{CharsetReader: wordCharsetReader}
	out, err := dec.DecodeHeader(s)
	if err != nil {
		out = s
	}
	if !utf8.ValidString(out) {
		out, _ = toUTF8([]byte(out), "")
	}
	return out
}

// wordCharsetReader applies the same guesses to encoded words as to bodies.
func wordCharsetReader(label string, r io.Reader) (io.Reader, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	s, _ := toUTF8(raw, label)
	return strings.NewReader(s), nil
}

// cleanLine makes a header value a single line of valid UTF-8 without
// control characters.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// cleanText normalises line ends, drops control characters other than tab
// and newline, and trims trailing space and blank lines.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r == '\ufeff':
			return -1
		}
		return r
	}, s)
	return tidy(s)
}

// contentHash identifies a message by what a reader sees, so the same mail
// fetched twice without a Message-ID is recognised.
func contentHash(m *Message, rawDate string) string {
	date := strings.TrimSpace(rawDate)
	if !m.Date.IsZero() {
		date = m.Date.UTC().Format(time.RFC3339)
	}
	emails := func(as []Address) string {
		s := make([]string, len(as))
		for i, a := range as {
			s[i] = a.Email
		}
		return strings.Join(s, ",")
	}
	h := sha256.New()
	bw := bufio.NewWriter(h)
	fmt.Fprintf(bw, "date:%s\nfrom:%s\nto:%s\nsubject:%s\n\n",
		cleanLine(date), emails(m.From), emails(m.To), m.Subject)
	for word := range strings.FieldsSeq(m.Text) {
		bw.WriteString(word)
		bw.WriteByte(' ')
	}
	bw.Flush() // writes to a hash do not fail
	return hex.EncodeToString(h.Sum(nil))
}

func formatSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
