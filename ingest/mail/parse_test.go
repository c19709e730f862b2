package mail_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/brokersync/brokersync/ingest/mail"
)

// corpus lists every file in testdata with what a broker would notice on
// the timeline: who, what, which thread, the excerpt and the attachments,
// or why the message was skipped.
type corpusCase struct {
	file         string
	skip         string // prefix of SkipError.Reason; "" when the message is parsed
	subject      string
	from         string // first From as "Name <email>"
	date         string // RFC 3339, "" for none
	messageID    string
	threadID     string
	textHas      []string
	excerptHas   []string
	excerptLacks []string
	attachments  []mail.Attachment
	defect       string // expected in Defects; "" means no defects at all
}

var corpus = []corpusCase{
	{
		file:       "plain-reply-quoted-signature.eml",
		subject:    "Re: Dec corn - morning levels",
		from:       "Tom Reyes <tom.reyes@reyesgrain.example>",
		date:       "2025-03-03T08:01:57-06:00",
		messageID:  "7f3c2a1e-9b1d-4c55-a0e2-1f2d3c4b5a69@reyesgrain.example",
		threadID:   "CAJx1=root-4411@mail.meridian-commodities.example",
		textHas:    []string{"Dec corn opened at 4.49 1/2", "Grain merchandising, Ames"},
		excerptHas: []string{"Can you work a buy for 10 Dec corn at 4.52 limit, good till cancelled?", "call me before the close", "Best regards,\nTom"},
		excerptLacks: []string{
			"Anna Kowalski wrote", "Dec corn opened", "morning levels on Monday", // quoted history
			"Grain merchandising", "555 0142", // signature after "-- "
		},
	},
	{
		// format=flowed: wrapped lines end in a space and join up again.
		file:      "flowed-thunderbird-reply.eml",
		subject:   "Re: Rapeseed hedge for the new crop",
		from:      "Lena Brandt <lena.brandt@brandt-agrar.example>",
		date:      "2025-03-12T07:42:18+01:00",
		messageID: "0a7d5c1e-3b2f-4e61-8c9d-5f4e3d2c1b0a@brandt-agrar.example",
		threadID:  "rapeseed-0311-a@mail.meridian-commodities.example",
		textHas: []string{
			"> Lena, August rapeseed closed at 476.25 today, up 3.50 on the week. Do you want to lock in part of the new crop?",
			">> Earlier: we talked about 40 lots in total.",
		},
		excerptHas: []string{
			"Please sell 20 August rapeseed at 478 or better, good till cancelled. If it trades through 485 before we are filled, call me first - I do not want to chase it.",
			"\nFrom next week I am on the farm", // space-stuffing undone
			"Best,\nLena",
		},
		excerptLacks: []string{"Anna Kowalski wrote", "476.25", "Brandt Agrar GbR", "better, \n"},
	},
	{
		file:         "html-only-outlook-disclaimer.eml",
		subject:      "RE: Fill: April gold stop",
		from:         "Sarah Chen <sarah.chen@chenmetals.example>",
		date:         "2025-03-05T08:12:33Z",
		messageID:    "DB9PR08MB6571A3C2F1E6A7B1C0D9E8F7A6B5C@DB9PR08MB6571.eurprd08.prod.outlook.example",
		threadID:     "CAF7x-gold-stop-0304@mail.meridian-commodities.example",
		textHas:      []string{"yesterday’s gold stop", "2,036 – that is", "Sent: Tuesday, March 4, 2025 4:31 PM"},
		excerptHas:   []string{"Anna,\n\nI’m not happy with the slippage on yesterday’s gold stop.", "Call me.", "Regards,\nSarah"},
		excerptLacks: []string{"CONFIDENTIALITY", "intended solely", "From: Anna", "was elected and filled", "font-family", "Cambria", "alert(", "Gold stop"},
	},
	{
		file:       "html-apple-blockquote.eml",
		subject:    "Re: Copper",
		from:       "Sarah Chen <sarah.chen@chenmetals.example>",
		date:       "2025-03-18T16:45:10Z",
		messageID:  "4C2D8E1F-7A3B-4B0E-9F1A-2C5D6E7F8A9B@chenmetals.example",
		threadID:   "copper-0318-a@mail.meridian-commodities.example",
		textHas:    []string{"> Copper is through 4.85 on the China stimulus headlines."},
		excerptHas: []string{"Yes, take profit on half the May copper at 4.85.\nLeave the rest with the stop at 4.60.", "Sarah"},
		excerptLacks: []string{
			"wrote:", "China stimulus",
		},
	},
	{
		file:         "alternative-gmail.eml",
		subject:      "Crude fill",
		from:         "Reyes, Maria <maria.reyes@gulfenergy.example>",
		date:         "2025-03-06T10:22:05-05:00",
		messageID:    "CAOk2+fill-crude-0306@mail.gmail.example",
		threadID:     "CAOk2+fill-crude-0306@mail.gmail.example",
		textHas:      []string{"Thanks, *great* fill on the crude this morning."}, // *great* only exists in the text/plain part
		excerptHas:   []string{"Let's talk Thursday about rolling the May position."},
		excerptLacks: []string{"<div", "&#39;"},
	},
	{
		file:         "nested-mixed-pdf.eml",
		subject:      "KC coffee contract specs and margins",
		from:         "Anna Kowalski <anna.kowalski@meridian-commodities.example>",
		date:         "2025-03-07T09:05:00Z",
		messageID:    "20250307090500.KC-specs.4471@mail.meridian-commodities.example",
		threadID:     "b2e1c0f0-specs-request@cafe-import.example",
		excerptHas:   []string{"Hello Amélie,", "Initial margin is currently $6,820 per contract, maintenance $6,200."},
		excerptLacks: []string{"This is a multi-part message", "Content-Type"},
		// The inline logo of the HTML alternative is not an attachment.
		attachments: []mail.Attachment{{Filename: "KC_coffee_contract_specs.pdf", ContentType: "application/pdf", Size: 142}},
	},
	{
		file:         "latin1-body-and-headers.eml",
		subject:      "Absicherung Sojabohnen auflösen",
		from:         "Hans Müller <hans.mueller@mueller-agrar.example>",
		date:         "2025-03-10T07:48:12+01:00",
		messageID:    "5F2A9C01.3040107@mueller-agrar.example",
		threadID:     "5F2A9C01.3040107@mueller-agrar.example",
		excerptHas:   []string{"mit dieser Dürre-Nachricht möchte ich meine Absicherung", "Die Marge von 2.500 € bitte", "Mit freundlichen Grüßen\nHans Müller"},
		excerptLacks: []string{"Dorfstraße"},
	},
	{
		file:         "utf8-headers-french-reply.eml",
		subject:      "Re: Café KC – position de mai",
		from:         "Amélie Dubois <amelie.dubois@cafe-import.example>",
		date:         "2025-03-11T15:30:44+01:00",
		messageID:    "a8c1-44f0-cafe-reply@cafe-import.example",
		threadID:     "20250307090500.KC-specs.4471@mail.meridian-commodities.example",
		excerptHas:   []string{"Pour le café de mai, je voudrais rouler la moitié de la position sur juillet.", "Bien cordialement,\nAmélie"},
		excerptLacks: []string{"Envoyé de mon iPhone", "a écrit", "first notice"},
		defect:       "malformed Cc", // the unquoted "Dubois, Paul" (checked in TestParseReadsBrokenAddressLists)
	},
	{
		file:        "broken-missing-closing-boundary.eml",
		subject:     "March statement question",
		from:        "Tom Reyes <tom.reyes@reyesgrain.example>",
		date:        "2025-03-12T11:15:00-05:00",
		messageID:   "trunc-boundary-0312@reyesgrain.example",
		threadID:    "trunc-boundary-0312@reyesgrain.example",
		excerptHas:  []string{"Haven't heard from you in weeks. Is anyone watching my account?"},
		attachments: []mail.Attachment{{Filename: "fills-march.csv", ContentType: "text/csv", Size: 90}},
		defect:      "truncated",
	},
	{
		file:         "broken-bad-base64.eml",
		subject:      "Silver hedge ratios",
		from:         "Sarah Chen <sarah.chen@chenmetals.example>",
		date:         "2025-03-13T09:40:00Z",
		messageID:    "badb64-0313@chenmetals.example",
		threadID:     "badb64-0313@chenmetals.example",
		excerptHas:   []string{"Please re-run the silver hedge ratios with the new margins."},
		excerptLacks: []string{"base64", "<html>"},
		attachments:  nil, // hedge.xls does not decode and is skipped
		defect:       `attachment "hedge.xls": bad base64, skipped`,
	},
	{
		file:       "broken-wrong-charset.eml",
		subject:    "Weizen März", // raw Latin-1 in the header
		from:       "Hans Müller <hans.mueller@mueller-agrar.example>",
		date:       "2025-03-14T08:00:00+01:00",
		messageID:  "wrongcs-0314@mueller-agrar.example",
		threadID:   "wrongcs-0314@mueller-agrar.example",
		excerptHas: []string{"bitte 5 Kontrakte Weizen März zum Marktpreis verkaufen.", "Grüße\nHans Müller"},
		defect:     "read as Windows-1252",
	},
	{
		file:       "broken-unknown-charset.eml",
		subject:    "Café call",
		from:       "Amelie Dubois <amelie.dubois@cafe-import.example>",
		date:       "2025-03-14T10:00:00+01:00",
		messageID:  "unknowncs-0314@cafe-import.example",
		threadID:   "unknowncs-0314@cafe-import.example",
		excerptHas: []string{"Pouvez-vous m'appeler à propos du café avant la clôture ?"},
		defect:     `unknown charset "x-unknown-8bit"`,
	},
	{
		file:       "broken-boundary-absent.eml",
		subject:    "Nat gas",
		from:       "Maria Reyes <maria.reyes@gulfenergy.example>",
		date:       "2025-03-17T13:20:00-05:00",
		messageID:  "noboundary-0317@gulfenergy.example",
		threadID:   "noboundary-0317@gulfenergy.example",
		excerptHas: []string{"With the cold snap I want to add 5 April nat gas at the market."},
		defect:     "boundary not found",
	},
	{
		file:         "no-message-id.eml",
		subject:      "Quarterly risk review",
		from:         "Tom Reyes <tom.reyes@reyesgrain.example>",
		date:         "", // "Tuesday the 18th"
		messageID:    "",
		threadID:     "",
		textHas:      []string{"Sent from my iPhone"},
		excerptHas:   []string{"Anna, can we do the quarterly risk review next Tuesday at 10?"},
		excerptLacks: []string{"iPhone", "broker-desk@mta.example"},
		defect:       "unparseable Date",
	},
	{
		file:       "outlook-thread-10k.eml",
		subject:    "RE: Dec corn",
		from:       "Tom Reyes <tom.reyes@reyesgrain.example>",
		date:       "2025-03-17T13:31:02Z",
		messageID:  "SN6PR11MB3120D4E5F6A7B8C9D0E1F2A3B4C5D@SN6PR11MB3120.namprd11.prod.outlook.example",
		threadID:   "CAJx1=corn-0314-a@mail.reyesgrain.example",
		textHas:    []string{"-----Original Message-----", "Export inspections this morning"},
		excerptHas: []string{"if we settle above 4.60 today cancel it and call me", "please put a reminder on the 28th", "Tom Reyes | Reyes Grain Co."},
		excerptLacks: []string{
			"confidential", "substantial risk", // disclaimer
			"Original Message", "Export inspections", "Confirming your order", // history
		},
	},
	{file: "not-a-mail.eml", skip: "not a mail"},
	{file: "not-a-mail-json.eml", skip: "not a mail"},
}

func TestParseCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(corpus, func(c corpusCase) bool { return c.file == filepath.Base(f) }) {
			t.Errorf("%s has no expectations in the corpus table", f)
		}
	}

	for _, tc := range corpus {
		t.Run(tc.file, func(t *testing.T) {
			m, err := parseFile(t, tc.file, mail.Options{})
			if tc.skip != "" {
				var skip *mail.SkipError
				if !errors.As(err, &skip) || !strings.HasPrefix(skip.Reason, tc.skip) {
					t.Fatalf("want skip %q, got %v", tc.skip, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tc.subject)
			}
			if got := firstFrom(m); got != tc.from {
				t.Errorf("From = %q, want %q", got, tc.from)
			}
			if got := formatDate(m.Date); got != tc.date {
				t.Errorf("Date = %q, want %q", got, tc.date)
			}
			if m.MessageID != tc.messageID {
				t.Errorf("MessageID = %q, want %q", m.MessageID, tc.messageID)
			}
			if m.ThreadID != tc.threadID {
				t.Errorf("ThreadID = %q, want %q", m.ThreadID, tc.threadID)
			}
			for _, s := range tc.textHas {
				if !strings.Contains(m.Text, s) {
					t.Errorf("Text lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tc.excerptHas {
				if !strings.Contains(m.Excerpt, s) {
					t.Errorf("Excerpt lacks %q:\n%s", s, m.Excerpt)
				}
			}
			for _, s := range tc.excerptLacks {
				if strings.Contains(m.Excerpt, s) {
					t.Errorf("Excerpt has %q:\n%s", s, m.Excerpt)
				}
			}
			if !slices.Equal(m.Attachments, tc.attachments) {
				t.Errorf("Attachments = %+v, want %+v", m.Attachments, tc.attachments)
			}
			if tc.defect == "" && len(m.Defects) > 0 {
				t.Errorf("unexpected Defects %q", m.Defects)
			}
			if tc.defect != "" && !slices.ContainsFunc(m.Defects, func(d mail.Defect) bool { return strings.Contains(d.String(), tc.defect) }) {
				t.Errorf("Defects %q lack %q", m.Defects, tc.defect)
			}
			if m.Truncated || utf8.RuneCountInString(m.Excerpt) > mail.DefaultExcerptMax {
				t.Errorf("a short message's excerpt was truncated")
			}
			if len(m.ContentHash) != 64 {
				t.Errorf("ContentHash = %q, want 64 hex digits", m.ContentHash)
			}
		})
	}
}

func TestParseReadsBrokenAddressLists(t *testing.T) {
	m, err := parseFile(t, "utf8-headers-french-reply.eml", mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []mail.Address{
		{Name: "Jérôme Lefèvre", Email: "jerome@cafe-import.example"},
		{Name: "Dubois, Paul", Email: "paul.dubois@cafe-import.example"},
	}
	if !slices.Equal(m.Cc, want) {
		t.Errorf("Cc = %+v, want %+v", m.Cc, want)
	}
}

func TestParseSkipsOversizeMessage(t *testing.T) {
	// 30 MB: a scanned contract attached, generated as it is read.
	const size = 30 << 20
	header := "From: Tom Reyes <tom.reyes@reyesgrain.example>\r\n" +
		"Subject: Signed account agreement\r\n" +
		"Message-ID: <huge-1@reyesgrain.example>\r\n" +
		"Content-Type: application/pdf; name=scan.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	body := &repeatReader{line: []byte(strings.Repeat("QUJD", 19) + "\r\n"), left: size - int64(len(header))}
	counted := &countingReader{r: io.MultiReader(strings.NewReader(header), body)}

	m, err := mail.Parse(counted, mail.Options{})
	var skip *mail.SkipError
	if !errors.As(err, &skip) || !strings.HasPrefix(skip.Reason, "too large") {
		t.Fatalf("Parse = %v, %v; want a too large skip", m, err)
	}
	if !strings.Contains(skip.Reason, "25 MiB") {
		t.Errorf("Reason %q does not name the limit", skip.Reason)
	}
	if counted.n > mail.DefaultMaxSize+1 {
		t.Errorf("read %d bytes, want at most MaxSize+1 = %d", counted.n, mail.DefaultMaxSize+1)
	}
}

func TestParseSizeLimitIsInclusive(t *testing.T) {
	raw, err := os.ReadFile("testdata/plain-reply-quoted-signature.eml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mail.Parse(bytes.NewReader(raw), mail.Options{MaxSize: int64(len(raw))}); err != nil {
		t.Errorf("message of exactly MaxSize: %v", err)
	}
	_, err = mail.Parse(bytes.NewReader(raw), mail.Options{MaxSize: int64(len(raw)) - 1})
	var skip *mail.SkipError
	if !errors.As(err, &skip) {
		t.Errorf("message one byte over MaxSize: %v, want skip", err)
	}
}

func TestParseReportsReadErrorsForRetry(t *testing.T) {
	boom := errors.New("connection reset")
	raw, err := os.ReadFile("testdata/nested-mixed-pdf.eml")
	if err != nil {
		t.Fatal(err)
	}
	r := io.MultiReader(bytes.NewReader(raw[:len(raw)/2]), iotest.ErrReader(boom))
	_, err = mail.Parse(r, mail.Options{})
	var skip *mail.SkipError
	if !errors.Is(err, boom) || errors.As(err, &skip) {
		t.Errorf("Parse = %v; want the read error, not a skip", err)
	}
}

func TestParseContentHash(t *testing.T) {
	a1, err := parseFile(t, "no-message-id.eml", mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := parseFile(t, "no-message-id.eml", mail.Options{ExcerptMax: 10})
	b, _ := parseFile(t, "plain-reply-quoted-signature.eml", mail.Options{})
	if a1.ContentHash != a2.ContentHash {
		t.Errorf("same message, different hashes: %s %s", a1.ContentHash, a2.ContentHash)
	}
	if a1.ContentHash == b.ContentHash {
		t.Errorf("different messages share hash %s", a1.ContentHash)
	}
	// The same mail relayed with CRLF line ends and refolded is the same mail.
	raw, _ := os.ReadFile("testdata/no-message-id.eml")
	crlf := bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
	c, err := mail.Parse(bytes.NewReader(crlf), mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ContentHash != a1.ContentHash {
		t.Errorf("CRLF copy hashes differently")
	}
}

func TestParseCapsExcerpt(t *testing.T) {
	sentence := "Bitte die Marge für März prüfen – danke. "
	body := strings.Repeat(sentence, 200)
	m, err := mail.Parse(strings.NewReader(message(body)), mail.Options{ExcerptMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Truncated {
		t.Error("Truncated = false")
	}
	if n := utf8.RuneCountInString(m.Excerpt); n > 100 || n < 80 {
		t.Errorf("Excerpt has %d runes, want 80..100", n)
	}
	if !strings.HasSuffix(m.Excerpt, "…") || !strings.HasPrefix(m.Excerpt, sentence[:20]) {
		t.Errorf("Excerpt = %q", m.Excerpt)
	}
	if m.Text != strings.TrimSpace(body) {
		t.Error("Text was cut too")
	}
}

// Truncated downloads and corrupted spools must never crash the ingester.
func TestParseTruncatedMessages(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	more, _ := filepath.Glob("testdata/excerpts/*.eml")
	for _, f := range append(files, more...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(raw); n += 61 {
			m, err := mail.Parse(bytes.NewReader(raw[:n]), mail.Options{ExcerptMax: 50})
			checkInvariants(t, raw[:n], m, err, 50)
		}
	}
}

func TestParseExcerptRules(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		has, lack []string
	}{
		{
			name: "answers between quotes are kept",
			body: "> Buy 10 Dec corn at 4.52?\nYes, GTC.\n\n> And the beans?\nLeave them.\n",
			has:  []string{"Yes, GTC.", "Leave them."}, lack: []string{"4.52", "beans?"},
		},
		{
			name: "Outlook plain text separator",
			body: "Please cancel the wheat order.\n\n-----Original Message-----\nFrom: Anna\nSent: Monday\nWheat is limit up.\n",
			has:  []string{"Please cancel the wheat order."}, lack: []string{"Original", "limit up"},
		},
		{
			name: "Outlook header block under a ruler",
			body: "Go ahead.\n\n________________________________\nFrom: Anna Kowalski <anna@x.example>\nSent: Monday, March 17, 2025 7:05 AM\nTo: Tom\n\nShall I roll the May beans?\n",
			has:  []string{"Go ahead."}, lack: []string{"____", "roll the May"},
		},
		{
			name: "German attribution",
			body: "Einverstanden.\n\nAm 10.03.2025 um 09:12 schrieb Anna Kowalski <anna@x.example>:\n> Soll ich verkaufen?\n",
			has:  []string{"Einverstanden."}, lack: []string{"schrieb", "verkaufen"},
		},
		{
			name: "attribution wrapped over two lines",
			body: "Thanks.\n\nOn Mon, Mar 17, 2025 at 9:12 AM Anna Kowalski <\nanna.kowalski@meridian-commodities.example> wrote:\n\n> Filled at 4.52.\n",
			has:  []string{"Thanks."}, lack: []string{"wrote", "meridian", "Filled"},
		},
		{
			name: "unprefixed quote after an attribution",
			body: "Thanks.\n\nOn 17/03/2025 09:12, Anna Kowalski wrote:\nFilled at 4.52.\n",
			has:  []string{"Thanks."}, lack: []string{"wrote", "Filled"},
		},
		{
			name: "a sentence that mentions writing is not an attribution",
			body: "On Friday I wrote the order down as 4.52:\nplease check it is working.\n",
			has:  []string{"On Friday I wrote the order down as 4.52:\nplease check it is working."},
		},
		{
			name: "a mid-line sentence with a number and wrote is not an attribution",
			body: "Fine by me. On Friday 3 lots were filled, as Tom wrote: check the rest.\nThanks\n",
			has:  []string{"Fine by me. On Friday 3 lots were filled, as Tom wrote: check the rest.\nThanks"},
		},
		{
			name: "attribution with the quoted text on its line (Yahoo desktop)",
			body: "Agreed, roll them.\n\nOn Thursday, March 6, 2025, 09:14:22 AM CST, Anna Kowalski <anna@x.example> wrote: Shall I roll the May beans to July?\n",
			has:  []string{"Agreed, roll them."}, lack: []string{"wrote", "roll the May"},
		},
		{
			name: "mid-line attribution followed by quoted lines, answer below kept",
			body: "Ok. Sent from Yahoo Mail on Android On Thu, 6 Mar 2025 at 9:14, Anna <a@x.example> wrote:\n> Sell?\nYes, sell 2.\n",
			has:  []string{"Ok.", "Yes, sell 2."}, lack: []string{"Yahoo", "wrote", "Sell?"},
		},
		{
			name: "sign-off kept, signature after dash-dash-space dropped",
			body: "Sell 2 April gold at the market.\n\nKind regards,\nSarah\n-- \nSarah Chen | Chen Metals Ltd\n+44 20 7946 0000\n",
			has:  []string{"Kind regards,\nSarah"}, lack: []string{"Chen Metals", "7946"},
		},
		{
			name: "mobile footers",
			body: "Cancel the silver order.\n\nSent from my Samsung Galaxy smartphone.\nGet Outlook for iOS<https://aka.ms/o0ukef>\n",
			has:  []string{"Cancel the silver order."}, lack: []string{"Samsung", "Outlook"},
		},
		{
			name: "disclaimer with a heading",
			body: "Call me after the USDA report.\n\nTom\n\nDISCLAIMER: Reyes Grain Co. accepts no liability.\n",
			has:  []string{"Call me after the USDA report.\n\nTom"}, lack: []string{"DISCLAIMER", "liability"},
		},
		{
			name: "a forward with nothing added keeps the forwarded text",
			body: "-----Original Message-----\nFrom: Maria\nSent: Monday\nPlease send the contract specs for KC coffee.\n",
			has:  []string{"Please send the contract specs for KC coffee."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mail.Parse(strings.NewReader(message(tc.body)), mail.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.has {
				if !strings.Contains(m.Excerpt, s) {
					t.Errorf("Excerpt lacks %q:\n%s", s, m.Excerpt)
				}
			}
			for _, s := range tc.lack {
				if strings.Contains(m.Excerpt, s) {
					t.Errorf("Excerpt has %q:\n%s", s, m.Excerpt)
				}
			}
		})
	}
}

func TestParseHTMLToText(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"entities and inline markup", `<p>Hello&nbsp;<b>Hans</b> &amp; M&uuml;ller</p><p>Second</p>`, "Hello Hans & Müller\n\nSecond"},
		{"script, style and head dropped", `<html><head><title>T</title><style>p{color:red}</style></head><body>Hi<script>alert(1)</script> there</body></html>`, "Hi there"},
		{"missing </head> does not hide the body", `<html><head><title>x</title><body>Visible</body>`, "Visible"},
		{"lists", `<ul><li>10 Dec corn</li><li>5 May beans</li></ul>`, "- 10 Dec corn\n- 5 May beans"},
		{"links keep their text", `See the <a href="https://cmegroup.example/kc">contract specs</a>.`, "See the contract specs."},
		{"line breaks", `a<br>b<br><br>c<br><br><br><br>d`, "a\nb\n\nc\n\nd"},
		{"whitespace collapsed", "  lots \t of\n\n   space  ", "lots of space"},
		{"table rows", `<table><tr><td>ZCZ25</td><td>4.52</td></tr><tr><td>ZSK25</td><td>10.42</td></tr></table>`, "ZCZ25 4.52\nZSK25 10.42"},
		{"pre keeps layout", "<pre>ZCZ25   4.52\n  GTC</pre>", "ZCZ25   4.52\n  GTC"},
		{"blockquote marked as quote", `Yes.<blockquote>Sell?</blockquote>`, "Yes.\n\n> Sell?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "From: a@x.example\r\nSubject: t\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + tc.html
			m, err := mail.Parse(strings.NewReader(raw), mail.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tc.want {
				t.Errorf("Text = %q, want %q", m.Text, tc.want)
			}
		})
	}
}

func parseFile(t testing.TB, name string, opts mail.Options) (*mail.Message, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return mail.Parse(f, opts)
}

func message(body string) string {
	return "From: Tom Reyes <tom.reyes@reyesgrain.example>\r\n" +
		"To: anna.kowalski@meridian-commodities.example\r\n" +
		"Subject: test\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
}

func firstFrom(m *mail.Message) string {
	if len(m.From) == 0 {
		return ""
	}
	return m.From[0].Name + " <" + m.From[0].Email + ">"
}

func formatDate(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.RFC3339)
}

// checkInvariants holds for any input: no panic surfaced as a parser
// failure, only skips as errors, valid UTF-8 everywhere, excerpt within
// its cap.
func checkInvariants(t *testing.T, input []byte, m *mail.Message, err error, excerptMax int) {
	t.Helper()
	if err != nil {
		var skip *mail.SkipError
		if !errors.As(err, &skip) {
			t.Fatalf("non-skip error %v for %q", err, input)
		}
		if strings.HasPrefix(skip.Reason, "parser failure") {
			t.Fatalf("%s for %q", skip.Reason, input)
		}
		if m != nil {
			t.Fatalf("message returned with skip")
		}
		return
	}
	if m == nil {
		t.Fatalf("nil message and nil error for %q", input)
	}
	strs := []string{m.MessageID, m.ThreadID, m.Subject, m.Text, m.Excerpt, m.ContentHash}
	for _, l := range [][]mail.Address{m.From, m.To, m.Cc, m.ReplyTo} {
		for _, a := range l {
			strs = append(strs, a.Name, a.Email)
			if a.Email != strings.ToLower(a.Email) {
				t.Errorf("Email %q not lower-cased", a.Email)
			}
		}
	}
	for _, a := range m.Attachments {
		strs = append(strs, a.Filename, a.ContentType)
		if a.Size < 0 {
			t.Errorf("attachment size %d", a.Size)
		}
	}
	for _, d := range m.Defects {
		strs = append(strs, d.Detail)
		if d.Kind == "" {
			t.Errorf("defect %q has no kind", d.Detail)
		}
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q for input %q", s, input)
		}
	}
	if n := utf8.RuneCountInString(m.Excerpt); n > excerptMax {
		t.Fatalf("Excerpt has %d runes, cap %d", n, excerptMax)
	}
	// The excerpt only leaves things out: each of its lines is in the
	// text, unless it was made from the HTML version.
	for line := range strings.SplitSeq(strings.TrimSuffix(m.Excerpt, "…"), "\n") {
		if !m.HTMLExcerpt && !strings.Contains(m.Text, line) {
			t.Fatalf("Excerpt line %q not in Text %q", line, m.Text)
		}
	}
	if i := strings.IndexFunc(m.Text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
		t.Fatalf("control character in Text %q", m.Text)
	}
	if m.Truncated && !m.HTMLExcerpt && utf8.RuneCountInString(m.Text) <= excerptMax && !strings.Contains(m.Text, m.Excerpt) {
		t.Errorf("Truncated set but nothing was cut")
	}
	if len(m.ContentHash) != 64 {
		t.Fatalf("ContentHash %q", m.ContentHash)
	}
}

// repeatReader yields line over and over, left bytes in all.
type repeatReader struct {
	line []byte
	off  int
	left int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.line[r.off:])
		if int64(c) > r.left {
			c = int(r.left)
		}
		n += c
		r.left -= int64(c)
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestParseAlternativeChoice(t *testing.T) {
	alt := func(parts ...string) string {
		var b strings.Builder
		b.WriteString("From: a@x.example\r\nSubject: t\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n")
		for _, p := range parts {
			b.WriteString("--B\r\n" + p + "\r\n")
		}
		b.WriteString("--B--\r\n")
		return b.String()
	}
	const (
		plain      = "Content-Type: text/plain\r\n\r\nplain version"
		emptyPlain = "Content-Type: text/plain\r\n\r\n \r\n"
		html       = "Content-Type: text/html\r\n\r\n<p>html version</p>"
	)
	tests := []struct{ name, input, want string }{
		{"plain after html", alt(html, plain), "plain version"},
		{"plain before html", alt(plain, html), "plain version"},
		{"empty plain falls back to html", alt(emptyPlain, html), "html version"},
		{"html only", alt(html), "html version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mail.Parse(strings.NewReader(tc.input), mail.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tc.want {
				t.Errorf("Text = %q, want %q", m.Text, tc.want)
			}
		})
	}
}
