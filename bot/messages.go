package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot/cmdline"
	"github.com/brokersync/brokersync/store"
)

// Message is a chat message as the bot sees it.
type Message struct {
	Channel string
	TS      string // Slack's "1700000000.000100"; with Channel, the message's identity
	User    string // author
	Text    string // as Slack sends it, escapes and all
	Edited  bool   // this is the message's new text
	Deleted bool   // the message was deleted
}

// sourceIDs are the timeline source ids a Slack message may have on a
// client's timeline. The message's own identity comes first: the same
// message logged from its channel and by the shortcut is one event. A
// message logged to several clients has one entry each: the first client
// holds the message's own id, every other one an id naming the client.
func (m Message) sourceIDs(client uuid.UUID) [2]string {
	own := m.Channel + "/" + m.TS
	return [2]string{own, own + "/" + client.String()}
}

// ChannelMessage logs a message posted in a channel linked to a client
// (/client link) as a chat event on the client's timeline. An edit updates
// the same event and keeps the first text; a deletion marks the event
// deleted and keeps it, as record-keeping rules require. Messages in
// channels linked to no client are ignored. Applying the same message twice
// leaves one event.
func (b *Bot) ChannelMessage(ctx context.Context, m Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = store.Internal("log a channel message", fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	clientID, err := b.links.ChannelClient(ctx, m.Channel)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	e, err := b.chatEvent(ctx, clientID, m)
	if err != nil || e == nil {
		return err
	}
	return b.recordChat(ctx, e)
}

// recordChat records a chat event from chatEvent. A new entry whose
// message's own id is held by another client's entry takes the id that
// names its client (Message.sourceIDs).
func (b *Bot) recordChat(ctx context.Context, e *store.Event) error {
	err := b.rec.Record(ctx, e)
	var c *store.EventConflict
	if !errors.As(err, &c) || e.Replaces != "" || strings.Count(e.SourceID, "/") != 1 {
		return err
	}
	e.SourceID += "/" + e.ClientID.String()
	e.ID, e.Fingerprint = uuid.Nil, ""
	return b.rec.Record(ctx, e)
}

// chatEvent builds the event for m, merged with the one already stored for
// an edit or a deletion. nil means there is nothing to store.
func (b *Bot) chatEvent(ctx context.Context, clientID uuid.UUID, m Message) (*store.Event, error) {
	t, err := tsTime(m.TS)
	if err != nil || m.Channel == "" {
		return nil, store.Invalid("message", "a Slack message needs a channel and a ts, got %q %q", m.Channel, m.TS)
	}
	var old *store.Event
	for _, id := range m.sourceIDs(clientID) {
		old, err = b.timeline.Event(ctx, clientID, store.EventID(store.SourceSlack, id))
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
	text := strings.TrimSpace(cmdline.Decode(m.Text))
	if text == "" {
		return nil, nil
	}
	e := old
	if e == nil {
		e = &store.Event{
			ClientID: clientID, Time: t, Kind: store.KindChat,
			Source: store.SourceSlack, SourceID: m.sourceIDs(clientID)[0], Actor: m.User,
			Attrs: store.Attrs{Chat: &store.ChatAttrs{Channel: m.Channel}},
		}
	} else {
		first := firstNonEmpty(e.Body, e.Summary)
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
	e.Summary, e.Body = summarize(text)
	e.Truncated = false
	e.Sentiment = nil // the recorder scores the text as it now reads
	return e, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tsTime reads a Slack ts ("1700000000.000100": seconds and microseconds).
func tsTime(ts string) (time.Time, error) {
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

var logMessageCmd = &command{path: "Log to client", usage: "Log to client: pick a message, then the client (handle, email, phone or account number)"}

// LogMessage logs one message to a client at a user's request (the "Log to
// client" message shortcut). An empty clientRef means the client the
// message's channel is linked to; when there is none the answer's status
// is NeedClient and the transport asks which client.
func (b *Bot) LogMessage(ctx context.Context, req Request, clientRef string, m Message) (resp Response) {
	defer func() {
		if p := recover(); p != nil {
			resp = b.fail(fmt.Errorf("panic: %v\n%s", p, debug.Stack()), "log the message")
		}
	}()
	c, r := b.begin(ctx, req, logMessageCmd)
	if r != nil {
		return *r
	}
	var cl *store.Client
	if strings.TrimSpace(clientRef) == "" {
		id, err := b.links.ChannelClient(ctx, m.Channel)
		if store.ErrorCode(err) == store.ENOTFOUND {
			return textResponse(NeedClient, "This channel is not linked to a client: which client is the message about?")
		}
		if err != nil {
			return b.fail(err, "find the channel's client")
		}
		if cl, err = b.clients.Client(ctx, id); err != nil {
			return b.fail(err, "find the channel's client")
		}
		// A channel linked to a client the user may not see reads as one
		// linked to none: they pick a client of their own.
		if !c.actor.canSee(cl.Team) {
			return textResponse(NeedClient, "This channel is not linked to a client: which client is the message about?")
		}
		if !c.actor.canChange(cl.Team) {
			return textResponse(Refused, "This channel is linked to %s, which only its desk's brokers may log to. Nothing was logged.", cl.Handle)
		}
	} else if cl, r = c.client(ctx, clientRef, true); r != nil {
		return *r
	}
	e, err := b.chatEvent(ctx, cl.ID, Message{Channel: m.Channel, TS: m.TS, User: m.User, Text: m.Text})
	if err != nil {
		return b.fail(err, "log the message")
	}
	if e == nil {
		return textResponse(Invalid, "That message has no text to log.")
	}
	if e.Attrs.Extra == nil {
		e.Attrs.Extra = map[string]string{}
	}
	e.Attrs.Extra["logged_by"] = c.actor.ID
	if err := b.recordChat(ctx, e); err != nil {
		return b.fail(err, "log to "+cl.Handle)
	}
	return c.logged(cl, e)
}

// begin loads the actor of a request and checks they may use the bot at all.
func (b *Bot) begin(ctx context.Context, req Request, cmd *command) (*call, *Response) {
	if req.User == "" {
		r := textResponse(Refused, "Who is asking? A command needs a Slack user (`brokersync exec` takes --as U123).")
		return nil, &r
	}
	actor, err := b.actor(ctx, req.User)
	if err != nil {
		r := b.fail(err, "look up your desks")
		return nil, &r
	}
	if !actor.anyRights() {
		r := noRights()
		return nil, &r
	}
	if cmd.admin && !actor.Admin {
		r := textResponse(Refused, "Only BrokerSync admins may use %s; nothing was changed.", cmd.path)
		return nil, &r
	}
	return &call{b: b, req: req, actor: actor, cmd: cmd}, nil
}
