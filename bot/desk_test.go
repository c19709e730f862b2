package bot_test

import (
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
)

// urls are the web links of an answer's buttons.
func urls(r bot.Response) []string {
	var out []string
	for _, b := range r.Blocks {
		if as, ok := b.(bot.Actions); ok {
			for _, a := range as {
				if a.URL != "" {
					out = append(out, a.URL)
				}
			}
		}
	}
	return out
}

// /desk: a link to the desk pages for the asker alone; the digest page
// for managers and admins; another desk refused.
func testDeskLinks(t *testing.T, h *harness) {
	const base = "https://brokersync.example.com"
	r := h.ok(h.broker, "/desk", "")
	if got := strings.Join(urls(r), " "); got != base+"/desk?u="+h.broker+"&desk=" {
		t.Errorf("a broker's /desk links to %q, want the desk page of their desks and no digest", got)
	}
	r = h.ok(h.broker, "/desk", strings.ToUpper(h.desk2))
	if got := strings.Join(urls(r), " "); got != base+"/desk?u="+h.broker+"&desk="+h.desk2 || !strings.Contains(r.Text, h.desk2) {
		t.Errorf("a broker's /desk %s links to %q: %s", h.desk2, got, r.Text)
	}
	r = h.do(h.broker, "/desk", h.otherDesk)
	if r.Status != bot.Refused || len(urls(r)) != 0 || !strings.Contains(r.Text, "only your own desks") {
		t.Errorf("a broker asked for another desk's page: %v %s %v", r.Status, r.Text, urls(r))
	}
	r = h.ok(h.manager, "/desk", h.desk)
	want := base + "/desk?u=" + h.manager + "&desk=" + h.desk + " " + base + "/desk/digest?u=" + h.manager + "&desk=" + h.desk
	if got := strings.Join(urls(r), " "); got != want || !strings.Contains(r.Text, "digest") {
		t.Errorf("a manager's /desk links to %q, want %q", got, want)
	}
	if r := h.do(h.manager, "/desk", h.otherDesk); r.Status != bot.Refused || len(urls(r)) != 0 {
		t.Errorf("a manager asked for another desk's page: %v %s", r.Status, r.Text)
	}
	if r := h.ok(h.admin, "/desk", h.otherDesk); len(urls(r)) != 2 {
		t.Errorf("an admin's /desk %s gives %v, want the desk page and the digest", h.otherDesk, urls(r))
	}
	if r := h.do(h.admin, "/desk", "nowhere-"+h.sfx); r.Status != bot.NotFound {
		t.Errorf("an admin asked for a desk nobody is on: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.stranger, "/desk", ""); r.Status != bot.Refused || len(urls(r)) != 0 {
		t.Errorf("someone on no desk got %v %s %v", r.Status, r.Text, urls(r))
	}
	if r := h.do(h.broker, "/desk", h.desk+" "+h.desk2); r.Status != bot.Invalid {
		t.Errorf("two desks: %v %s", r.Status, r.Text)
	}
}
