package reminders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Trigger sources: a follow-up's Source names what triggered it.
const (
	SourceFill       = "fill"
	SourceMarketMove = "market_move"
	SourceSentiment  = "sentiment"
)

// Triggers turns what happens to a client into follow-ups for the client's
// broker. It is an ingest.Subscriber: the Recorder hands it every stored
// event, at least once, and it is idempotent by event (a follow-up per
// client and reason is updated, never doubled).
//
//   - a fill: a follow-up the desk's delay later (default 24 hours);
//   - a market move (signal market_move) in a commodity the client trades
//     or follows: at most one per client, commodity and day, carrying the
//     move;
//   - a negative inbound email or chat, or a sentiment drop (signal
//     sentiment_drop): one sentiment follow-up, updated by the next;
//   - a real contact (email, chat, call or meeting either way, or a fill)
//     closes the follow-ups created before it, and says so on the
//     timeline.
//
// Triggered follow-ups wait for the broker's working hours and the
// client's preferred contact times. Each desk turns triggers on and off
// (store.DeskFollowups, /team set).
type Triggers struct {
	Reminders store.ReminderStore
	Clients   store.ClientStore
	Timeline  store.TimelineStore // the resolutions are recorded here; nil: not recorded
	// Zone is the broker's time zone (Slack's users.info); nil or an error
	// means UTC.
	Zone   func(ctx context.Context, broker string) (*time.Location, error)
	Now    func() time.Time
	Logger *slog.Logger
}

