// Package slack adapts Slack to the bot: slash commands, interactive
// components (buttons, modals, the "Log to client" shortcut) and Events API
// messages arrive over HTTP or Socket Mode, become bot.Requests, and the
// bot's Responses go back as Block Kit.
//
// Slack waits three seconds for an acknowledgement. A command gets AckBudget
// (DefaultAckBudget) to finish and is answered in the acknowledgement; a
// slower one is acknowledged with an empty 200 and answered through
// response_url, so acknowledgements stay fast whatever the stores do. Deliveries Slack retries
// (X-Slack-Retry-Num) are recognised by their event id or trigger id and
// applied once: a delivery takes a lease on its key (store.OnceStore) and
// is marked done only once its work succeeded, so a retry that arrives while
// it is being applied is asked to come back later (503), one after a crash
// applies it once the lease has run out, and one after it was done is
// acknowledged as before.
package slack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/internal/httpbody"
	"github.com/brokersync/brokersync/internal/ratelog"
	"github.com/brokersync/brokersync/store"
)

// Config holds what the Slack adapter needs. Bot, API and SigningSecret are
// required (the secret only for HTTP).
type Config struct {
	Bot           *bot.Bot
	API           *slack.Client   // bot-token Web API client (NewAPI)
	SigningSecret string          // verifies HTTP requests
	Once          store.OnceStore // remembers deliveries; nil applies retries again (they are idempotent, but answered twice)
	// Lease is how long a delivery being applied holds off Slack's retries
	// of it (default store.DefaultOnceLease). After a crash the first retry
	// past the lease applies it: keep it under the minute after which Slack
	// retries, and above the time a delivery may take (10 s for an event).
	Lease  time.Duration
	Logger *slog.Logger
	// AckBudget is how long a slash command may run before Slack is
	// acknowledged and the answer goes through response_url. Default
	// DefaultAckBudget.
	AckBudget time.Duration
	// HTTPClient posts to response_url. Default: 10 s timeout.
	HTTPClient *http.Client
}

// DefaultAckBudget keeps acknowledgements within the 100 ms we aim for (Slack
// allows 3 s): most commands finish well inside it and are answered at once;
// the few that do not cost one response_url post, which the user cannot tell
// from an inline answer.
const DefaultAckBudget = 75 * time.Millisecond

// Handler serves Slack's requests. Its methods are safe for concurrent use.
type Handler struct {
	bot     *bot.Bot
	api     *slack.Client
	secret  string
	once    store.OnceStore
	lease   time.Duration
	log     *slog.Logger
	budget  time.Duration
	respond *responder
	// refusals bounds the log lines about badly signed requests.
	refusals *ratelog.Limiter

	// background work (answers posted after the acknowledgement), waited
	// for by Close.
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Bot == nil || cfg.API == nil {
		return nil, errors.New("slack: Bot and API are required")
	}
	h := &Handler{bot: cfg.Bot, api: cfg.API, secret: cfg.SigningSecret, once: cfg.Once, lease: cfg.Lease, log: cfg.Logger, budget: cfg.AckBudget}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With(slog.String("component", "slack"))
	if h.budget <= 0 {
		h.budget = DefaultAckBudget
	}
	if h.lease <= 0 {
		h.lease = store.DefaultOnceLease
	}
	h.respond = newResponder(cfg.HTTPClient, h.log)
	h.refusals = ratelog.New(ratelog.DefaultEvery, nil)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h, nil
}

// Close waits up to grace for answers still being posted, then cancels them.
func (h *Handler) Close(grace time.Duration) {
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		h.cancel()
		<-done
	}
	h.cancel()
}

// Routes mounts POST /slack/commands, /slack/interactions and /slack/events.
// Every request must carry a valid signature no older than five minutes.
func (h *Handler) Routes(r chi.Router) {
	if h.secret == "" {
		panic("slack: Routes needs a signing secret")
	}
	r.Route("/slack", func(r chi.Router) {
		r.Use(h.verify)
		r.Post("/commands", h.serveCommand)
		r.Post("/interactions", h.serveInteraction)
		r.Post("/events", h.serveEvent)
	})
}

// maxBody is far above anything Slack sends.
const maxBody = 1 << 20

// verify checks Slack's v0 signature over the raw body and rejects
// timestamps more than five minutes away; nothing else runs before it.
func (h *Handler) verify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := httpbody.Read(w, r, maxBody)
		if err != nil {
			status, msg := httpbody.Status(err, maxBody)
			http.Error(w, msg, status)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, h.secret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			// A flood is logged a line per interval; the request metrics
			// count every refusal.
			if ok, held := h.refusals.Allow(); ok {
				h.log.Warn("rejected unsigned or stale request", slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.Any("err", err), slog.Int("refusals_not_logged", held))
			}
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// claim takes the lease of the delivery identified by key and reports what
// holds it: store.OnceClaimed means the caller applies the delivery and then
// calls settle. Without a store, or when it fails, every delivery is applied:
// the bot's writes are idempotent, so the worst case is a second answer.
func (h *Handler) claim(ctx context.Context, key string) store.OnceState {
	if h.once == nil || key == "" {
		return store.OnceClaimed
	}
	st, err := h.once.Claim(ctx, "slack:"+key, h.lease)
	if err != nil {
		h.log.Warn("delivery dedupe unavailable", slog.String("key", key), slog.Any("err", err))
		return store.OnceClaimed
	}
	return st
}

// settle ends a claimed delivery: done when its work succeeded, so that
// Slack's retries of it are duplicates; released when it failed, so that the
// next retry applies it. It runs even when Slack has hung up.
func (h *Handler) settle(ctx context.Context, key string, ok bool) {
	if h.once == nil || key == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ok {
		if err := h.once.Done(ctx, "slack:"+key); err != nil {
			// The work stands; a retry does it again, to the same effect.
			h.log.Warn("mark delivery done", slog.String("key", key), slog.Any("err", err))
		}
		return
	}
	if err := h.once.Release(ctx, "slack:"+key); err != nil {
		// The lease runs out by itself; the retry after it applies the delivery.
		h.log.Warn("release delivery key", slog.String("key", key), slog.Any("err", err))
	}
}

// background runs fn after the acknowledgement, tracked for Close.
func (h *Handler) background(fn func(ctx context.Context)) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(h.ctx, 2*time.Minute)
		defer cancel()
		fn(ctx)
	}()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = jsonEncode(w, v)
}
