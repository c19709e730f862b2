package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// serveEvent answers POST /slack/events. A message is stored before the
// answer; if storing fails the answer is 500 so that Slack delivers it again.
func (h *Handler) serveEvent(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	ack, err := h.event(r.Context(), body)
	switch {
	case errors.Is(err, errMalformed):
		http.Error(w, "malformed event", http.StatusBadRequest)
	case err != nil:
		http.Error(w, "try again", http.StatusInternalServerError)
	case ack != nil:
		writeJSON(w, ack)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

var errMalformed = errors.New("malformed event")

type eventEnvelope struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

type slackMessage struct {
	Type      string        `json:"type"`
	Subtype   string        `json:"subtype"`
	Channel   string        `json:"channel"`
	User      string        `json:"user"`
	Text      string        `json:"text"`
	TS        string        `json:"ts"`
	BotID     string        `json:"bot_id"`
	DeletedTS string        `json:"deleted_ts"`
	Message   *slackMessage `json:"message"`
	Previous  *slackMessage `json:"previous_message"`
}

// event handles an Events API envelope. It returns the body to answer
// with, and an error when Slack should deliver the event again.
func (h *Handler) event(ctx context.Context, body []byte) (any, error) {
	var env eventEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, errMalformed
	}
	switch env.Type {
	case "url_verification":
		return map[string]string{"challenge": env.Challenge}, nil
	case "event_callback":
	default:
		return nil, nil
	}
	var sm slackMessage
	if err := json.Unmarshal(env.Event, &sm); err != nil {
		return nil, errMalformed
	}
	m, ok := chatMessage(sm)
	if !ok {
		return nil, nil
	}
	key := "event:" + env.EventID
	if env.EventID != "" && !h.first(ctx, key) {
		h.log.Info("duplicate event ignored", slog.String("event", env.EventID))
		return nil, nil
	}
	// Finish even if Slack hangs up at its three seconds: the retry that
	// follows is then recognised as a duplicate.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := h.bot.ChannelMessage(ctx, m); err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			h.log.Warn("message event ignored", slog.String("event", env.EventID), slog.Any("err", err))
			return nil, nil
		}
		h.log.Error("message event not stored; Slack will retry", slog.String("event", env.EventID), slog.Any("err", err))
		h.forget(ctx, key)
		return nil, err
	}
	return nil, nil
}

// chatMessage turns a message event into a bot.Message. Bots' messages
// (ours included) and channel housekeeping (joins, topic changes) are not
// conversation with a client.
func chatMessage(sm slackMessage) (bot.Message, bool) {
	if sm.Type != "message" || sm.Channel == "" {
		return bot.Message{}, false
	}
	switch sm.Subtype {
	case "", "thread_broadcast", "file_share", "me_message":
		if sm.BotID != "" {
			return bot.Message{}, false
		}
		return bot.Message{Channel: sm.Channel, TS: sm.TS, User: sm.User, Text: sm.Text}, true
	case "message_changed":
		if sm.Message == nil || sm.Message.BotID != "" {
			return bot.Message{}, false
		}
		return bot.Message{Channel: sm.Channel, TS: sm.Message.TS, User: sm.Message.User, Text: sm.Message.Text, Edited: true}, true
	case "message_deleted":
		ts := sm.DeletedTS
		if ts == "" && sm.Previous != nil {
			ts = sm.Previous.TS
		}
		return bot.Message{Channel: sm.Channel, TS: ts, Deleted: true}, ts != ""
	}
	return bot.Message{}, false
}
