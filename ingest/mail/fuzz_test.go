package mail_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/ingest/mail"
)

// FuzzParse: whatever arrives in the mailbox, Parse returns a message or a
// skip, never panics, and produces valid UTF-8 and an excerpt within its cap.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/excerpts/*.eml")
	files = append(files, more...)
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(""))
	f.Add([]byte("From: a@b\r\n\r\n"))
	f.Add([]byte(" From  : Big Bug bb@bug.com (x) <@r:y@z>, \"=?utf-8?B?6ZmI54Wc?=\" c@d;\r\n\r\nSent from Yahoo Mail on Android On Thu, 6 Mar 2025 at 9:14, A<a@b> wrote: x"))
	f.Add([]byte("Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"))
	f.Add([]byte("From: a@b\nContent-Type: text/html\n\n<blockquote><pre><li><p class=MsoNormal>\xff&#0;</p>"))

	const excerptMax = 120
	f.Fuzz(func(t *testing.T, input []byte) {
		opts := mail.Options{MaxSize: 1 << 16, ExcerptMax: excerptMax}
		m, err := mail.Parse(bytes.NewReader(input), opts)
		checkInvariants(t, input, m, err, excerptMax)
		if err != nil {
			return
		}
		// Idempotency keys must not depend on anything but the input.
		again, err := mail.Parse(bytes.NewReader(input), opts)
		if err != nil || again.ContentHash != m.ContentHash {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

// BenchmarkParse parses a typical 10 KB Outlook reply: multipart/alternative,
// quoted-printable, four messages of quoted history and a disclaimer.
func BenchmarkParse(b *testing.B) {
	raw, err := os.ReadFile("testdata/outlook-thread-10k.eml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := mail.Parse(bytes.NewReader(raw), mail.Options{})
		if err != nil || !strings.Contains(m.Excerpt, "4.60") {
			b.Fatalf("Parse: %v", err)
		}
	}
}