// EventsStored implements ingest.Subscriber.
func (t *Triggers) EventsStored(ctx context.Context, events []*store.Event) error {
	var errs []error
	for _, e := range events {
		if err := t.event(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("follow-up for event %s: %w", e.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (t *Triggers) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Triggers) log() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// realContact reports whether e is a contact with the client, and how to
// name it.
func realContact(e *store.Event) (string, bool) {
	switch e.Kind {
	case store.KindEmail, store.KindChat, store.KindMeeting:
		return string(e.Kind), true
	case store.KindCall:
		return "call", true
	case store.KindOrder:
		if isFill(e) {
			return "fill", true
		}
	}
	return "", false
}

func isFill(e *store.Event) bool {
	o := e.Attrs.Order
	return e.Kind == store.KindOrder && o != nil && (o.Status == "filled" || o.Status == "partially_filled")
}

// inbound reports whether the client wrote e: an inbound email, or a chat
// message by someone other than the client's broker.
func inbound(e *store.Event, c *store.Client) bool {
	switch {
	case e.Attrs.Email != nil:
		return e.Attrs.Email.Direction == "inbound"
	case e.Kind == store.KindChat:
		return e.Source == store.SourceSlack && e.Actor != c.Broker
	}
	return false
}

func (t *Triggers) event(ctx context.Context, e *store.Event) error {
	contact, isContact := realContact(e)
	signal := e.Attrs.Signal()
	if !isContact && signal != store.SignalMarketMove && signal != store.SignalSentimentDrop {
		return nil
	}
	c, err := t.Clients.Client(ctx, e.ClientID)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	negative := (e.Kind == store.KindEmail || e.Kind == store.KindChat) && inbound(e, c) && e.Sentiment != nil && e.Sentiment.Label == "negative"
	if isContact {
		if err := t.resolve(ctx, c, e, contact); err != nil {
			return err
		}
	}
	if c.Broker == "" {
		return nil // nobody to remind
	}
	desk, err := t.Reminders.DeskFollowups(ctx, c.Team)
	if err != nil {
		return err
	}
	loc := t.zone(ctx, c.Broker)
	switch {
	case isFill(e):
		delay := desk.AfterFill
		if delay <= 0 {
			return nil // the desk follows up on no fill
		}
		text := "Follow up on the fill: " + e.Summary
		return t.upsert(ctx, c, loc, SourceFill, SourceFill, text, e.Time.Add(delay))
	case signal == store.SignalMarketMove && desk.MarketMoves:
		commodity := e.Attrs.Extra["commodity"]
		day := e.Time.In(loc).Format("2006-01-02")
		return t.upsert(ctx, c, loc, SourceMarketMove, "market_move:"+commodity+":"+day, e.Summary, e.Time)
	case signal == store.SignalSentimentDrop && desk.Sentiment:
		return t.upsert(ctx, c, loc, SourceSentiment, SourceSentiment, "Sentiment dropped: "+e.Summary, e.Time)
	case negative && desk.Sentiment:
		return t.upsert(ctx, c, loc, SourceSentiment, SourceSentiment, fmt.Sprintf("Negative %s from the client: %s", e.Kind, e.Summary), e.Time)
	}
	return nil
}

func (t *Triggers) zone(ctx context.Context, broker string) *time.Location {
	if t.Zone == nil {
		return time.UTC
	}
	loc, err := t.Zone(ctx, broker)
	if err != nil || loc == nil {
		if err != nil {
			t.log().Warn("broker's time zone unknown; UTC assumed for follow-ups", slog.String("broker", broker), slog.Any("err", err))
		}
		return time.UTC
	}
	return loc
}

// upsert places a follow-up in working hours and stores it.
func (t *Triggers) upsert(ctx context.Context, c *store.Client, loc *time.Location, source, key, text string, due time.Time) error {
	return t.upsertID(ctx, uuid.Nil, c, loc, source, key, text, due)
}

func (t *Triggers) upsertID(ctx context.Context, id uuid.UUID, c *store.Client, loc *time.Location, source, key, text string, due time.Time) error {
	set, err := t.Reminders.FollowupSettings(ctx, c.Broker)
	if err != nil {
		return err
	}
	clientLoc, ok := store.Location(c.TimeZone)
	if !ok {
		clientLoc = loc
	}
	if now := t.now(); due.Before(now) {
		due = now
	}
	due = WorkingTime(due, set, loc, c.Contact.Times, clientLoc)
	text, _ = store.Excerpt(text, store.ReminderTextMax-10)
	r, created, err := t.Reminders.UpsertFollowup(ctx, &store.Reminder{
		ID: id, ClientID: c.ID, Broker: c.Broker, Due: due, Text: text, Source: source, Key: key,
	})
	if err != nil {
		return err
	}
	t.log().Info("follow-up triggered", slog.String("reminder", r.ID.String()), slog.String("client", c.Handle),
		slog.String("reason", key), slog.Bool("created", created), slog.Time("due", r.Due))
	return nil
}

// resolve closes the follow-ups a contact made moot and records why.
func (t *Triggers) resolve(ctx context.Context, c *store.Client, e *store.Event, contact string) error {
	rs, err := t.Reminders.ResolveFollowups(ctx, c.ID, e.Time, t.now())
	if err != nil || len(rs) == 0 {
		return err
	}
	who := e.Actor
	if bot.IsSlackUser(who) {
		who = "<@" + who + ">"
	}
	loc := t.zone(ctx, rs[0].Broker)
	how := fmt.Sprintf("%s logged by %s at %s", contact, who, e.Time.In(loc).Format("15:04"))
	if inbound(e, c) || e.Kind == store.KindOrder {
		how = fmt.Sprintf("%s from the client at %s", contact, e.Time.In(loc).Format("15:04"))
	}
	var evs []*store.Event
	for _, r := range rs {
		t.log().Info("follow-up resolved by a contact", slog.String("reminder", r.ID.String()), slog.String("client", c.Handle), slog.String("how", how))
		ev := ingest.Written{Client: c.ID, Kind: store.KindReminder, Source: store.SourceCommand,
			SourceID: "reminder-resolved:" + r.ID.String(), Actor: r.Broker, At: e.Time,
			Text: "Follow-up resolved: " + how + " (" + r.Text + ")"}.Event()
		ev.Attrs.Extra = map[string]string{"reminder_id": r.ID.String(), "resolution": how, "event_id": e.ID.String()}
		if err := ev.Prepare(); err != nil {
			return err
		}
		evs = append(evs, ev)
	}
	if t.Timeline == nil {
		return nil
	}
	return t.Timeline.AppendEvents(ctx, evs...)
}
