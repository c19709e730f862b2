package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"slices"
	"strings"
	"unicode/utf8"

	// Also registers the charsets go-message's address parser decodes with.
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
)

// Bounds on the MIME tree; real mail stays far below them, crafted mail
// must not make the ingester recurse or loop without end.
const (
	maxDepth = 16
	maxParts = 500
)

// bodyKind says where a part's readable text came from, so that
// multipart/alternative can prefer text/plain over converted HTML.
type bodyKind int

const (
	noBody bodyKind = iota
	plainBody
	htmlBody
)

// body is a part's readable text. HTML is converted only when read.
type body struct {
	kind bodyKind
	text string // plain text, or the HTML source for htmlBody
	// own is, for plainBody, the text the excerpt is made from: text
	// without the footers lists and gateways add as parts of their own, or
	// the cleaner version of a multipart/alternative.
	own string
	// fromHTML: own is the HTML version's, while text is the plain one.
	fromHTML bool
	// ownDone: own is ownText's result already.
	ownDone bool
	// undecoded holds an HTML alternative to a plain version as it came,
	// decoded only if needed (htmlBody with text "").
	undecoded *undecodedPart
}

type undecodedPart struct {
	raw    []byte
	enc    string
	params map[string]string
}

func plain(text string) body { return body{kind: plainBody, text: text, own: text} }

// render returns the readable text and the text the excerpt is made from.
func (b body) render() (text, own string) {
	if b.kind == htmlBody {
		text, own = renderHTML(b.text)
		return cleanText(text), cleanText(own)
	}
	return b.text, b.own
}

// walker reads a MIME tree, collecting readable text and attachments and
// noting what it had to tolerate.
type walker struct {
	parts       int
	attachments []Attachment
	defects     []Defect
	// limit is how much text the excerpt looks at (excerptLimit).
	limit int
	// plainFound is set while reading the rest of a multipart/alternative
	// whose text/plain version was found: its HTML is decoded only if needed.
	plainFound bool
}

func (w *walker) defect(kind DefectKind, format string, args ...any) {
	d := Defect{Kind: kind, Detail: fmt.Sprintf(format, args...)}
	if len(w.defects) < 20 && !slices.Contains(w.defects, d) {
		w.defects = append(w.defects, d)
	}
}

// entity reads one MIME entity (header h, undecoded body r), whole message
// or part, and returns its readable text.
func (w *walker) entity(h textproto.Header, r io.Reader, depth int, inRelated bool) body {
	mediaType, params := mediaHeader(h, "Content-Type")
	if mediaType == "" {
		mediaType = "text/plain"
	} else if !strings.Contains(mediaType, "/") {
		w.defect(BrokenMIME, "unknown Content-Type %q read as text/plain", clip(mediaType))
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if params["boundary"] == "" {
			w.defect(BrokenMIME, "%s without boundary read as text", mediaType)
			return w.leaf(h, "text/plain", params, r, inRelated)
		}
		return w.multipart(mediaType, params["boundary"], r, depth)
	}
	return w.leaf(h, mediaType, params, r, inRelated)
}

