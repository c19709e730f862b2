package slack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// serveCommand answers POST /slack/commands (form-encoded).
func (h *Handler) serveCommand(w http.ResponseWriter, r *http.Request) {
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	if cmd.Command == "" {
		http.Error(w, "no command", http.StatusBadRequest)
		return
	}
	ack := h.command(r.Context(), cmd)
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, ack)
}

// command runs a slash command and returns the acknowledgement's body: the
// answer itself when it is ready within the budget; nil (an empty 200) when
// it is not, the answer following through response_url, or when the
// delivery was handled already.
func (h *Handler) command(ctx context.Context, cmd slack.SlashCommand) *message {
	// The budget runs from the start: recognising a duplicate is part of it.
	timer := time.NewTimer(h.budget)
	defer timer.Stop()
	req := bot.Request{User: cmd.UserID, Channel: cmd.ChannelID, Command: cmd.Command, Text: cmd.Text, ID: cmd.TriggerID}
	done := make(chan *bot.Response, 1)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		// The command outlives the HTTP request when it is slow.
		ctx, cancel := context.WithTimeout(h.ctx, time.Minute)
		defer cancel()
		key := ""
		if cmd.TriggerID != "" {
			key = "command:" + cmd.TriggerID
		}
		// Slack does not retry a command; a second delivery of one is
		// answered by the first, whether it is done or still running.
		if st := h.claim(ctx, key); st != store.OnceClaimed {
			h.log.Info("duplicate slash command ignored", slog.String("trigger", cmd.TriggerID), slog.String("first", st.String()))
			done <- nil
			return
		}
		resp := h.deliverFile(ctx, cmd.UserID, h.bot.Handle(ctx, req))
		h.settle(ctx, key, resp.Status != bot.Failed)
		done <- &resp
	}()
	select {
	case resp := <-done:
		if resp == nil {
			return nil
		}
		m := render(*resp)
		return &m
	case <-timer.C:
	}
	h.log.Debug("command answered through response_url", slog.String("command", cmd.Command), slog.Duration("budget", h.budget))
	h.background(func(ctx context.Context) {
		var resp *bot.Response
		select {
		case resp = <-done:
		case <-ctx.Done():
			return
		}
		if resp == nil {
			return // a duplicate
		}
		if err := h.respond.post(ctx, cmd.ResponseURL, render(*resp)); err != nil {
			h.log.Error("could not deliver a slow answer", slog.String("command", cmd.Command), slog.Any("err", err))
		}
	})
	// Empty: Slack shows the command as typed and, a moment later, the
	// answer; a "working on it" would stay behind as a second message.
	return nil
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
