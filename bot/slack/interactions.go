package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// Callback ids of the app's modals and of its message shortcut (declared in
// slack-app-manifest.yaml).
const (
	callbackAddNote     = "add_note"
	callbackLogToClient = "log_to_client"
	callbackLogCall     = "log_call"
)

// serveInteraction answers POST /slack/interactions: buttons, modal
// submissions and the message shortcut.
func (h *Handler) serveInteraction(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(r.PostForm.Get("payload")), &cb); err != nil {
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return
	}
	if ack := h.interaction(r.Context(), cb); ack != nil {
		writeJSON(w, ack)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// interaction handles one interaction and returns the acknowledgement's
// body, nil for an empty one. Its delivery key is done once the work
// succeeded (for a button, once its answer is ready) and released when it
// failed, so that a second delivery of the same trigger is applied.
func (h *Handler) interaction(ctx context.Context, cb slack.InteractionCallback) any {
	key := ""
	if cb.TriggerID != "" {
		key = "interaction:" + cb.TriggerID
	}
	if st := h.claim(ctx, key); st != store.OnceClaimed {
		h.log.Info("duplicate interaction ignored", slog.String("trigger", cb.TriggerID), slog.String("first", st.String()))
		return nil
	}
	settle := func(ok bool) { h.settle(ctx, key, ok) }
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		// Buttons answer after the acknowledgement: the key is settled
		// once every answer is ready.
		var wg sync.WaitGroup
		var failed atomic.Bool
		for _, a := range cb.ActionCallback.BlockActions {
			wg.Add(1)
			h.action(ctx, cb, a, func(ok bool) {
				if !ok {
					failed.Store(true)
				}
				wg.Done()
			})
		}
		h.background(func(context.Context) {
			wg.Wait()
			settle(!failed.Load())
		})
		return nil
	case slack.InteractionTypeMessageAction:
		if cb.CallbackID == callbackLogToClient {
			settle(h.logShortcut(ctx, cb))
			return nil
		}
	case slack.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		// A submission that failed shows why in the modal; submitting
		// again comes with a new trigger id, so the key is done either way.
		case callbackAddNote:
			ack := h.submitNote(ctx, cb)
			settle(true)
			return ack
		case callbackLogToClient:
			ack := h.submitLog(ctx, cb)
			settle(true)
			return ack
		case callbackLogCall:
			ack := h.submitCall(ctx, cb)
			settle(true)
			return ack
		}
	}
	settle(true)
	return nil
}

// action handles a button of a bot response and calls finish once, with
// whether it worked, when its work is over (later, for an answer run after
// the acknowledgement).
func (h *Handler) action(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction, finish func(ok bool)) {
	req := bot.Request{User: cb.User.ID, Channel: cb.Channel.ID, ID: cb.TriggerID}
	switch a.ActionID {
	case bot.ActionOpenTimeline:
		req.Command, req.Args = "/timeline", []string{a.Value}
	case bot.ActionShowClient:
		req.Command, req.Args = "/client", []string{"show", a.Value}
	case bot.ActionUndoReminder:
		req.Command, req.Args = "/remind", []string{"undo", a.Value}
	case bot.ActionReminderDone:
		req.Command, req.Args = "/followups", []string{"done", a.Value}
	case bot.ActionLogCall:
		meta := callMeta{Reminder: a.Value, Channel: cb.Channel.ID, TS: cb.Message.Timestamp, ResponseURL: cb.ResponseURL}
		if err := h.openView(ctx, cb.TriggerID, callModal(meta)); err != nil {
			h.answer(cb.ResponseURL, bot.Response{Status: bot.Failed, Text: "Slack would not open the call form; log it with /log <client> call <summary> and press Done."})
		}
		finish(true)
		return
	case bot.ActionAddNote:
		// A trigger id is good for three seconds: open the modal now.
		meta := noteMeta{Handle: a.Value, Channel: cb.Channel.ID}
		if err := h.openView(ctx, cb.TriggerID, noteModal(meta)); err != nil {
			h.answer(cb.ResponseURL, bot.Response{Status: bot.Failed, Text: "Slack would not open the note form; try /note " + a.Value + " <text>."})
		}
		// Done either way: the trigger id has expired for a second try.
		finish(true)
		return
	case bot.ActionDigestSnooze:
		id, choice, _ := strings.Cut(a.Value, " ")
		req.Command, req.Args = "/digest", []string{"snooze", id, choice}
	default:
		if id, ok := strings.CutPrefix(a.ActionID, bot.ActionDigestReassign+":"); ok && a.SelectedUser != "" {
			req.Command, req.Args = "/digest", []string{"reassign", id, a.SelectedUser}
			break
		}
		if id, choice, ok := strings.Cut(a.Value, " "); ok && strings.HasPrefix(a.ActionID, bot.ActionReminderSnooze) {
			req.Command, req.Args = "/followups", []string{"snooze", id, choice}
			break
		}
		finish(true)
		return // link buttons also report their clicks
	}
	h.background(func(ctx context.Context) {
		resp := h.bot.Handle(ctx, req)
		finish(resp.Status != bot.Failed)
		h.deliver(ctx, cb.Channel.ID, cb.Message.Timestamp, cb.ResponseURL, resp)
	})
}

