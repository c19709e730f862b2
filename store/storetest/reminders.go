package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// ReminderBackend is what the reminder contract needs: reminders, and
// clients for them to belong to.
type ReminderBackend interface {
	store.ReminderStore
	store.ClientStore
}

// RunReminderStoreTests runs the reminder contract against one backend.
// newStore is called once per subtest and must return an empty store: the
// claims take every due reminder there is.
func RunReminderStoreTests(t *testing.T, newStore func(t *testing.T) ReminderBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s ReminderBackend)
	}{
		{"CreateAndRead", testReminderCreate},
		{"RejectsInvalid", testReminderInvalid},
		{"ClaimsOnlyWhatIsDue", testReminderClaimDue},
		{"LeaseRunsOutAndAnotherTakesOver", testReminderLease},
		{"PostedIsRecordedOnlyByTheHolder", testReminderPosted},
		{"RetryWaitsUntilItsTime", testReminderRetry},
		{"BatchOfPostsRecordsOnlyWhatIsHeld", testReminderPostedBatch},
		{"CancelledIsNeverPosted", testReminderCancel},
		{"DoneAndSnoozed", testReminderCloseSnooze},
		{"FollowupSettings", testFollowupSettings},
		{"DeskFollowups", testDeskFollowups},
		{"ListByDesk", testReminderListByDesk},
		{"FollowupUpdatedNeverDoubled", testFollowupUpsert},
		{"FollowupsResolvedByContact", testFollowupResolve},
		{"ConcurrentClaimsNeverShareAReminder", testReminderConcurrentClaims},
		{"ListFilters", testReminderList},
		{"ReassignedToAnotherBroker", testReminderReassign},
		{"ChannelPaceSharedByCallers", testReminderPacing},
		{"ClaimsTakeBrokersInTurn", testReminderClaimTurns},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var reminderEpoch = time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)

func reminderClient(t *testing.T, s ReminderBackend, i int) *store.Client {
	t.Helper()
	c := SimpleClient(i)
	if err := s.CreateClient(t.Context(), c, "U0CREATOR"); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c
}

func newReminder(t *testing.T, s ReminderBackend, c *store.Client, broker string, due time.Time, text string) *store.Reminder {
	t.Helper()
	r := &store.Reminder{ClientID: c.ID, Broker: broker, Due: due, Text: text, Source: "command", CreatedBy: broker}
	if err := s.CreateReminder(t.Context(), r); err != nil {
		t.Fatalf("CreateReminder: %v", err)
	}
	return r
}

func claimDue(t *testing.T, s ReminderBackend, owner string, now time.Time, limit int) []*store.Reminder {
	t.Helper()
	rs, err := s.ClaimDueReminders(t.Context(), owner, now, time.Minute, limit)
	if err != nil {
		t.Fatalf("ClaimDueReminders(%s, %v): %v", owner, now, err)
	}
	return rs
}

func testReminderCreate(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	due := reminderEpoch.Add(123456789 * time.Nanosecond)
	r := newReminder(t, s, c, "U0JANE", due, "call back about Dec corn — ünïcode")
	if r.ID == uuid.Nil || r.State != store.ReminderPending {
		t.Fatalf("after create: id %v state %q, want an id and pending", r.ID, r.State)
	}
	got, err := s.Reminder(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != c.ID || got.Broker != "U0JANE" || got.Text != r.Text || got.Source != "command" ||
		got.CreatedBy != "U0JANE" || got.State != store.ReminderPending || got.Attempts != 0 || got.MessageTS != "" {
		t.Errorf("read back %+v, want %+v", got, r)
	}
	if !got.Due.Equal(due.Truncate(time.Microsecond)) || !got.NextAt.Equal(got.Due) {
		t.Errorf("due %v next %v, want both %v", got.Due, got.NextAt, due)
	}
	if _, err := s.Reminder(t.Context(), uuid.New()); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("unknown reminder: got %v, want ENOTFOUND", err)
	}
	dup := *r
	if err := s.CreateReminder(t.Context(), &dup); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("the same id again: got %v, want ECONFLICT", err)
	}
}

