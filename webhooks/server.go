// Package webhooks is BrokerSync's one HTTP server: Slack endpoints, signed
// inbound webhooks, health, metrics and the web timeline pages.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/brokersync/brokersync/store"
)

// Check is a dependency that /readyz asks: a store's Ping.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Server serves BrokerSync's HTTP endpoints.
type Server struct {
	router   chi.Router
	logger   *slog.Logger
	checks   []Check
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns a server with health and metrics routes. Other packages mount
// their handlers with Mount.
func New(logger *slog.Logger, registry *prometheus.Registry, checks ...Check) *Server {
	s := &Server{
		router:   chi.NewRouter(),
		logger:   logger,
		checks:   checks,
		registry: registry,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "brokersync_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	registry.MustRegister(s.requests, s.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.router.Use(middleware.Recoverer, s.instrument, securityHeaders)
	s.router.Get("/healthz", s.healthz)
	s.router.Get("/readyz", s.readyz)
	s.router.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	return s
}

// Router returns the router, for mounting more handlers.
func (s *Server) Router() chi.Router { return s.router }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// securityHeaders sets what every answer carries: nothing here is meant to
// be framed, sniffed as another type, run as a page with scripts, or to tell
// other sites which link was followed. Pages that render HTML replace the
// Content-Security-Policy with their own (webhooks/web).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, results := http.StatusOK, map[string]string{}
	for _, c := range s.checks {
		if err := c.Ping(ctx); err != nil {
			status = http.StatusServiceUnavailable
			results[c.Name] = store.ErrorMessage(err)
			s.logger.Warn("readiness check failed", slog.String("check", c.Name), slog.Any("err", err))
			continue
		}
		results[c.Name] = "ok"
	}
	body := map[string]any{"status": "ok", "checks": results}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	}
	WriteJSON(w, status, body)
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var statusByCode = map[store.Code]int{
	store.ENOTFOUND:    http.StatusNotFound,
	store.EINVALID:     http.StatusBadRequest,
	store.ECONFLICT:    http.StatusConflict,
	store.EFORBIDDEN:   http.StatusForbidden,
	store.EUNAVAILABLE: http.StatusServiceUnavailable,
	store.EINTERNAL:    http.StatusInternalServerError,
}

// WriteError answers err with the status its code maps to and a JSON body
// {"error": {"code": ..., "message": ...}}.
func WriteError(w http.ResponseWriter, err error) {
	code := store.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == store.EUNAVAILABLE {
		w.Header().Set("Retry-After", "5")
	}
	writeStatus(w, status, code, store.ErrorMessage(err))
}

// Serve runs the server on ln until ctx ends, then shuts down gracefully,
// giving in-flight requests up to grace to finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("http server listening", slog.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