func (w *walker) multipart(mediaType, boundary string, r io.Reader, depth int) body {
	if depth >= maxDepth {
		w.defect(OverLimit, "multipart nested deeper than %d levels skipped", maxDepth)
		_, _ = io.Copy(io.Discard, r)
		return body{}
	}
	if mediaType == "multipart/alternative" {
		defer func(found bool) { w.plainFound = found }(w.plainFound)
		w.plainFound = false
	}
	// Until the first boundary is found the raw body is kept, so that a
	// "multipart" whose boundary never appears can still be read as text.
	rec := &recorder{r: r, on: true}
	mr := textproto.NewMultipartReader(rec, boundary)
	var children []body
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if i == 0 {
				_, _ = io.Copy(io.Discard, rec)
				if bytes.Contains(rec.buf.Bytes(), []byte("--"+boundary)) {
					w.defect(BrokenMIME, "%s first part unreadable, body read as text", mediaType)
				} else {
					w.defect(BrokenMIME, "%s boundary not found, body read as text", mediaType)
				}
				return w.text(rec.buf.Bytes(), "text/plain", nil)
			}
			// Typically a missing closing boundary: keep the parts read.
			w.defect(BrokenMIME, "%s ended early: %s", mediaType, clip(err.Error()))
			break
		}
		if i == 0 {
			rec.stop()
		}
		if w.parts++; w.parts > maxParts {
			w.defect(OverLimit, "more than %d MIME parts, the rest skipped", maxParts)
			break
		}
		b := w.entity(p.Header, p, depth+1, mediaType == "multipart/related")
		children = append(children, b)
		if mediaType == "multipart/alternative" && b.kind == plainBody && b.text != "" {
			w.plainFound = true
		}
	}
	_, _ = io.Copy(io.Discard, rec) // the epilogue

	if mediaType == "multipart/alternative" {
		return w.pickAlternative(children)
	}
	// mixed, related, signed, report and unknown multiparts: the readable
	// parts in order, as a mail client shows them. A footer that a mailing
	// list or a gateway added as a part of its own is no part of what the
	// sender wrote.
	var texts, owns []string
	fromHTML := false
	for _, c := range children {
		text, own := c.render()
		if text == "" {
			continue
		}
		texts = append(texts, text)
		if len(texts) > 1 && isFooterPart(text) {
			continue
		}
		if own != "" {
			owns = append(owns, own)
			fromHTML = fromHTML || c.fromHTML
		}
	}
	if len(texts) == 0 {
		return body{}
	}
	return body{kind: plainBody, text: strings.Join(texts, "\n\n"), own: strings.Join(owns, "\n\n"), fromHTML: fromHTML}
}

// pickAlternative reads text/plain, else HTML converted to text, as the
// message's text. The excerpt is made from the version that gives the
// cleaner one (see cleaner): usually the plain text, but the HTML where
// its markup shows where the quoted history starts and the plain text
// does not.
func (w *walker) pickAlternative(children []body) body {
	var p, h *body
	for i, c := range children {
		if p == nil && c.kind == plainBody && c.text != "" {
			p = &children[i]
		}
		if h == nil && c.kind == htmlBody {
			h = &children[i]
		}
	}
	if h == nil {
		if p == nil {
			return body{}
		}
		return *p
	}
	if p == nil {
		text, own := h.render()
		if text == "" {
			return body{}
		}
		return body{kind: plainBody, text: text, own: own}
	}
	pOwn := ownText(p.own, w.limit)
	plainOwn := body{kind: plainBody, text: p.text, own: pOwn, ownDone: true}
	if len(wordsOf(pOwn)) > maxStubWords && !mayMarkHistory(w.htmlHint(h)) {
		return plainOwn // the HTML can be neither cleaner nor fuller
	}
	hb := w.decodeHTMLOwn(h)
	if hb.kind != htmlBody {
		return plainOwn
	}
	hOwn, marked := renderHTMLOwn(hb.text)
	hOwn = ownText(cleanText(hOwn), w.limit)
	if cleaner(hOwn, pOwn, marked) {
		return body{kind: plainBody, text: p.text, own: hOwn, fromHTML: true, ownDone: true}
	}
	return plainOwn
}

// leaf reads a non-multipart entity: a text body or an attachment.
func (w *walker) leaf(h textproto.Header, mediaType string, params map[string]string, r io.Reader, inRelated bool) body {
	disposition, dparams := mediaHeader(h, "Content-Disposition")
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	decoded, known := transferDecoder(enc, r)
	if !known {
		w.defect(UnknownEncoding, "unknown Content-Transfer-Encoding %q read as is", clip(enc))
	}

	isBody := (mediaType == "text/plain" || mediaType == "text/html") &&
		disposition != "attachment" && filename == ""
	if isBody && mediaType == "text/html" && w.plainFound && known {
		raw, err := io.ReadAll(r)
		if bad := w.readFailed(err, mediaType+" part"); bad {
			return body{}
		}
		return body{kind: htmlBody, undecoded: &undecodedPart{raw: raw, enc: enc, params: params}}
	}
	if !isBody {
		n, err := io.Copy(io.Discard, decoded)
		if bad := w.readFailed(err, "attachment "+quoteName(filename)); bad {
			return body{}
		}
		if hiddenAttachment(mediaType, disposition, h, inRelated) {
			return body{}
		}
		w.attachments = append(w.attachments, Attachment{
			Filename:    cleanLine(filename),
			ContentType: mediaType,
			Size:        n,
		})
		return body{}
	}

	raw, err := io.ReadAll(decoded)
	if bad := w.readFailed(err, mediaType+" part"); bad {
		return body{}
	}
	return w.text(raw, mediaType, params)
}

