package cassandra_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/cassandra"
)

func dayEvent(client uuid.UUID, n int, at time.Time) *store.Event {
	return &store.Event{ClientID: client, Time: at, Kind: store.KindChat, Source: "test",
		SourceID: fmt.Sprintf("%s/%d", client, n), Summary: fmt.Sprintf("chat %d", n)}
}

func wantChats(t *testing.T, tl *cassandra.Timeline, client uuid.UUID, want int) {
	t.Helper()
	got, err := tl.DayCounts(t.Context(), client, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want == 0 && len(got) == 0 {
		return
	}
	if len(got) != 1 || got[0].Events != want {
		t.Errorf("DayCounts = %+v, want %d chats on one day", got, want)
	}
}

// storedChats reads what timeline_days holds for a day, and whether the
// day is still pending.
func storedChats(t *testing.T, tl *cassandra.Timeline, client uuid.UUID, day time.Time) (int, bool) {
	t.Helper()
	var (
		text             string
		pending, covered *[16]byte
	)
	err := tl.Session().Query(`SELECT counts, pending, covered FROM timeline_days WHERE client_id = ? AND day = ?`,
		[16]byte(client), int(store.DayNumber(day))).ScanContext(t.Context(), &text, &pending, &covered)
	if err != nil {
		t.Fatal(err)
	}
	var counts []struct {
		N int `json:"n"`
	}
	_ = json.Unmarshal([]byte(text), &counts)
	n := 0
	for _, c := range counts {
		n += c.N
	}
	return n, pending != nil && (covered == nil || *pending != *covered)
}

// An append cut off between writing its events and counting them leaves
// its day pending: the day is counted from its events meanwhile, and once
// the append is surely gone, counted again for good.
func TestDayCountsAfterAnAppendCutOff(t *testing.T) {
	tl := open(t)
	client := uuid.New()
	at := time.Date(2025, 9, 3, 10, 0, 0, 0, time.UTC)
	if err := tl.AppendEvents(t.Context(), dayEvent(client, 1, at)); err != nil {
		t.Fatal(err)
	}
	if err := tl.CountDays(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := tl.AppendUncounted(t.Context(), dayEvent(client, 2, at.Add(time.Hour)), dayEvent(client, 3, at.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if n, pending := storedChats(t, tl, client, at); n != 1 || !pending {
		t.Fatalf("after the cut-off append the day holds %d, pending %v; want 1 and pending", n, pending)
	}
	wantChats(t, tl, client, 3)
	// Recently marked: the append may still be at work, so the day stays
	// pending.
	if _, pending := storedChats(t, tl, client, at); !pending {
		t.Errorf("a day marked a moment ago was settled by a reader")
	}

	// Marked long ago by an append that never came back.
	if err := tl.MarkPendingSince(t.Context(), client, at, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantChats(t, tl, client, 3)
	if n, pending := storedChats(t, tl, client, at); n != 3 || pending {
		t.Errorf("after reading a day left pending long ago it holds %d, pending %v; want 3, settled", n, pending)
	}
	// The retry of the cut-off append counts nothing twice.
	if err := tl.AppendEvents(t.Context(), dayEvent(client, 2, at.Add(time.Hour)), dayEvent(client, 3, at.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := tl.CountDays(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantChats(t, tl, client, 3)
	if n, pending := storedChats(t, tl, client, at); n != 3 || pending {
		t.Errorf("after the retry the day holds %d, pending %v; want 3, settled", n, pending)
	}
}

// Events stored before day counts were kept are counted by the migration.
func TestMigrationCountsStoredDays(t *testing.T) {
	tl, cfg := ownKeyspace(t, "days")
	s := tl.Session()
	client := uuid.New()
	at := time.Date(2025, 2, 27, 23, 0, 0, 0, time.UTC)
	var events []*store.Event
	for i := range 5 {
		events = append(events, dayEvent(client, i, at.Add(time.Duration(i)*time.Hour)))
	}
	if err := tl.AppendEvents(t.Context(), events...); err != nil {
		t.Fatal(err)
	}
	if err := tl.CountDays(t.Context()); err != nil {
		t.Fatal(err)
	}
	// As the previous version left them: events, no counts.
	for _, cql := range []string{`TRUNCATE timeline_days`, `DELETE FROM schema_migrations WHERE version = 2000`} {
		if err := s.Query(cql).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	wantChats(t, tl, client, 0)
	again, err := cassandra.Open(t.Context(), cfg, backendtest.Logger())
	if err != nil {
		t.Fatalf("Open after an upgrade: %v", err)
	}
	defer again.Close()
	got, err := again.DayCounts(t.Context(), client, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Events != 1 || got[1].Events != 4 || !got[1].Day.Equal(time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after the upgrade DayCounts = %+v, want 1 chat on 27 February and 4 on the 28th", got)
	}
}

// Appends hand their days to a counter that counts them behind: soon after
// many appends to one day, it holds all of them and is no longer pending.
func TestDaysCountedBehindAppends(t *testing.T) {
	tl := open(t)
	client := uuid.New()
	at := time.Date(2025, 10, 7, 9, 0, 0, 0, time.UTC)
	for i := range 40 {
		if err := tl.AppendEvents(t.Context(), dayEvent(client, i, at.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, pending := storedChats(t, tl, client, at)
		if n == 40 && !pending {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the appends the day holds %d, pending %v; want 40, counted", n, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
