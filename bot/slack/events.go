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
// answer; if storing fails the answer is 500 so that Slack delivers it again,
// and a retry that arrives while the first delivery is still being applied
// is answered 503, so that Slack delivers it again later.
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
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "60")
		http.Error(w, "being applied; try again later", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, "try again", http.StatusInternalServerError)
	case ack != nil:
		writeJSON(w, ack)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

var (
	errMalformed = errors.New("malformed event")
	// errBusy: an earlier delivery of the event holds its lease.
	errBusy = errors.New("event being applied")
)

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
	key := ""
	if env.EventID != "" {
		key = "event:" + env.EventID
	}
	switch h.claim(ctx, key) {
	case store.OnceDone:
		h.log.Info("duplicate event ignored", slog.String("event", env.EventID))
		return nil, nil
	case store.OnceBusy:
		h.log.Info("event retried while being applied; Slack will retry", slog.String("event", env.EventID))
		return nil, errBusy
	}
	// Finish even if Slack hangs up at its three seconds: the retry that
	// follows waits for the lease, then finds the event done.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := h.bot.ChannelMessage(ctx, m)
	switch store.ErrorCode(err) {
	case "":
	case store.EINVALID, store.ECONFLICT:
		// No retry can change the answer: the message is malformed, or
		// the timeline holds a different record under its id.
		h.log.Warn("message event ignored", slog.String("event", env.EventID), slog.Any("err", err))
	default:
		h.log.Error("message event not stored; Slack will retry", slog.String("event", env.EventID), slog.Any("err", err))
		h.settle(ctx, key, false)
		return nil, err
	}
	h.settle(ctx, key, true)
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
