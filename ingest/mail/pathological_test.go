package mail_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/ingest/mail"
)

// Crafted or mangled mail must cost time in proportion to its size: one
// message that takes minutes stalls a mailbox's ingestion. A quarter of a
// megabyte is parsed in a fraction of a second; quadratic work on it took
// 16 s (go-message's msg-id comments, before field lengths were capped) and
// fails the budget, which leaves room for slow CI machines.
func TestParsePathologicalInputs(t *testing.T) {
	const n = 256 << 10
	const budget = 10 * time.Second * raceSlowdown
	tests := []struct {
		name, input string
		defect      string // expected among Defects, "" for none in particular
	}{
		{"comment in References", "From: a@b.example\r\nReferences: (" + strings.Repeat("a", n) + "\r\n\r\nbody", "References longer than"},
		{"commas in To", "From: a@b.example\r\nTo: " + strings.Repeat(",", n) + "\r\n\r\nbody", "To longer than"},
		{"quotes in From", "From: " + strings.Repeat("\"a", n/2) + "\r\n\r\nbody", "From longer than"},
		{"long Date", "From: a@b.example\r\nDate: " + strings.Repeat("1 ", n/2) + "\r\n\r\nbody", "Date longer than"},
		{"encoded words", "From: a@b.example\r\nSubject: " + strings.Repeat("=?utf-8?q?a?= ", n/14) + "\r\n\r\nbody", ""},
		{"many header lines", strings.Repeat("X-A: b\r\n", n/8) + "From: a@b.example\r\n\r\nbody", ""},
		{"continuation lines", "From: a@b.example\r\nSubject: a\r\n" + strings.Repeat(" b\r\n", n/4) + "\r\nbody", ""},
		{"content-type parameters", "From: a@b.example\r\nContent-Type: text/plain" + strings.Repeat(";a=b", n/4) + "\r\n\r\nbody", ""},
		{"multiparts sharing a boundary", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n", n/50), "boundary not found"},
		{"many parts", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n\r\nx\r\n", n/10), "more than 500 MIME parts"},
		{"deep multiparts", deepMultipart(1000), "nested deeper than"},
		{"blockquotes", "From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + strings.Repeat("<blockquote>x", n/13), ""},
		{"header-block lines", "From: a@b.example\r\n\r\n" + strings.Repeat("From: x\r\n\r\n", n/10), ""},
		{"attribution-like lines", "From: a@b.example\r\n\r\n" + strings.Repeat("On 1 x\r\n", n/8), ""},
		{"quoted lines", "From: a@b.example\r\n\r\n" + strings.Repeat(">\r\n", n/3), ""},
		{"one long line", "From: a@b.example\r\n\r\n" + strings.Repeat("wrote ", n/6), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			m, err := mail.Parse(strings.NewReader(tc.input), mail.Options{ExcerptMax: 100})
			if d := time.Since(start); d > budget {
				t.Errorf("took %v for %d bytes", d, len(tc.input))
			}
			checkInvariants(t, nil, m, err, 100)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tc.defect != "" && !slices.ContainsFunc(m.Defects, func(d mail.Defect) bool { return strings.Contains(d.String(), tc.defect) }) {
				t.Errorf("Defects %q lack %q", m.Defects, tc.defect)
			}
		})
	}
}

func deepMultipart(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	b.WriteString("--b1000\r\n\r\nhello\r\n")
	return b.String()
}