func testReminderInvalid(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	for name, r := range map[string]*store.Reminder{
		"no client":    {Broker: "U1", Due: reminderEpoch, Text: "x", Source: "command"},
		"no broker":    {ClientID: c.ID, Due: reminderEpoch, Text: "x", Source: "command"},
		"no due time":  {ClientID: c.ID, Broker: "U1", Text: "x", Source: "command"},
		"no text":      {ClientID: c.ID, Broker: "U1", Due: reminderEpoch, Text: "  ", Source: "command"},
		"no source":    {ClientID: c.ID, Broker: "U1", Due: reminderEpoch, Text: "x"},
		"text too big": {ClientID: c.ID, Broker: "U1", Due: reminderEpoch, Text: string(make([]byte, store.ReminderTextMax+1)), Source: "command"},
	} {
		if err := s.CreateReminder(t.Context(), r); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
	r := &store.Reminder{ClientID: uuid.New(), Broker: "U1", Due: reminderEpoch, Text: "x", Source: "command"}
	if err := s.CreateReminder(t.Context(), r); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("unknown client: got %v, want ENOTFOUND", err)
	}
	if rs, _ := s.ListReminders(t.Context(), store.ReminderFilter{}); len(rs) != 0 {
		t.Errorf("invalid reminders were stored: %d", len(rs))
	}
}

func testReminderClaimDue(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	early := newReminder(t, s, c, "U1", reminderEpoch, "early")
	later := newReminder(t, s, c, "U1", reminderEpoch.Add(time.Minute), "later")
	newReminder(t, s, c, "U1", reminderEpoch.Add(time.Hour), "not yet")

	if got := claimDue(t, s, "a", reminderEpoch.Add(-time.Second), 10); len(got) != 0 {
		t.Fatalf("before anything is due: claimed %d", len(got))
	}
	got := claimDue(t, s, "a", reminderEpoch.Add(time.Minute), 10)
	if len(got) != 2 || got[0].ID != early.ID || got[1].ID != later.ID {
		t.Fatalf("claimed %v, want early and later in that order", texts(got))
	}
	for _, r := range got {
		if r.State != store.ReminderClaimed || r.LeaseOwner != "a" || r.Attempts != 1 ||
			!r.NextAt.Equal(reminderEpoch.Add(2*time.Minute)) {
			t.Errorf("claimed %q: state %s owner %q attempts %d next %v", r.Text, r.State, r.LeaseOwner, r.Attempts, r.NextAt)
		}
	}
	// Claimed and leased: no one else gets them while the lease lasts.
	if again := claimDue(t, s, "b", reminderEpoch.Add(90*time.Second), 10); len(again) != 0 {
		t.Fatalf("claimed again within the lease: %v", texts(again))
	}
	// The limit is honoured.
	c2 := reminderClient(t, s, 2)
	for i := range 5 {
		newReminder(t, s, c2, "U2", reminderEpoch.Add(-time.Duration(i)*time.Minute), fmt.Sprint("batch ", i))
	}
	if got := claimDue(t, s, "b", reminderEpoch, 3); len(got) != 3 {
		t.Fatalf("limit 3: claimed %d", len(got))
	}
}

func testReminderLease(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	r := newReminder(t, s, c, "U1", reminderEpoch, "in flight")
	claimDue(t, s, "a", reminderEpoch, 10)
	// Replica a dies; its lease (a minute) runs out.
	got := claimDue(t, s, "b", reminderEpoch.Add(time.Minute), 10)
	if len(got) != 1 || got[0].ID != r.ID || got[0].LeaseOwner != "b" || got[0].Attempts != 2 {
		t.Fatalf("after the lease ran out: %+v, want b's claim, attempt 2", got)
	}
	// a comes back: its claim is gone.
	if err := s.MarkReminderPosted(t.Context(), r.ID, "a", "D1", "1.1", reminderEpoch); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("posting under a lost lease: got %v, want ECONFLICT", err)
	}
	if err := s.ExtendReminderLease(t.Context(), r.ID, "a", reminderEpoch.Add(time.Hour)); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("extending a lost lease: got %v, want ECONFLICT", err)
	}
	// b extends its lease: nobody takes it at the old end.
	if err := s.ExtendReminderLease(t.Context(), r.ID, "b", reminderEpoch.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := claimDue(t, s, "c", reminderEpoch.Add(5*time.Minute), 10); len(got) != 0 {
		t.Fatalf("claimed within an extended lease: %v", texts(got))
	}
}

