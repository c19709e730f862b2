package mail_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest/mail"
)

// TestParseLooseAddresses: every address a person can see in From, To,
// Cc and Reply-To is recovered, however loosely it is written, and
// display names are decoded wherever mailers put encoded words.
func TestParseLooseAddresses(t *testing.T) {
	type A = mail.Address
	cases := []struct {
		name   string
		header string // fields before the body
		field  func(*mail.Message) []A
		want   []A
		defect mail.DefectKind // "" for none
	}{
		{"name before a bare address", "From: Big Bug bb@bug.com\r\n", from,
			[]A{{"Big Bug", "bb@bug.com"}}, mail.LenientAddress},
		{"two bare addresses", "From: tim@x.com concierge@x.com\r\n", from,
			[]A{{"", "tim@x.com"}, {"", "concierge@x.com"}}, mail.LenientAddress},
		{"semicolons", "To: a@x.com; Bea Lund <b@x.com>;c@x.com\r\nFrom: d@x.com\r\n", to,
			[]A{{"", "a@x.com"}, {"Bea Lund", "b@x.com"}, {"", "c@x.com"}}, mail.LenientAddress},
		{"source route", "From: <@route.example:mary@example.net>\r\n", from,
			[]A{{"", "mary@example.net"}}, mail.LenientAddress},
		{"source route with name", "Cc: Mary Smith <@a.net,@b.net:Mary@Example.net>\r\nFrom: d@x.com\r\n", cc,
			[]A{{"Mary Smith", "mary@example.net"}}, mail.LenientAddress},
		{"comment after a bare address", "From: mary@example.net (Mary)\r\n", from,
			[]A{{"Mary", "mary@example.net"}}, ""},
		{"comment before a bare address", "From: (Mary) mary@example.net\r\n", from,
			[]A{{"Mary", "mary@example.net"}}, mail.LenientAddress},
		{"comments inside the address", "From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\r\n", from,
			[]A{{"Pete", "pete@silly.test"}}, mail.LenientAddress},
		{"address as its own name", "From: bb@bug.com <bb@bug.com>\r\n", from,
			[]A{{"bb@bug.com", "bb@bug.com"}}, mail.LenientAddress},
		{"group", "To: Desk: a@x.com, Tom <t@x.com>;\r\nFrom: d@x.com\r\n", to,
			[]A{{"", "a@x.com"}, {"Tom", "t@x.com"}}, ""},
		{"reply-to", "From: noreply@forms.example\r\nReply-To: Big Bug bb@bug.com\r\n", replyTo,
			[]A{{"Big Bug", "bb@bug.com"}}, mail.LenientAddress},
		{"leading space before the first field", " From: Tim <tim@x.com>\r\nSubject: hi\r\n", from,
			[]A{{"Tim", "tim@x.com"}}, mail.LenientHeader},
		{"indented field after another", "Subject: levels\r\n From: Tim <tim@x.com>\r\n", from,
			[]A{{"Tim", "tim@x.com"}}, mail.LenientHeader},
		{"space before the colon", "From  : Tim <tim@x.com>\r\nTo : a@x.com\r\n", from,
			[]A{{"Tim", "tim@x.com"}}, mail.LenientHeader},
		// Display names.
		{"base64 word in quotes", "From: \"=?utf-8?B?6ZmI54Wc?=\" <chen@x.cn>\r\n", from,
			[]A{{"陈煜", "chen@x.cn"}}, ""},
		{"Outlook's quoted Q word", "From: \"=?utf-8?Q?Beeman=2C_Isaac_L.?=\" <ib@x.com>\r\n", from,
			[]A{{"Beeman, Isaac L.", "ib@x.com"}}, ""},
		{"quoted words in a loose list", "To: \"=?utf-8?Q?Beeman=2C_Isaac_L.?=\" ib@x.com, =?utf-8?B?6ZmI54Wc?= chen@x.cn\r\nFrom: d@x.com\r\n", to,
			[]A{{"Beeman, Isaac L.", "ib@x.com"}, {"陈煜", "chen@x.cn"}}, mail.LenientAddress},
		{"single-quoted name", "From: 'John Smith' <js@x.com>\r\n", from,
			[]A{{"John Smith", "js@x.com"}}, ""},
		{"single-quoted name, loose", "From: 'John Smith' js@x.com\r\n", from,
			[]A{{"John Smith", "js@x.com"}}, mail.LenientAddress},
		{"an '@' in an unquoted name", "From: Tom@Reyes Grain <tom@reyesgrain.example>\r\n", from,
			[]A{{"Tom@Reyes Grain", "tom@reyesgrain.example"}}, mail.LenientAddress},
		{"unquoted comma in a name", "Cc: Dubois, Paul <paul@x.fr>, Jérôme <j@x.fr>\r\nFrom: d@x.com\r\n", cc,
			[]A{{"Dubois, Paul", "paul@x.fr"}, {"Jérôme", "j@x.fr"}}, mail.LenientAddress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mail.ParseBytes([]byte(tc.header+"\r\nhello\r\n"), mail.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.field(m); !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			kinds := map[mail.DefectKind]bool{}
			for _, d := range m.Defects {
				kinds[d.Kind] = true
			}
			if tc.defect == "" && len(m.Defects) > 0 {
				t.Errorf("unexpected defects %v", m.Defects)
			}
			if tc.defect != "" && !kinds[tc.defect] {
				t.Errorf("defects %v lack kind %s", m.Defects, tc.defect)
			}
		})
	}
}

func from(m *mail.Message) []mail.Address    { return m.From }
func to(m *mail.Message) []mail.Address      { return m.To }
func cc(m *mail.Message) []mail.Address      { return m.Cc }
func replyTo(m *mail.Message) []mail.Address { return m.ReplyTo }

// TestParseDefectKinds: each defect says what kind it is, for metrics.
func TestParseDefectKinds(t *testing.T) {
	for file, kind := range map[string]mail.DefectKind{
		"broken-bad-base64.eml":      mail.BadBase64,
		"broken-unknown-charset.eml": mail.UnknownCharset,
		"broken-boundary-absent.eml": mail.BrokenMIME,
		"broken-wrong-charset.eml":   mail.WrongCharset,
	} {
		m, err := parseFile(t, file, mail.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(m.Defects, func(d mail.Defect) bool {
			return d.Kind == kind && strings.HasPrefix(d.String(), string(kind)+": ")
		}) {
			t.Errorf("%s: defects %v lack kind %s", file, m.Defects, kind)
		}
	}
}

// TestParseReceived: the earliest Received date, the same in every
// mailbox the mail reached, stands in for a missing Date.
func TestParseReceived(t *testing.T) {
	raw := "Received: from mx.desk.example by imap.desk.example; Tue, 4 Mar 2025 16:31:09 +0000\r\n" +
		"Received: from out.client.example by mx.desk.example (Postfix); Tue, 4 Mar 2025 17:31:05 +0100 (CET)\r\n" +
		"Received: from [10.0.0.7] by out.client.example; Tue, 4 Mar 2025 16:31:02 +0000\r\n" +
		"Received: garbage without a date\r\n" +
		"From: tim@x.com\r\nSubject: no date\r\n\r\nhello\r\n"
	m, err := mail.ParseBytes([]byte(raw), mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 3, 4, 16, 31, 2, 0, time.UTC); !m.Received.Equal(want) || !m.Date.IsZero() {
		t.Errorf("Received %v, Date %v; want %v and zero", m.Received, m.Date, want)
	}
}
