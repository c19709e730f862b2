package reminders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// SourceCadence names cadence follow-ups: a client the desk has not been in
// touch with as often as the profile's frequency asks.
const SourceCadence = "cadence"

// DefaultCadenceInterval is how often the cadence is checked.
const DefaultCadenceInterval = 15 * time.Minute

// cadenceIDs derives a cadence follow-up's id from the client, the stage
// and the last contact, so that each stage is raised once per silence,
// however many replicas check.
var cadenceIDs = uuid.MustParse("3b0f4d62-9a1e-4c7b-8f25-6d3e1a9c0b47")

// Frequencies as durations.
var frequencies = map[store.Frequency]time.Duration{
	store.Daily:     24 * time.Hour,
	store.Weekly:    7 * 24 * time.Hour,
	store.Monthly:   30 * 24 * time.Hour,
	store.Quarterly: 91 * 24 * time.Hour,
}

// contactQueryKinds are the kinds that may be a real contact.
var contactQueryKinds = []store.Kind{store.KindEmail, store.KindChat, store.KindCall, store.KindMeeting, store.KindOrder}

// CheckCadence looks at every client with a contact frequency and a
// broker: with no real contact for the frequency, a warning follow-up;
// for 1.5 times it, overdue (the warning, if still waiting, becomes it).
// A real contact resolves them (EventsStored) and restarts the clock. It
// returns how many follow-ups it raised or updated.
func (t *Triggers) CheckCadence(ctx context.Context) (int, error) {
	if t.Timeline == nil {
		return 0, nil
	}
	n := 0
	for c, err := range t.Clients.AllClients(ctx) {
		if err != nil {
			return n, err
		}
		freq, ok := frequencies[c.Contact.Frequency]
		if !ok || c.Broker == "" || c.Stage == store.Closed {
			continue
		}
		desk, err := t.Reminders.DeskFollowups(ctx, c.Team)
		if err != nil {
			return n, err
		}
		if !desk.Cadence {
			continue
		}
		raised, err := t.cadence(ctx, c, freq)
		if err != nil {
			return n, fmt.Errorf("cadence of %s: %w", c.Handle, err)
		}
		if raised {
			n++
		}
	}
	return n, nil
}

func (t *Triggers) cadence(ctx context.Context, c *store.Client, freq time.Duration) (bool, error) {
	last, err := t.lastContact(ctx, c)
	if err != nil {
		return false, err
	}
	if last.IsZero() {
		last = c.CreatedAt // the clock starts when the client is added
	}
	now := t.now()
	silent := now.Sub(last)
	stage, text := "", ""
	switch {
	case silent >= freq*3/2:
		stage, text = "overdue", fmt.Sprintf(overduePrefix+" no contact for %s; the client wants %s contact", days(silent), c.Contact.Frequency)
	case silent >= freq:
		stage, text = "warning", fmt.Sprintf("No contact for %s; the client wants %s contact", days(silent), c.Contact.Frequency)
	default:
		return false, nil
	}
	cadenceID := func(stage string) uuid.UUID {
		return uuid.NewSHA1(cadenceIDs, fmt.Appendf(nil, "%s|%s|%d", c.ID, stage, last.UnixMicro()))
	}
	id := cadenceID(stage)
	if _, err := t.Reminders.Reminder(ctx, id); err == nil {
		return false, nil // raised already for this silence
	} else if store.ErrorCode(err) != store.ENOTFOUND {
		return false, err
	}
	if stage == "overdue" {
		// A warning still waiting becomes the overdue follow-up (the store
		// updates it: one per client and reason); one the broker closed
		// after it had become overdue is not raised again.
		w, err := t.Reminders.Reminder(ctx, cadenceID("warning"))
		switch {
		case err == nil && strings.HasPrefix(w.Text, overduePrefix) && !open(w.State):
			return false, nil
		case err != nil && store.ErrorCode(err) != store.ENOTFOUND:
			return false, err
		}
	}
	return true, t.upsertID(ctx, id, c, t.zone(ctx, c.Broker), SourceCadence, SourceCadence, text, now)
}

const overduePrefix = "Overdue:"

func open(s store.ReminderState) bool {
	return s == store.ReminderPending || s == store.ReminderSnoozed || s == store.ReminderClaimed || s == store.ReminderPosted
}

// lastContact is the time of the client's latest real contact; zero for
// none.
func (t *Triggers) lastContact(ctx context.Context, c *store.Client) (time.Time, error) {
	q := store.EventQuery{Kinds: contactQueryKinds, Limit: 50}
	for range 20 {
		page, err := t.Timeline.Events(ctx, c.ID, q)
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range page.Events {
			if _, ok := realContact(e); ok {
				return e.Time, nil
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	return time.Time{}, nil
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
