package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// ChatMessage is a Slack message as a transport hands it over.
type ChatMessage struct {
	Channel string
	TS      string // Slack's "1700000000.000100": with Channel, the message's identity and time
	User    string // author
	Text    string // plain text, Slack's escapes decoded
	Edited  bool   // this is the message's new text
	Deleted bool   // the message was deleted
}

// sourceIDs are the timeline source ids a message may have on a client's
// timeline. The message's own identity comes first: the same message logged
// from its channel and by the shortcut is one event. A message logged to
// several clients has one entry each: the first client holds the message's
// own id, every other one an id naming the client.
func (m ChatMessage) sourceIDs(client uuid.UUID) [2]string {
	own := m.Channel + "/" + m.TS
	return [2]string{own, own + "/" + client.String()}
}

// Chat puts chat messages on client timelines.
type Chat struct {
	Timeline store.TimelineStore // where an edit finds the entry it revises
	Recorder *Recorder
}

// Record logs m on a client's timeline and returns the entry, or nil when
// there was nothing to log (an empty message, the deletion of one never
// logged). loggedBy is who logged it by hand ("" for a message of a linked
// channel). An edit revises the message's entry and keeps the first text
// with it; a deletion marks the entry deleted and keeps it, as
// record-keeping rules require. The same message again is one entry.
func (c Chat) Record(ctx context.Context, client uuid.UUID, m ChatMessage, loggedBy string) (*store.Event, error) {
	e, err := c.event(ctx, client, m)
	if err != nil || e == nil {
		return nil, err
	}
	if loggedBy != "" {
		if e.Attrs.Extra == nil {
			e.Attrs.Extra = map[string]string{}
		}
		e.Attrs.Extra["logged_by"] = loggedBy
	}
	err = c.Recorder.Record(ctx, e)
	var conflict *store.EventConflict
	if errors.As(err, &conflict) && e.Replaces == "" && e.SourceID == m.sourceIDs(client)[0] {
		// The message's own id is another client's entry: this client's
		// takes the id that names it.
		e.SourceID = m.sourceIDs(client)[1]
		e.ID, e.Fingerprint = uuid.Nil, ""
		err = c.Recorder.Record(ctx, e)
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// event builds the entry for m, merged with the one already stored for an
// edit or a deletion, which it then revises.
func (c Chat) event(ctx context.Context, client uuid.UUID, m ChatMessage) (*store.Event, error) {
	t, err := slackTime(m.TS)
	if err != nil || m.Channel == "" {
		return nil, store.Invalid("message", "a Slack message needs a channel and a ts, got %q %q", m.Channel, m.TS)
	}
	var old *store.Event
	for _, id := range m.sourceIDs(client) {
		old, err = c.Timeline.Event(ctx, client, store.EventID(store.SourceSlack, id))
		if store.ErrorCode(err) != store.ENOTFOUND {
			break
		}
		old, err = nil, nil
	}
	switch {
	case err != nil:
		return nil, err
	case old != nil && old.Attrs.Chat == nil:
		old.Attrs.Chat = &store.ChatAttrs{Channel: m.Channel}
	}
	if m.Deleted {
		if old == nil || old.Attrs.Chat.Deleted {
			return nil, nil // never logged, or marked already: nothing to do
		}
		old.Replaces = old.Fingerprint
		old.Attrs.Chat.Deleted = true
		return old, nil
	}
	text := strings.TrimSpace(m.Text)
	if text == "" {
		return nil, nil
	}
	e := old
	if e == nil {
		e = &store.Event{
			ClientID: client, Time: t, Kind: store.KindChat,
			Source: store.SourceSlack, SourceID: m.sourceIDs(client)[0], Actor: m.User,
			Attrs: store.Attrs{Chat: &store.ChatAttrs{Channel: m.Channel}},
		}
	} else {
		first := e.Body
		if first == "" {
			first = e.Summary
		}
		if first == text {
			return e, nil // a retry of the same edit, or an unchanged text
		}
		if e.Attrs.Extra == nil {
			e.Attrs.Extra = map[string]string{}
		}
		if _, ok := e.Attrs.Extra["original"]; !ok {
			e.Attrs.Extra["original"] = first
		}
		e.Replaces = e.Fingerprint
	}
	if m.Edited {
		e.Attrs.Chat.Edited = true
	}
	e.Summary, e.Body = Summarize(text)
	e.Truncated = false
	e.Sentiment = nil // the recorder scores the text as it now reads
	return e, nil
}

// slackTime reads a Slack ts ("1700000000.000100": seconds and
// microseconds).
func slackTime(ts string) (time.Time, error) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, fmt.Errorf("bad ts %q", ts)
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("bad ts %q", ts)
		}
	}
	return time.Unix(s, us*1000).UTC(), nil
}