// htmlHint returns an HTML alternative's source, or for one not decoded
// yet, as much of it as can be looked at without decoding: quoted-printable
// without its soft line breaks, which only escapes what history markers
// are not made of.
func (w *walker) htmlHint(h *body) string {
	u := h.undecoded
	switch {
	case u == nil:
		return h.text
	case u.enc == "quoted-printable":
		return withoutSoftBreaks(u.raw)
	case u.enc == "base64":
		return w.decodeHTML(h).text
	}
	return string(u.raw)
}

// decodeHTMLOwn is decodeHTML for renderHTMLOwn, which stops at the
// first element that holds the quoted history: an HTML alternative not
// decoded yet is decoded only up to the end of the tag that may be it,
// usually a small part of a long thread.
func (w *walker) decodeHTMLOwn(h *body) body {
	u := h.undecoded
	if u == nil || u.enc == "base64" {
		return w.decodeHTML(h)
	}
	raw := u.raw
	if u.enc == "quoted-printable" {
		raw = []byte(withoutSoftBreaks(raw))
	}
	first := -1
	for _, m := range stopHints {
		if i := bytes.Index(raw, []byte(m)); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		if end := bytes.IndexByte(raw[first:], '>'); end >= 0 {
			u.raw = raw[:first+end+1]
		}
	}
	return w.decodeHTML(h)
}

// withoutSoftBreaks removes quoted-printable's soft line breaks ("=" at
// the end of a line), leaving a valid quoted-printable text.
func withoutSoftBreaks(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for {
		i := bytes.IndexByte(raw, '=')
		if i < 0 {
			b.Write(raw)
			return b.String()
		}
		b.Write(raw[:i])
		rest := raw[i+1:]
		switch {
		case bytes.HasPrefix(rest, []byte("\r\n")):
			raw = rest[2:]
		case bytes.HasPrefix(rest, []byte("\n")):
			raw = rest[1:]
		default:
			b.WriteByte('=')
			raw = rest
		}
	}
}

// decodeHTML decodes an HTML alternative read undecoded, once.
func (w *walker) decodeHTML(h *body) body {
	u := h.undecoded
	if u == nil {
		return *h
	}
	h.undecoded = nil
	decoded, _ := transferDecoder(u.enc, bytes.NewReader(u.raw))
	raw, err := io.ReadAll(decoded)
	if bad := w.readFailed(err, "text/html part"); bad {
		*h = body{}
		return *h
	}
	*h = w.text(raw, "text/html", u.params)
	return *h
}

// readFailed notes a read error and reports whether the part must be
// skipped: bad base64 is skipped, a truncated part is kept as far as read.
func (w *walker) readFailed(err error, what string) bool {
	var corrupt base64.CorruptInputError
	switch {
	case err == nil:
		return false
	case errors.As(err, &corrupt):
		w.defect(BadBase64, "%s: bad base64, skipped", what)
		return true
	case errors.Is(err, io.ErrUnexpectedEOF):
		w.defect(BrokenMIME, "%s: truncated (missing closing boundary?)", what)
	default:
		w.defect(BrokenMIME, "%s: %s", what, clip(err.Error()))
	}
	return false
}

// hiddenAttachment: images embedded in an HTML body (Outlook signature
// logos) and cryptographic signatures are not something a broker attached.
func hiddenAttachment(mediaType, disposition string, h textproto.Header, inRelated bool) bool {
	switch mediaType {
	case "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature":
		return true
	}
	return inRelated && disposition != "attachment" && h.Get("Content-Id") != ""
}

// text decodes a text part; params are its Content-Type parameters.
func (w *walker) text(raw []byte, mediaType string, params map[string]string) body {
	s, note := toUTF8(raw, params["charset"])
	if note.Kind != "" {
		w.defect(note.Kind, "%s", note.Detail)
	}
	if mediaType == "text/html" {
		return body{kind: htmlBody, text: s}
	}
	if strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	return plain(cleanText(s))
}

