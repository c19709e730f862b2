package bot

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/brokersync/brokersync/bot/cmdline"
	"github.com/brokersync/brokersync/ingest"
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
	_, err = b.chat().Record(ctx, clientID, m.chat(), "")
	return err
}

// chat is the message as ingest takes it: Slack's escapes decoded.
func (m Message) chat() ingest.ChatMessage {
	return ingest.ChatMessage{Channel: m.Channel, TS: m.TS, User: m.User, Text: cmdline.Decode(m.Text), Edited: m.Edited, Deleted: m.Deleted}
}

func (b *Bot) chat() ingest.Chat { return ingest.Chat{Timeline: b.timeline, Recorder: b.rec} }

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
	msg := Message{Channel: m.Channel, TS: m.TS, User: m.User, Text: m.Text}.chat()
	e, err := b.chat().Record(ctx, cl.ID, msg, c.actor.ID)
	switch {
	case store.ErrorCode(err) == store.EINVALID:
		return b.fail(err, "log the message")
	case err != nil:
		return b.fail(err, "log to "+cl.Handle)
	case e == nil:
		return textResponse(Invalid, "That message has no text to log.")
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
