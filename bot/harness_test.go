package bot_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/bot/bottest"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// Stores are the backends a bot runs on.
type Stores struct {
	Clients  store.ClientStore
	Timeline store.TimelineStore
	Teams    store.TeamStore
	Links    store.LinkStore
	// Reminders is nil for a bot without reminders.
	Reminders store.ReminderStore
	Stats     statsBackend
	Segments  bot.Segments
	// Digests is nil for a bot without digests.
	Digests store.DigestStore
	// Workflows is nil for a bot without workflows.
	Workflows store.WorkflowStore
}

// statsBackend keeps and reads the per-client statistics.
type statsBackend interface {
	store.StatsReader
	store.ResponsivenessStore
	store.TradeStore
	store.SentimentStore
	store.ContactStore
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// embeddedStores opens the embedded store in a temporary directory; its
// timeline's writes can be made to fail.
func embeddedStores(t testing.TB) (Stores, *bottest.FailingTimeline) {
	t.Helper()
	db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tl := bottest.NewFailingTimeline(db.Timeline())
	return Stores{Clients: db, Timeline: tl, Teams: db, Links: db, Reminders: db, Stats: db, Segments: db, Digests: db, Workflows: db}, tl
}

// harness is one bot with its own desks, people and clients, named with a
// suffix of their own so that harnesses can share a database.
type harness struct {
	t   testing.TB
	ctx context.Context
	st  Stores
	bot *bot.Bot
	dir *bottest.Directory
	sfx string // lower-case suffix for handles and desks
	SFX string // upper-case suffix for Slack ids

	desk, desk2, otherDesk     string
	admin, wsAdmin             string // configured admin, Slack workspace admin
	broker, broker2            string // broker on desk and desk2; broker on otherDesk
	manager, stranger, botUser string
	acme, other                string // clients on desk and otherDesk
	channel                    string

	seq atomic.Int64
}

func newHarness(t testing.TB, st Stores) *harness {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	sfx := fmt.Sprintf("%x", b)
	h := &harness{t: t, ctx: t.Context(), st: st, sfx: sfx, SFX: strings.ToUpper(sfx)}
	h.desk, h.desk2, h.otherDesk = "grain-"+sfx, "softs-"+sfx, "energy-"+sfx
	id := func(role string) string { return "U" + role + h.SFX }
	h.admin, h.wsAdmin, h.broker, h.broker2 = id("ADM"), id("WSA"), id("BRK"), id("BRKB")
	h.manager, h.stranger, h.botUser = id("MGR"), id("STR"), "B"+h.SFX
	h.channel = "C" + h.SFX
	h.dir = bottest.NewDirectory(
		bot.User{ID: h.admin, Name: "ada"},
		bot.User{ID: h.wsAdmin, Name: "owner", Admin: true},
		bot.User{ID: h.broker, Name: "jane", TimeZone: "America/Chicago"},
		bot.User{ID: h.broker2, Name: "omar", TimeZone: "Europe/London"},
		bot.User{ID: h.manager, Name: "maria"},
		bot.User{ID: h.stranger, Name: "sam"},
		bot.User{ID: h.botUser, Name: "zapbot", Bot: true},
	)
	// The harness's channel, as conversations.members lists it.
	h.dir.AddMembers(h.channel, h.admin, h.wsAdmin, h.broker, h.broker2, h.manager, h.stranger)
	var digests bot.Digests
	if st.Digests != nil {
		digests = reminders.DigestService{DigestStore: st.Digests,
			Builder: &reminders.DigestBuilder{Catalogue: store.DefaultCatalogue(), Clients: st.Clients, Timeline: st.Timeline, Teams: st.Teams, Reminders: st.Reminders}}
	}
	var err error
	rec := &ingest.Recorder{Timeline: st.Timeline, Scorer: bottest.Scorer, Sentiment: st.Stats,
		Subscribers: []ingest.Subscriber{ingest.ContactTracker{Contacts: st.Stats, Teams: st.Teams}, ingest.RecommendationTracker{Catalogue: store.DefaultCatalogue(), Store: st.Stats}}}
	// Workflows run on what the bot records, as in the server.
	var runner bot.WorkflowRunner
	if st.Workflows != nil && st.Reminders != nil {
		wf := &reminders.Workflows{Catalogue: store.DefaultCatalogue(), Store: st.Workflows, Reminders: st.Reminders, Clients: st.Clients, Teams: st.Teams,
			Segments: st.Segments, Stats: st.Stats, Timeline: st.Timeline, Recorder: rec, Logger: testLogger()}
		rec.Subscribers = append(rec.Subscribers, wf)
		runner = wf
	}
	h.bot, err = bot.New(bot.Config{
		Catalogue: store.DefaultCatalogue(),
		Digests:   digests,
		Clients:   st.Clients, Timeline: st.Timeline, Teams: st.Teams, Links: st.Links,
		Reminders: st.Reminders, Directory: h.dir, Admins: []string{h.admin},
		Recorder:       rec,
		Stats:          st.Stats,
		Segments:       st.Segments,
		Workflows:      st.Workflows,
		WorkflowRunner: runner,
		TimelineURL: func(handle, user string) string {
			return "https://brokersync.example.com/clients/" + handle + "/timeline?u=" + user
		},
		DeskURL: func(user, desk string, digest bool) string {
			page := "/desk"
			if digest {
				page = "/desk/digest"
			}
			return "https://brokersync.example.com" + page + "?u=" + user + "&desk=" + desk
		},
		Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []store.Member{
		{SlackID: h.broker, Desk: h.desk, Role: store.RoleBroker},
		{SlackID: h.broker, Desk: h.desk2, Role: store.RoleBroker},
		{SlackID: h.broker2, Desk: h.otherDesk, Role: store.RoleBroker},
		{SlackID: h.manager, Desk: h.desk, Role: store.RoleManager},
	} {
		m.AddedBy = h.admin
		if err := st.Teams.AddMember(h.ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	h.acme, h.other = "acme-"+sfx, "north-"+sfx
	h.ok(h.broker, "/client", fmt.Sprintf(`add %s "Acme Grain Co-op" team=%s risk=4 email.work=ops-%s@acmegrain.com`, h.acme, h.desk, sfx))
	h.ok(h.broker2, "/client", fmt.Sprintf(`add %s "Northwind Energy"`, h.other))
	return h
}

// do runs a command as user, from the harness's channel.
func (h *harness) do(user, command, text string) bot.Response {
	h.t.Helper()
	return h.bot.Handle(h.ctx, bot.Request{
		User: user, Channel: h.channel, Command: command, Text: text,
		ID: fmt.Sprintf("trigger-%s-%d", h.sfx, h.seq.Add(1)),
	})
}

// ok runs a command that must succeed.
func (h *harness) ok(user, command, text string) bot.Response {
	h.t.Helper()
	r := h.do(user, command, text)
	if r.Status != bot.OK {
		h.t.Fatalf("%s %s: %v: %s", command, text, r.Status, r.Text)
	}
	return r
}

func (h *harness) client(handle string) *store.Client {
	h.t.Helper()
	c, err := h.st.Clients.ClientByHandle(h.ctx, handle)
	if err != nil {
		h.t.Fatalf("client %s: %v", handle, err)
	}
	return c
}

func (h *harness) events(handle string, kinds ...store.Kind) []*store.Event {
	h.t.Helper()
	p, err := h.st.Timeline.Events(h.ctx, h.client(handle).ID, store.EventQuery{Kinds: kinds, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Events
}

// state fingerprints everything a command could change, to show that a
// refused or malformed command changed nothing.
func (h *harness) state() string {
	h.t.Helper()
	var b strings.Builder
	for _, handle := range []string{h.acme, h.other} {
		c := h.client(handle)
		fields := store.Fields(c)
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, "%s v%d", handle, c.Version)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, fields[k])
		}
		fmt.Fprintf(&b, " events=%d\n", len(h.events(handle)))
	}
	for _, d := range []string{h.desk, h.desk2, h.otherDesk, "new-desk-" + h.sfx} {
		ms, err := h.st.Teams.Members(h.ctx, d)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range ms {
			fmt.Fprintf(&b, "%s %s %s\n", m.Desk, m.SlackID, m.Role)
		}
	}
	id, err := h.st.Links.ChannelClient(h.ctx, h.channel)
	fmt.Fprintf(&b, "link %s %v\n", id, store.ErrorCode(err))
	_, err = h.st.Clients.ClientByHandle(h.ctx, "newco-"+h.sfx)
	fmt.Fprintf(&b, "newco %v\n", store.ErrorCode(err))
	return b.String()
}
