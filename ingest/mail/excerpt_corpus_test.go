package mail_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/ingest/mail"
)

// TestExcerptCorpus: each mail in testdata/excerpts has, in a file of the
// same name ending in .want, the excerpt a broker must see: what the
// sender wrote, without list and gateway footers, quoted history after a
// mid-line attribution or an Outlook header block in another language.
// Files named html-cleaner-* must take their excerpt from the HTML
// version; every other multipart/alternative keeps the plain one.
func TestExcerptCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/excerpts/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			m, err := mail.ParseBytes(raw, mail.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if w := strings.TrimRight(string(want), "\n"); m.Excerpt != w {
				t.Errorf("Excerpt\n%s\n---- want\n%s", m.Excerpt, w)
			}
			if wantHTML := strings.HasPrefix(name, "html-cleaner-"); m.HTMLExcerpt != wantHTML {
				t.Errorf("HTMLExcerpt = %v, want %v", m.HTMLExcerpt, wantHTML)
			}
			if len(m.Defects) > 0 {
				t.Errorf("defects %v in a well-formed mail", m.Defects)
			}
		})
	}
}