// deliver shows a button's answer: in place of the message the button was
// on when the answer says so (a reminder done or snoozed, for everyone in
// the channel to see), else privately through response_url.
func (h *Handler) deliver(ctx context.Context, channel, ts, url string, resp bot.Response) {
	if resp.Replace && channel != "" && ts != "" {
		m := render(resp)
		_, _, _, err := h.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
		if err == nil {
			return
		}
		h.log.Warn("chat.update failed; answering privately", slog.String("channel", channel), slog.Any("err", err))
	}
	if url != "" {
		h.post(ctx, url, resp)
	}
}

// submitCall logs the call of a reminder's Log call modal and closes the
// reminder; its message then says so.
func (h *Handler) submitCall(ctx context.Context, cb slack.InteractionCallback) any {
	var meta callMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	summary := strings.TrimSpace(stateValue(cb.View.State, "call", "summary"))
	resp := h.bot.Handle(ctx, bot.Request{
		User: cb.User.ID, Channel: meta.Channel, Command: "/followups", Args: []string{"call", meta.Reminder, summary}, ID: "view:" + cb.View.ID,
	})
	if resp.Err() {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{"call": clip(plain(resp.Text), 300)})
	}
	h.background(func(ctx context.Context) { h.deliver(ctx, meta.Channel, meta.TS, meta.ResponseURL, resp) })
	return nil
}

// logShortcut logs the message the shortcut was used on: to the channel's
// client when the channel is linked, else to the client the user picks in a
// modal. It reports false when our side failed.
func (h *Handler) logShortcut(ctx context.Context, cb slack.InteractionCallback) bool {
	m := bot.Message{Channel: cb.Channel.ID, TS: cb.Message.Timestamp, User: cb.Message.User, Text: cb.Message.Text}
	req := bot.Request{User: cb.User.ID, Channel: cb.Channel.ID, ID: cb.TriggerID}
	resp := h.bot.LogMessage(ctx, req, "", m)
	if resp.Status != bot.NeedClient {
		h.answer(cb.ResponseURL, resp)
		return resp.Status != bot.Failed
	}
	meta := logMeta{Channel: m.Channel, TS: m.TS, User: m.User, Text: m.Text, ResponseURL: cb.ResponseURL}
	if err := h.openView(ctx, cb.TriggerID, logModal(meta)); err != nil {
		h.answer(cb.ResponseURL, bot.Response{Status: bot.Failed, Text: "Slack would not open the form; link the channel with /client link <client> here and try again."})
	}
	return true
}

// submitNote saves the note modal. Errors go back to the modal, under the field.
func (h *Handler) submitNote(ctx context.Context, cb slack.InteractionCallback) any {
	var meta noteMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	text := stateValue(cb.View.State, "note", "text")
	resp := h.bot.Handle(ctx, bot.Request{
		User: cb.User.ID, Channel: meta.Channel, Command: "/note", Args: []string{meta.Handle, text}, ID: "view:" + cb.View.ID,
	})
	if resp.Err() {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{"note": clip(plain(resp.Text), 300)})
	}
	if meta.Channel != "" {
		h.background(func(ctx context.Context) {
			if _, err := h.api.PostEphemeralContext(ctx, meta.Channel, cb.User.ID, slack.MsgOptionText(escape(resp.Text), false)); err != nil {
				h.log.Warn("note confirmation not posted", slog.Any("err", err))
			}
		})
	}
	return nil
}

// submitLog logs the shortcut's message to the client the user named.
func (h *Handler) submitLog(ctx context.Context, cb slack.InteractionCallback) any {
	var meta logMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	ref := stateValue(cb.View.State, "client", "ref")
	resp := h.bot.LogMessage(ctx, bot.Request{User: cb.User.ID, Channel: meta.Channel, ID: "view:" + cb.View.ID}, ref,
		bot.Message{Channel: meta.Channel, TS: meta.TS, User: meta.User, Text: meta.Text})
	if resp.Err() {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{"client": clip(plain(resp.Text), 300)})
	}
	h.answer(meta.ResponseURL, resp)
	return nil
}

// answer posts a response through response_url after the acknowledgement.
func (h *Handler) answer(url string, resp bot.Response) {
	h.background(func(ctx context.Context) { h.post(ctx, url, resp) })
}

func (h *Handler) post(ctx context.Context, url string, resp bot.Response) {
	if err := h.respond.post(ctx, url, render(resp)); err != nil {
		h.log.Error("answer not delivered", slog.Any("err", err))
	}
}

func (h *Handler) openView(ctx context.Context, triggerID string, v slack.ModalViewRequest) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2500*time.Millisecond)
	defer cancel()
	_, err := h.api.OpenViewContext(ctx, triggerID, v)
	if err != nil {
		h.log.Warn("views.open failed", slog.String("view", v.CallbackID), slog.Any("err", err))
	}
	return err
}

func stateValue(s *slack.ViewState, block, action string) string {
	if s == nil {
		return ""
	}
	return s.Values[block][action].Value
}

// plain is a response text as Slack's modal errors show it: no markup.
func plain(s string) string { return strings.TrimSuffix(bot.PlainText(bot.Response{Text: s}), "\n") }