func testReminderPosted(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	r := newReminder(t, s, c, "U1", reminderEpoch, "post me")
	claimDue(t, s, "a", reminderEpoch, 10)
	at := reminderEpoch.Add(2 * time.Second)
	if err := s.MarkReminderPosted(t.Context(), r.ID, "a", "D0JANE", "1765378800.000100", at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Reminder(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.ReminderPosted || got.Channel != "D0JANE" || got.MessageTS != "1765378800.000100" ||
		!got.PostedAt.Equal(at) || got.LeaseOwner != "" {
		t.Fatalf("after posting: %+v", got)
	}
	// Posted is final for the scheduler, even long after.
	if again := claimDue(t, s, "b", reminderEpoch.Add(24*time.Hour), 10); len(again) != 0 {
		t.Fatalf("a posted reminder was claimed again: %v", texts(again))
	}
	if err := s.MarkReminderPosted(t.Context(), r.ID, "a", "D0JANE", "2.2", at); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("posting twice: got %v, want ECONFLICT", err)
	}
}

func testReminderRetry(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	r := newReminder(t, s, c, "U1", reminderEpoch, "slack was slow")
	claimDue(t, s, "a", reminderEpoch, 10)
	if err := s.RetryReminder(t.Context(), r.ID, "a", reminderEpoch.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claimDue(t, s, "b", reminderEpoch.Add(29*time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed before its retry time: %v", texts(got))
	}
	got := claimDue(t, s, "b", reminderEpoch.Add(30*time.Second), 10)
	if len(got) != 1 || got[0].Attempts != 2 || !got[0].Due.Equal(reminderEpoch) {
		t.Fatalf("at the retry time: %+v, want it with attempt 2 and its due time kept", got)
	}
	if err := s.RetryReminder(t.Context(), r.ID, "a", reminderEpoch); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("retry by a former holder: got %v, want ECONFLICT", err)
	}
}

func testReminderConcurrentClaims(t *testing.T, s ReminderBackend) {
	const n = 300
	c := reminderClient(t, s, 1)
	for i := range n {
		newReminder(t, s, c, "U1", reminderEpoch.Add(time.Duration(i)*time.Millisecond), fmt.Sprint("r", i))
	}
	var mu sync.Mutex
	seen := map[uuid.UUID]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		owner := fmt.Sprint("replica-", w)
		wg.Go(func() {
			for {
				rs, err := s.ClaimDueReminders(t.Context(), owner, reminderEpoch.Add(time.Second), time.Minute, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(rs) == 0 {
					return
				}
				mu.Lock()
				for _, r := range rs {
					if prev, ok := seen[r.ID]; ok {
						errs <- fmt.Errorf("%s claimed by %s and %s", r.Text, prev, owner)
					}
					seen[r.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != n {
		t.Fatalf("claimed %d reminders, want %d", len(seen), n)
	}
}

func testReminderList(t *testing.T, s ReminderBackend) {
	c1, c2 := reminderClient(t, s, 1), reminderClient(t, s, 2)
	newReminder(t, s, c1, "U1", reminderEpoch.Add(time.Hour), "a")
	newReminder(t, s, c2, "U1", reminderEpoch.Add(-time.Second), "b")
	newReminder(t, s, c1, "U2", reminderEpoch, "c")
	claimDue(t, s, "x", reminderEpoch, 10) // b and c are claimed
	check := func(name string, f store.ReminderFilter, want ...string) {
		t.Helper()
		rs, err := s.ListReminders(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(rs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("all", store.ReminderFilter{}, "b", "c", "a")
	check("broker", store.ReminderFilter{Broker: "U1"}, "b", "a")
	check("client", store.ReminderFilter{ClientID: c1.ID}, "c", "a")
	check("pending", store.ReminderFilter{States: []store.ReminderState{store.ReminderPending}}, "a")
	check("due before", store.ReminderFilter{DueBefore: reminderEpoch.Add(time.Minute), Broker: "U1"}, "b")
	check("limit", store.ReminderFilter{Limit: 1}, "b")
}

func texts(rs []*store.Reminder) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

func testReminderPostedBatch(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	mine := []*store.Reminder{
		newReminder(t, s, c, "U1", reminderEpoch, "one"),
		newReminder(t, s, c, "U2", reminderEpoch, "two"),
	}
	claimDue(t, s, "a", reminderEpoch, 10)
	lost := newReminder(t, s, c, "U1", reminderEpoch.Add(time.Second), "taken over")
	claimDue(t, s, "b", reminderEpoch.Add(time.Second), 10)
	at := reminderEpoch.Add(3 * time.Second)
	done, err := s.MarkRemindersPosted(t.Context(), "a", []store.ReminderPost{
		{ID: mine[0].ID, Channel: "D1", TS: "1.000001", At: at},
		{ID: mine[1].ID, Channel: "D2", TS: "1.000002", At: at},
		{ID: lost.ID, Channel: "D1", TS: "1.000003", At: at},
		{ID: uuid.New(), Channel: "D1", TS: "1.000004", At: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || !(done[0] == mine[0].ID || done[1] == mine[0].ID) || !(done[0] == mine[1].ID || done[1] == mine[1].ID) {
		t.Fatalf("recorded %v, want only a's two", done)
	}
	for i, r := range mine {
		got, err := s.Reminder(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.ReminderPosted || got.MessageTS != fmt.Sprintf("1.00000%d", i+1) || got.Channel != fmt.Sprint("D", i+1) || !got.PostedAt.Equal(at) {
			t.Errorf("%s: %+v", r.Text, got)
		}
	}
	if got, _ := s.Reminder(t.Context(), lost.ID); got.State != store.ReminderClaimed || got.LeaseOwner != "b" {
		t.Errorf("b's reminder: %s by %q, want still b's claim", got.State, got.LeaseOwner)
	}
	if done, err := s.MarkRemindersPosted(t.Context(), "a", nil); err != nil || len(done) != 0 {
		t.Errorf("no posts: %v %v", done, err)
	}
}

func testReminderCancel(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	r := newReminder(t, s, c, "U1", reminderEpoch, "cancel me")
	got, err := s.CancelReminder(t.Context(), r.ID, reminderEpoch.Add(-time.Minute))
	if err != nil || got.State != store.ReminderCancelled || got.Text != "cancel me" {
		t.Fatalf("CancelReminder: %+v %v", got, err)
	}
	if rs := claimDue(t, s, "a", reminderEpoch.Add(time.Hour), 10); len(rs) != 0 {
		t.Fatalf("a cancelled reminder was claimed: %v", texts(rs))
	}
	if _, err := s.CancelReminder(t.Context(), r.ID, reminderEpoch); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("cancelling twice: got %v, want ECONFLICT", err)
	}
	if _, err := s.CancelReminder(t.Context(), uuid.New(), reminderEpoch); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("cancelling an unknown reminder: got %v, want ENOTFOUND", err)
	}
	posted := newReminder(t, s, c, "U1", reminderEpoch, "posted")
	claimDue(t, s, "a", reminderEpoch.Add(time.Hour), 10)
	if err := s.MarkReminderPosted(t.Context(), posted.ID, "a", "D1", "1.1", reminderEpoch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelReminder(t.Context(), posted.ID, reminderEpoch); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("cancelling a posted reminder: got %v, want ECONFLICT", err)
	}
}

func testReminderCloseSnooze(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	c := reminderClient(t, s, 1)
	r := newReminder(t, s, c, "U1", reminderEpoch, "snooze me")
	claimDue(t, s, "a", reminderEpoch, 10)
	// Being posted right now: neither snoozed nor (silently) lost.
	if _, err := s.SnoozeReminder(ctx, r.ID, reminderEpoch.Add(time.Hour), reminderEpoch); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("snoozing a claimed reminder: got %v, want ECONFLICT", err)
	}
	if err := s.MarkReminderPosted(ctx, r.ID, "a", "D1", "1.1", reminderEpoch); err != nil {
		t.Fatal(err)
	}
	until := reminderEpoch.Add(time.Hour)
	got, err := s.SnoozeReminder(ctx, r.ID, until, reminderEpoch.Add(time.Minute))
	if err != nil || got.State != store.ReminderSnoozed || !got.Due.Equal(until) || !got.NextAt.Equal(until) ||
		got.MessageTS != "" || !got.PostedAt.IsZero() || got.Attempts != 0 || got.Channel != "" {
		t.Fatalf("SnoozeReminder: %+v %v", got, err)
	}
	if rs := claimDue(t, s, "a", until.Add(-time.Second), 10); len(rs) != 0 {
		t.Fatalf("a snoozed reminder was claimed before its time: %v", texts(rs))
	}
	rs := claimDue(t, s, "b", until, 10)
	if len(rs) != 1 || rs[0].ID != r.ID || rs[0].Attempts != 1 {
		t.Fatalf("claimed at the snooze's end: %+v", rs)
	}
	if err := s.MarkReminderPosted(ctx, r.ID, "b", "D1", "1.2", until); err != nil {
		t.Fatal(err)
	}
	done, err := s.CloseReminder(ctx, r.ID, until.Add(time.Minute))
	if err != nil || done.State != store.ReminderDone || done.MessageTS != "1.2" {
		t.Fatalf("CloseReminder: %+v %v", done, err)
	}
	if _, err := s.CloseReminder(ctx, r.ID, until.Add(time.Minute)); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("closing twice: got %v, want ECONFLICT", err)
	}
	if _, err := s.SnoozeReminder(ctx, r.ID, until.Add(time.Hour), until); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("snoozing a done reminder: got %v, want ECONFLICT", err)
	}
	if _, err := s.CloseReminder(ctx, uuid.New(), until); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("closing an unknown reminder: got %v, want ENOTFOUND", err)
	}
	// A pending one may be closed before it is due, and is never posted.
	early := newReminder(t, s, c, "U1", reminderEpoch.Add(2*time.Hour), "closed early")
	if _, err := s.CloseReminder(ctx, early.ID, reminderEpoch); err != nil {
		t.Fatal(err)
	}
	if rs := claimDue(t, s, "a", reminderEpoch.Add(3*time.Hour), 10); len(rs) != 0 {
		t.Fatalf("a done reminder was claimed: %v", texts(rs))
	}
}

func testFollowupSettings(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	got, err := s.FollowupSettings(ctx, "U1")
	if err != nil || got.Channel != "" || got.Hours() != "08:00-18:00" || got.Broker != "U1" {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	set := &store.FollowupSettings{Broker: "U1", Channel: "C1", DayStart: 7 * 60, DayEnd: 17*60 + 30}
	if err := s.SetFollowupSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	got, err = s.FollowupSettings(ctx, "U1")
	if err != nil || got.Channel != "C1" || got.Hours() != "07:00-17:30" || got.UpdatedAt.IsZero() {
		t.Fatalf("after set: %+v %v", got, err)
	}
	set.Channel = ""
	if err := s.SetFollowupSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FollowupSettings(ctx, "U1"); got.Channel != "" || got.Hours() != "07:00-17:30" {
		t.Fatalf("back to the DM: %+v", got)
	}
	if other, _ := s.FollowupSettings(ctx, "U2"); other.Hours() != "08:00-18:00" {
		t.Errorf("another broker's: %+v", other)
	}
	for _, bad := range []*store.FollowupSettings{
		{Broker: "U1", DayStart: 18 * 60, DayEnd: 8 * 60},
		{Broker: "U1", DayStart: 0, DayEnd: 25 * 60},
		{Broker: "", DayStart: 60, DayEnd: 120},
	} {
		if err := s.SetFollowupSettings(ctx, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("SetFollowupSettings(%+v): got %v, want EINVALID", bad, err)
		}
	}
}

func testReminderListByDesk(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	c1, c2, c3 := SimpleClient(1), SimpleClient(2), SimpleClient(3)
	c1.Team, c2.Team, c3.Team = "grain-desk", "softs-desk", ""
	for _, c := range []*store.Client{c1, c2, c3} {
		if err := s.CreateClient(ctx, c, "U0CREATOR"); err != nil {
			t.Fatal(err)
		}
	}
	newReminder(t, s, c1, "U1", reminderEpoch, "grain")
	newReminder(t, s, c2, "U1", reminderEpoch.Add(time.Minute), "softs")
	newReminder(t, s, c3, "U1", reminderEpoch.Add(2*time.Minute), "none")
	for _, tc := range []struct {
		teams []string
		want  string
	}{{[]string{"grain-desk"}, "[grain]"}, {[]string{"grain-desk", "softs-desk"}, "[grain softs]"}, {[]string{"metals-desk"}, "[]"}, {nil, "[grain softs none]"}} {
		rs, err := s.ListReminders(ctx, store.ReminderFilter{Teams: tc.teams})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(texts(rs)); got != tc.want {
			t.Errorf("teams %v: got %s, want %s", tc.teams, got, tc.want)
		}
	}
}

func followup(c *store.Client, key, text string, due time.Time) *store.Reminder {
	return &store.Reminder{ClientID: c.ID, Broker: "U1", Due: due, Text: text, Source: "fill", Key: key}
}

func testFollowupUpsert(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	c, c2 := reminderClient(t, s, 1), reminderClient(t, s, 2)
	first, created, err := s.UpsertFollowup(ctx, followup(c, "fill", "first fill", reminderEpoch))
	if err != nil || !created || first.Key != "fill" {
		t.Fatalf("first: %+v %v %v", first, created, err)
	}
	// Concurrent triggers for the same client and reason: one reminder.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.UpsertFollowup(ctx, followup(c, "fill", fmt.Sprintf("fill %d", i), reminderEpoch.Add(time.Hour))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rs, err := s.ListReminders(ctx, store.ReminderFilter{ClientID: c.ID})
	if err != nil || len(rs) != 1 || rs[0].ID != first.ID || !rs[0].Due.Equal(reminderEpoch.Add(time.Hour)) || !strings.HasPrefix(rs[0].Text, "fill ") {
		t.Fatalf("after concurrent upserts: %+v %v", rs, err)
	}
	// Another reason, another client: their own.
	if _, created, _ := s.UpsertFollowup(ctx, followup(c, "sentiment", "upset", reminderEpoch)); !created {
		t.Error("another reason was not created")
	}
	if _, created, _ := s.UpsertFollowup(ctx, followup(c2, "fill", "c2", reminderEpoch)); !created {
		t.Error("another client's was not created")
	}
	// Posted: left as it is, still not doubled.
	claimDue(t, s, "a", reminderEpoch.Add(2*time.Hour), 10)
	got, created, err := s.UpsertFollowup(ctx, followup(c, "fill", "while posting", reminderEpoch.Add(3*time.Hour)))
	if err != nil || created || got.ID != first.ID || got.Text == "while posting" {
		t.Fatalf("while claimed: %+v %v %v", got, created, err)
	}
	// Done: the next one is new.
	if _, err := s.CloseReminder(ctx, first.ID, reminderEpoch); err != nil {
		t.Fatal(err)
	}
	got, created, err = s.UpsertFollowup(ctx, followup(c, "fill", "after done", reminderEpoch.Add(3*time.Hour)))
	if err != nil || !created || got.ID == first.ID {
		t.Fatalf("after done: %+v %v %v", got, created, err)
	}
	if _, _, err := s.UpsertFollowup(ctx, followup(c, "", "no key", reminderEpoch)); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("no key: %v", err)
	}
}

func testFollowupResolve(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	c, c2 := reminderClient(t, s, 1), reminderClient(t, s, 2)
	f1, _, _ := s.UpsertFollowup(ctx, followup(c, "fill", "after fill", reminderEpoch))
	f2, _, _ := s.UpsertFollowup(ctx, followup(c, "sentiment", "upset", reminderEpoch))
	other, _, _ := s.UpsertFollowup(ctx, followup(c2, "fill", "other client", reminderEpoch))
	own := newReminder(t, s, c, "U1", reminderEpoch, "set by the broker")
	// A contact from before they were created resolves nothing.
	if rs, err := s.ResolveFollowups(ctx, c.ID, f1.CreatedAt.Add(-time.Second), reminderEpoch); err != nil || len(rs) != 0 {
		t.Fatalf("an older contact resolved %v %v", texts(rs), err)
	}
	rs, err := s.ResolveFollowups(ctx, c.ID, f2.CreatedAt.Add(time.Second), reminderEpoch)
	if err != nil || len(rs) != 2 || rs[0].State != store.ReminderDone {
		t.Fatalf("resolved %+v %v", rs, err)
	}
	for _, id := range []uuid.UUID{other.ID, own.ID} {
		if r, _ := s.Reminder(ctx, id); r.State != store.ReminderPending {
			t.Errorf("%q was resolved too: %s", r.Text, r.State)
		}
	}
	if rs, _ := s.ResolveFollowups(ctx, c.ID, f2.CreatedAt.Add(time.Second), reminderEpoch); len(rs) != 0 {
		t.Errorf("resolved twice: %v", texts(rs))
	}
}

func testDeskFollowups(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	got, err := s.DeskFollowups(ctx, "grain-desk")
	if err != nil || got.AfterFill != 24*time.Hour || !got.MarketMoves || !got.Sentiment || !got.Cadence {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	set := &store.DeskFollowups{Desk: "grain-desk", AfterFill: 4 * time.Hour, MarketMoves: false, Sentiment: true, Cadence: false, UpdatedBy: "U0ADMIN"}
	if err := s.SetDeskFollowups(ctx, set); err != nil {
		t.Fatal(err)
	}
	got, err = s.DeskFollowups(ctx, "grain-desk")
	if err != nil || got.AfterFill != 4*time.Hour || got.MarketMoves || !got.Sentiment || got.Cadence || got.UpdatedBy != "U0ADMIN" || got.UpdatedAt.IsZero() {
		t.Fatalf("after set: %+v %v", got, err)
	}
	if other, _ := s.DeskFollowups(ctx, "softs-desk"); other.AfterFill != 24*time.Hour {
		t.Errorf("another desk: %+v", other)
	}
	for _, bad := range []*store.DeskFollowups{{Desk: "grain-desk", AfterFill: -time.Hour}, {Desk: "grain-desk", AfterFill: 30 * time.Second}, {Desk: ""}} {
		if err := s.SetDeskFollowups(ctx, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("SetDeskFollowups(%+v): %v, want EINVALID", bad, err)
		}
	}
}

func testReminderReassign(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	c := reminderClient(t, s, 1)
	pending := newReminder(t, s, c, "U1", reminderEpoch.Add(time.Hour), "later")
	posted := newReminder(t, s, c, "U1", reminderEpoch, "now")
	claimDue(t, s, "a", reminderEpoch, 10)
	if _, err := s.ReassignReminder(ctx, posted.ID, "U2", reminderEpoch); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("reassigning a reminder being posted: %v, want ECONFLICT", err)
	}
	if err := s.MarkReminderPosted(ctx, posted.ID, "a", "D1", "1.1", reminderEpoch); err != nil {
		t.Fatal(err)
	}
	at := reminderEpoch.Add(2 * time.Minute)
	got, err := s.ReassignReminder(ctx, posted.ID, "U2", at)
	if err != nil || got.Broker != "U2" || got.State != store.ReminderPending || !got.NextAt.Equal(at) || !got.Due.Equal(reminderEpoch) ||
		got.MessageTS != "" || got.Channel != "" || got.Attempts != 0 {
		t.Fatalf("reassign a posted reminder: %+v %v", got, err)
	}
	rs := claimDue(t, s, "b", at, 10)
	if len(rs) != 1 || rs[0].ID != posted.ID || rs[0].Broker != "U2" {
		t.Fatalf("claimed after the reassignment: %+v", rs)
	}
	got, err = s.ReassignReminder(ctx, pending.ID, "U3", at)
	if err != nil || got.Broker != "U3" || got.State != store.ReminderPending || !got.NextAt.Equal(pending.Due) {
		t.Fatalf("reassign a pending reminder: %+v %v", got, err)
	}
	if _, err := s.CloseReminder(ctx, pending.ID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReassignReminder(ctx, pending.ID, "U2", at); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("reassigning a done reminder: %v, want ECONFLICT", err)
	}
	if _, err := s.ReassignReminder(ctx, uuid.New(), "U2", at); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("unknown reminder: %v, want ENOTFOUND", err)
	}
}

// The pace of a channel is kept between calls, an error from fn changes
// nothing, and callers changing overlapping channels at once (in any
// order) neither lose an update nor wait on each other for ever.
func testReminderPacing(t *testing.T, s ReminderBackend) {
	ctx := t.Context()
	err := s.PaceReminderChannels(ctx, []string{"C1", "D2", "C1"}, func(ps map[string]*store.ReminderPace) error {
		if len(ps) != 2 {
			t.Errorf("fn got %d paces for two channels", len(ps))
		}
		for c, p := range ps {
			if p.Channel != c || !p.Next.IsZero() || !p.StrictUntil.IsZero() || !p.Last.IsZero() {
				t.Errorf("a channel never paced: %+v", p)
			}
		}
		ps["C1"].Next, ps["C1"].StrictUntil, ps["C1"].Last = reminderEpoch.Add(time.Second), reminderEpoch.Add(time.Minute), reminderEpoch
		ps["D2"].Next = reminderEpoch.Add(2 * time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func() map[string]store.ReminderPace {
		t.Helper()
		out := map[string]store.ReminderPace{}
		if err := s.PaceReminderChannels(ctx, []string{"C1", "D2"}, func(ps map[string]*store.ReminderPace) error {
			for c, p := range ps {
				out[c] = *p
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := read()
	if !got["C1"].Next.Equal(reminderEpoch.Add(time.Second)) || !got["C1"].StrictUntil.Equal(reminderEpoch.Add(time.Minute)) ||
		!got["C1"].Last.Equal(reminderEpoch) || !got["D2"].Last.IsZero() ||
		!got["D2"].Next.Equal(reminderEpoch.Add(2*time.Second)) || !got["D2"].StrictUntil.IsZero() {
		t.Fatalf("paces kept: %+v", got)
	}

	failed := fmt.Errorf("no")
	if err := s.PaceReminderChannels(ctx, []string{"C1"}, func(ps map[string]*store.ReminderPace) error {
		ps["C1"].Next = reminderEpoch.Add(time.Hour)
		return failed
	}); err != failed {
		t.Fatalf("fn's error: got %v", err)
	}
	if got := read(); !got["C1"].Next.Equal(reminderEpoch.Add(time.Second)) {
		t.Fatalf("a failed fn changed the pace: %+v", got["C1"])
	}

	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		chans := []string{"C1", "D2", fmt.Sprint("C", 3+i%3)}
		if i%2 == 1 {
			chans = []string{chans[2], "D2", "C1"}
		}
		wg.Go(func() {
			errs <- s.PaceReminderChannels(ctx, chans, func(ps map[string]*store.ReminderPace) error {
				for _, p := range ps {
					if p.Next.Before(reminderEpoch) {
						p.Next = reminderEpoch
					}
					p.Next = p.Next.Add(time.Second)
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got = read()
	if want := reminderEpoch.Add((1 + callers) * time.Second); !got["C1"].Next.Equal(want) {
		t.Errorf("C1 next %v after %d callers, want %v", got["C1"].Next, callers, want)
	}
	if want := reminderEpoch.Add((2 + callers) * time.Second); !got["D2"].Next.Equal(want) {
		t.Errorf("D2 next %v after %d callers, want %v", got["D2"].Next, callers, want)
	}
}

// A burst for three brokers, most of it for one: a claim takes each
// broker's earliest before any broker's second.
func testReminderClaimTurns(t *testing.T, s ReminderBackend) {
	c := reminderClient(t, s, 1)
	for i := range 6 {
		newReminder(t, s, c, "U0JANE", reminderEpoch.Add(-time.Duration(10-i)*time.Second), fmt.Sprint("jane ", i))
	}
	newReminder(t, s, c, "U0BOB", reminderEpoch, "bob 0")
	newReminder(t, s, c, "U0BOB", reminderEpoch, "bob 1")
	newReminder(t, s, c, "U0ANN", reminderEpoch, "ann 0")
	got := claimDue(t, s, "a", reminderEpoch, 4)
	per := map[string]int{}
	for _, r := range got {
		per[r.Broker]++
	}
	if len(got) != 4 || per["U0JANE"] != 2 || per["U0BOB"] != 1 || per["U0ANN"] != 1 {
		t.Fatalf("claimed %v: want each broker's earliest, then Jane's or Bob's second", texts(got))
	}
	if ts := texts(got); !slices.Contains(ts, "jane 0") {
		t.Errorf("claimed %v: Jane's earliest first", ts)
	}
}
