package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// SocketMode receives Slack's requests over a WebSocket that the server
// opens (Socket Mode), for deployments Slack cannot reach over HTTP. The
// requests take the same path as over HTTP; Slack authenticates the
// connection with the app-level token, so there are no signatures to check.
type SocketMode struct {
	h      *Handler
	client *socketmode.Client
	log    *slog.Logger
}

// SocketMode returns a Socket Mode runner for the handler. The handler's API
// client must carry the app-level token (NewAPI with slack.OptionAppLevelToken).
func (h *Handler) SocketMode(opts ...socketmode.Option) *SocketMode {
	return &SocketMode{h: h, client: socketmode.New(h.api, opts...), log: h.log.With(slog.String("transport", "socket mode"))}
}

// Run connects and serves until ctx ends. A dropped connection is opened
// again with backoff; a token Slack refuses ends Run with an error.
func (s *SocketMode) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.connect(ctx) }()
	for {
		select {
		case err := <-errc:
			return err
		case evt := <-s.client.Events:
			s.dispatch(ctx, evt)
		}
	}
}

// connect keeps the WebSocket open until ctx ends.
func (s *SocketMode) connect(ctx context.Context) error {
	wait := time.Second
	for {
		start := time.Now()
		err := s.client.RunContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			switch se.Err {
			case "invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive", "token_revoked", "token_expired":
				return errors.New("slack socket mode: SLACK_APP_TOKEN refused: " + se.Err)
			}
		}
		if time.Since(start) > time.Minute {
			wait = time.Second // it was up for a while: reconnect promptly
		}
		s.log.Warn("socket mode connection lost; reconnecting", slog.Duration("in", wait), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func (s *SocketMode) dispatch(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		// Each request in its own goroutine: a slow one must not hold up
		// the acknowledgement of the next.
		req := *evt.Request
		go s.handle(ctx, evt.Type, req)
	case socketmode.EventTypeConnected:
		s.log.Info("socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage:
		s.log.Warn("socket mode trouble", slog.String("event", string(evt.Type)), slog.Any("data", evt.Data))
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("socket mode: Slack refused SLACK_APP_TOKEN")
	}
}

func (s *SocketMode) handle(ctx context.Context, typ socketmode.EventType, req socketmode.Request) {
	var ack any
	switch typ {
	case socketmode.EventTypeSlashCommand:
		var cmd slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &cmd); err != nil {
			s.log.Warn("malformed slash command", slog.Any("err", err))
			break
		}
		if m := s.h.command(ctx, cmd); m != nil {
			ack = m
		}
	case socketmode.EventTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			s.log.Warn("malformed interaction", slog.Any("err", err))
			break
		}
		ack = s.h.interaction(ctx, cb)
	case socketmode.EventTypeEventsAPI:
		if _, err := s.h.event(ctx, req.Payload); err != nil && !errors.Is(err, errMalformed) {
			return // unacknowledged: Slack delivers it again
		}
	}
	if err := s.client.AckCtx(ctx, req.EnvelopeID, ack); err != nil {
		s.log.Warn("socket mode ack failed", slog.String("envelope", req.EnvelopeID), slog.Any("err", err))
	}
}
