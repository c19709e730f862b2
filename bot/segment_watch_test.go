package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// onlySegment lists one saved segment, so that a sweep leaves the other
// tests' segments (and clients) alone.
type onlySegment struct {
	segments
	name string
}

type segments = bot.Segments

func (o onlySegment) Segments(ctx context.Context) ([]segment.Saved, error) {
	s, err := o.Segment(ctx, o.name)
	return []segment.Saved{s}, err
}

// /segment watch and unwatch; a saved segment's members are only clients
// of the desks whoever saved it sees, whatever the filter.
func testSegmentWatch(t *testing.T, h *harness) {
	all := "all-" + h.sfx
	h.ok(h.broker, "/segment", "save "+all+" -tag:nothing-"+h.sfx)

	if r := h.do(h.broker2, "/segment", "watch "+all); r.Status != bot.NotFound {
		t.Errorf("another desk's broker watches: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.broker, "/segment", "watch "+all+" #general"); r.Status != bot.Invalid {
		t.Errorf("a channel as plain text: %v %s", r.Status, r.Text)
	}
	if r := h.do(h.broker, "/segment", "watch "+all+" <#CNOTIN"+h.SFX+"|x>"); r.Status == bot.OK {
		t.Errorf("a channel the app is not in: %v %s", r.Status, r.Text)
	}
	r := h.ok(h.broker, "/segment", "watch "+all)
	if !strings.Contains(r.Text, "Watching "+all) || !strings.Contains(r.Text, "<#"+h.channel+">") {
		t.Errorf("watch: %s", r.Text)
	}
	ws, err := h.st.Segments.Watches(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range ws {
		found = found || w.Segment == all && w.Channel == h.channel && w.WatchedBy == h.broker
	}
	if !found {
		t.Errorf("watches: %+v", ws)
	}

	rights := bot.Rights{Catalogue: store.DefaultCatalogue(), Teams: h.st.Teams, Directory: h.dir, Admins: []string{h.admin}}
	m := &ingest.Membership{Catalogue: store.DefaultCatalogue(), Segments: onlySegment{h.st.Segments, all}, Recorder: &ingest.Recorder{Timeline: h.st.Timeline}, Resolve: rights.SegmentScope(h.st.Segments)}
	changes, err := m.Sweep(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, c := range changes {
		if c.Segment == all {
			cl, err := h.st.Clients.Client(h.ctx, c.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			in = append(in, cl.Handle)
		}
	}
	for _, handle := range in {
		if cl := h.client(handle); cl.Team != h.desk && cl.Team != h.desk2 {
			t.Errorf("%s of desk %q entered a segment of %s's desks", handle, cl.Team, h.broker)
		}
	}
	if !strings.Contains(strings.Join(in, " "), h.acme) {
		t.Errorf("entered: %v, want %s among them", in, h.acme)
	}
	if evs := h.events(h.acme, "event"); len(evs) == 0 || !strings.Contains(evs[0].Summary, "entered segment "+all) {
		t.Errorf("acme's timeline has no entry into %s", all)
	}

	h.ok(h.broker, "/segment", "unwatch "+all)
	if r := h.do(h.broker, "/segment", "unwatch "+all); r.Status != bot.NotFound {
		t.Errorf("unwatch twice: %v %s", r.Status, r.Text)
	}
}