// transferDecoder undoes Content-Transfer-Encoding. An unknown encoding is
// read as is (known is false). Stray whitespace in base64 and control
// bytes in quoted-printable, both common, are tolerated.
func transferDecoder(enc string, r io.Reader) (dec io.Reader, known bool) {
	switch enc {
	case "base64":
		ws := byteMapper{r: r, f: func(b byte) byte {
			if b == ' ' || b == '\t' {
				return '\n' // ignored by the base64 decoder
			}
			return b
		}}
		return base64.NewDecoder(base64.StdEncoding, ws), true
	case "quoted-printable":
		ctl := byteMapper{r: r, f: func(b byte) byte {
			if b < ' ' && b != '\t' && b != '\r' && b != '\n' {
				return ' '
			}
			return b
		}}
		return quotedprintable.NewReader(ctl), true
	case "", "7bit", "8bit", "binary":
		return r, true
	}
	return r, false
}

type byteMapper struct {
	r io.Reader
	f func(byte) byte
}

func (m byteMapper) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	for i := range p[:n] {
		p[i] = m.f(p[i])
	}
	return n, err
}

// recorder keeps a copy of what is read through it until stopped.
type recorder struct {
	r   io.Reader
	on  bool
	buf bytes.Buffer
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.on {
		c.buf.Write(p[:n])
	}
	return n, err
}

func (c *recorder) stop() {
	c.on = false
	c.buf = bytes.Buffer{}
}

// toUTF8 decodes text in the declared charset, second-guessing labels that
// are wrong in practice: UTF-8 sent as Latin-1 and Latin-1 sent as UTF-8 or
// unlabelled. Latin-1 is read as Windows-1252, as browsers do, since mailers
// that say ISO-8859-1 often mean it (curly quotes, euro sign). The note says
// what was guessed, if anything.
func toUTF8(raw []byte, label string) (s string, note Defect) {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if utf8.Valid(raw) {
			return string(raw), Defect{}
		}
		return windows1252(raw), Defect{WrongCharset, fmt.Sprintf("invalid %s text read as Windows-1252", labelOr(label, "unlabelled"))}
	case "iso-8859-1", "iso8859-1", "latin1", "l1", "iso_8859-1", "windows-1252", "cp1252":
		if isUTF8NonASCII(raw) {
			return string(raw), Defect{WrongCharset, fmt.Sprintf("text labelled %s is UTF-8", label)}
		}
		return windows1252(raw), Defect{}
	}
	dec, err := charset.Reader(label, bytes.NewReader(raw))
	if err == nil {
		b, err := io.ReadAll(dec)
		if err == nil {
			return strings.ToValidUTF8(string(b), "\uFFFD"), Defect{}
		}
	}
	if utf8.Valid(raw) {
		return string(raw), Defect{UnknownCharset, fmt.Sprintf("unknown charset %q read as UTF-8", clip(label))}
	}
	return windows1252(raw), Defect{UnknownCharset, fmt.Sprintf("unknown charset %q read as Windows-1252", clip(label))}
}

func labelOr(label, alt string) string {
	if label == "" {
		return alt
	}
	return label
}

func windows1252(raw []byte) string {
	b, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return string(b)
}

// isUTF8NonASCII reports valid UTF-8 with multi-byte sequences, which
// Latin-1 text essentially never is.
func isUTF8NonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return utf8.Valid(b)
		}
	}
	return false
}

// mediaHeader parses Content-Type or Content-Disposition. Values the
// standard parser rejects (unquoted spaces, duplicate parameters) are read
// leniently. RFC 2047 words in parameters, as Outlook writes filenames,
// are decoded.
func mediaHeader(h textproto.Header, key string) (string, map[string]string) {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return "", map[string]string{}
	}
	t, params, err := mime.ParseMediaType(v)
	if err != nil {
		t, params = looseMediaType(v)
	}
	for k, p := range params {
		if k != "boundary" {
			params[k] = decodeWords(p)
		}
	}
	return strings.ToLower(t), params
}

func looseMediaType(v string) (string, map[string]string) {
	parts := strings.Split(v, ";")
	params := make(map[string]string)
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := params[k]; !dup {
			params[k] = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return strings.TrimSpace(parts[0]), params
}

func quoteName(name string) string {
	if name == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", clip(name))
}

// clip keeps diagnostics short and valid UTF-8 whatever the input held.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return s
}
