package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/internal/httpbody"
	"github.com/brokersync/brokersync/internal/ratelog"
	"github.com/brokersync/brokersync/store"
)

// Defaults of InboundConfig.
const (
	DefaultMaxBody  = 1 << 20 // 1 MiB: a batch of about a thousand order events
	DefaultMaxBatch = 1000
)

// InboundConfig configures the signed inbound webhooks.
type InboundConfig struct {
	Secret    string // BROKERSYNC_WEBHOOK_SECRET; empty refuses every request
	Clients   store.ClientStore
	Trades    store.TradeStore
	Catalogue *store.Catalogue // resolves orders' and market moves' contracts
	Recorder  *ingest.Recorder
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // default discards
	MaxBody   int64            // bytes; default DefaultMaxBody
	MaxBatch  int              // events per request; default DefaultMaxBatch
	// Writers is how many group writes may run at once (ingest.Intake):
	// 1 for the embedded store, a few for PostgreSQL and Cassandra.
	Writers int

	// Telephony providers (telephony.go); an empty token refuses the
	// provider's requests.
	PublicURL       string // the base URL providers call, which Twilio signs
	TwilioAuthToken string // BROKERSYNC_TWILIO_AUTH_TOKEN
	AircallToken    string // BROKERSYNC_AIRCALL_TOKEN
}

// Inbound serves POST /webhooks/orders, /webhooks/calls and /webhooks/market
// (SPEC §7). Every request is authenticated before its body is parsed, and a
// batch is checked whole before any of it is stored, so a rejected request
// changes nothing. Each event carries an id from which its event id derives,
// so a retried request is applied once.
type Inbound struct {
	secret   string
	clients  store.ClientStore
	trades   store.TradeStore
	intake   *ingest.Intake
	now      func() time.Time
	logger   *slog.Logger
	maxBody  int64
	maxBatch int
	refusals *ratelog.Limiter

	publicURL, twilioToken, aircallToken string
}

// NewInbound returns the inbound webhook handlers.
func NewInbound(cfg InboundConfig) *Inbound {
	in := &Inbound{
		secret: cfg.Secret, clients: cfg.Clients, trades: cfg.Trades,
		now: cfg.Now, logger: cfg.Logger, maxBody: cfg.MaxBody, maxBatch: cfg.MaxBatch,
		publicURL: cfg.PublicURL, twilioToken: cfg.TwilioAuthToken, aircallToken: cfg.AircallToken,
	}
	if in.now == nil {
		in.now = time.Now
	}
	if in.logger == nil {
		in.logger = slog.New(slog.DiscardHandler)
	}
	if in.maxBody <= 0 {
		in.maxBody = DefaultMaxBody
	}
	if in.maxBatch <= 0 {
		in.maxBatch = DefaultMaxBatch
	}
	in.refusals = ratelog.New(ratelog.DefaultEvery, in.now)
	in.intake = &ingest.Intake{Clients: cfg.Clients, Trades: cfg.Trades, Catalogue: cfg.Catalogue, Recorder: cfg.Recorder, Now: in.now, Writers: cfg.Writers}
	return in
}

// Mount adds the webhook routes to r.
func (in *Inbound) Mount(r chi.Router) {
	r.Post("/webhooks/orders", in.handle("orders", false, in.orders))
	r.Post("/webhooks/calls", in.handle("calls", false, in.calls))
	r.Post("/webhooks/market", in.handle("market", true, in.market))
	r.Post("/webhooks/twilio", in.twilio)
	r.Post("/webhooks/aircall", in.aircall)
}

// batch is a request body: one event, or {"events": [...]}.
type batch struct {
	items  []json.RawMessage
	single bool
}

// accepted is the answer to a request that was stored.
type accepted struct {
	Accepted int             `json:"accepted"`
	NewFills *int            `json:"new_fills,omitempty"` // orders: fills counted now, not before
	Events   []acceptedEvent `json:"events"`
}

type acceptedEvent struct {
	ID      string `json:"id"`       // the sender's id
	EventID string `json:"event_id"` // the timeline event's id
	Client  string `json:"client"`   // the matched client's handle
}

func acceptedEntries(entries []ingest.Entry) []acceptedEvent {
	out := make([]acceptedEvent, len(entries))
	for i, e := range entries {
		out[i] = acceptedEvent{ID: e.Event.SourceID, EventID: e.Event.ID.String(), Client: e.Client.Handle}
	}
	return out
}

func (in *Inbound) orders(ctx context.Context, b batch) (any, error) {
	evs, err := decodeItems[ingest.OrderEvent](b)
	if err != nil {
		return nil, err
	}
	entries, err := in.intake.PrepareOrders(ctx, evs)
	if err != nil {
		return nil, err
	}
	st, err := in.intake.Store(ctx, entries)
	if err != nil {
		return nil, err
	}
	return accepted{Accepted: len(entries), NewFills: &st.NewFills, Events: acceptedEntries(entries)}, nil
}

func (in *Inbound) market(ctx context.Context, b batch) (any, error) {
	mms, err := decodeItems[ingest.MarketMove](b)
	if err != nil {
		return nil, err
	}
	entries, err := in.intake.PrepareMarket(ctx, mms)
	if err != nil {
		return nil, err
	}
	if _, err := in.intake.Store(ctx, entries); err != nil {
		return nil, err
	}
	// One answer per client reached, [] rather than null when none; an
	// entry's source id is the move's id, "/" and the client's id.
	answer := make([]acceptedEvent, len(entries))
	for i, e := range entries {
		id := e.Event.SourceID[:strings.LastIndexByte(e.Event.SourceID, '/')]
		answer[i] = acceptedEvent{ID: id, EventID: e.Event.ID.String(), Client: e.Client.Handle}
	}
	return accepted{Accepted: len(mms), Events: answer}, nil
}

func (in *Inbound) calls(ctx context.Context, b batch) (any, error) {
	evs, err := decodeItems[ingest.CallEvent](b)
	if err != nil {
		return nil, err
	}
	entries, err := in.intake.PrepareCalls(ctx, evs)
	if err != nil {
		return nil, err
	}
	if _, err := in.intake.Store(ctx, entries); err != nil {
		return nil, err
	}
	return accepted{Accepted: len(entries), Events: acceptedEntries(entries)}, nil
}

// decodeItems decodes every event of a batch; the error names the first
// that does not decode.
func decodeItems[T any](b batch) ([]T, error) {
	evs := make([]T, len(b.items))
	for i, raw := range b.items {
		if err := decodeItem(raw, &evs[i]); err != nil {
			return nil, &ingest.ItemError{Index: i, Err: err}
		}
	}
	return evs, nil
}

// readBody reads a request's body within the size limit, answering the
// request itself when it cannot; ok is false then.
func (in *Inbound) readBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	body, err := httpbody.Read(w, r, in.maxBody)
	if err != nil {
		status, msg := httpbody.Status(err, in.maxBody)
		if status == http.StatusRequestEntityTooLarge {
			msg += ": send fewer events per request"
		}
		writeStatus(w, status, store.EINVALID, msg)
		return nil, false
	}
	return body, true
}

// refuse answers a request that failed authentication with 401. A flood of
// them is logged a line per interval; the request metrics count every one.
func (in *Inbound) refuse(w http.ResponseWriter, log *slog.Logger, reason string) {
	if ok, held := in.refusals.Allow(); ok {
		log.Warn("webhook refused", slog.String("reason", reason), slog.Int("refusals_not_logged", held))
	}
	writeStatus(w, http.StatusUnauthorized, "unauthorized", reason)
}

// handle wraps an endpoint: read the body within the size limit,
// authenticate it, split it into events, run fn, answer.
func (in *Inbound) handle(name string, allowToken bool, fn func(context.Context, batch) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		log := in.logger.With(slog.String("webhook", name), slog.String("remote", r.RemoteAddr))
		if in.secret == "" {
			writeStatus(w, http.StatusForbidden, store.EFORBIDDEN, "inbound webhooks are disabled: BROKERSYNC_WEBHOOK_SECRET is not set")
			return
		}
		body, ok := in.readBody(w, r)
		if !ok {
			return
		}
		if err := in.authenticate(r, body, allowToken); err != nil {
			in.refuse(w, log, err.Error())
			return
		}
		b, err := splitBatch(body, in.maxBatch)
		if err != nil {
			writeStatus(w, http.StatusBadRequest, store.EINVALID, err.Error())
			return
		}
		resp, err := fn(r.Context(), b)
		if err != nil {
			in.fail(w, log, b, err)
			return
		}
		log.Debug("webhook accepted", slog.Int("events", len(b.items)))
		WriteJSON(w, http.StatusOK, resp)
	}
}

func (in *Inbound) authenticate(r *http.Request, body []byte, allowToken bool) error {
	header := r.Header.Get(SignatureHeader)
	if header == "" && allowToken {
		if token := r.URL.Query().Get("token"); token != "" {
			if tokenMatches(in.secret, token) {
				return nil
			}
			return errors.New("token does not match")
		}
		return errors.New("missing " + SignatureHeader + " header (or token query parameter)")
	}
	return VerifySignature(in.secret, header, body, in.now())
}

// fail answers an error from checking or storing a batch. A bad field is
// 400, an unknown client 422 and an id recorded before with other content
// 409, each naming the event; store failures are
// mapped by WriteError (503 with Retry-After when the sender should retry).
func (in *Inbound) fail(w http.ResponseWriter, log *slog.Logger, b batch, err error) {
	var ie *ingest.ItemError
	if !errors.As(err, &ie) {
		log.Error("webhook failed", slog.Any("err", err))
		WriteError(w, err)
		return
	}
	msg := store.ErrorMessage(ie.Err)
	if !b.single {
		msg = fmt.Sprintf("events[%d].%s", ie.Index, msg)
	}
	switch code := store.ErrorCode(ie.Err); code {
	case store.EINVALID:
		log.Info("webhook rejected", slog.String("reason", msg))
		writeStatus(w, http.StatusBadRequest, code, msg+"; nothing was stored")
	case store.ENOTFOUND:
		log.Info("webhook rejected", slog.String("reason", msg))
		writeStatus(w, http.StatusUnprocessableEntity, code, msg+"; nothing was stored")
	case store.ECONFLICT:
		// An id used before for other content: the sender reused or
		// corrupted an id, and a retry cannot help.
		log.Warn("webhook rejected: id reused with other content", slog.String("reason", msg))
		writeStatus(w, http.StatusConflict, code, msg+"; nothing was stored")
	default:
		log.Error("webhook failed", slog.Any("err", err))
		WriteError(w, ie.Err)
	}
}

// writeStatus writes an error body in WriteError's shape with a status that
// the store codes do not express (401, 413, 422).
func writeStatus(w http.ResponseWriter, status int, code store.Code, msg string) {
	WriteJSON(w, status, map[string]any{"error": map[string]string{"code": string(code), "message": msg}})
}

// splitBatch reads a body that is one event object or {"events": [...]}.
func splitBatch(body []byte, maxBatch int) (batch, error) {
	const shape = `send one event as a JSON object, or several as {"events": [...]}`
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return batch{}, errors.New("empty body: " + shape)
	}
	if trimmed[0] != '{' {
		return batch{}, errors.New("body is not a JSON object: " + shape)
	}
	var probe struct {
		Events json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return batch{}, fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
		}
		return batch{}, fmt.Errorf("malformed JSON: %v", err)
	}
	if probe.Events == nil {
		return batch{items: []json.RawMessage{trimmed}, single: true}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(probe.Events, &items); err != nil {
		return batch{}, errors.New(`"events" must be an array of event objects`)
	}
	switch {
	case len(items) == 0:
		return batch{}, errors.New(`"events" is empty: a batch needs at least one event`)
	case len(items) > maxBatch:
		return batch{}, fmt.Errorf(`"events" holds %d events; at most %d per request`, len(items), maxBatch)
	}
	return batch{items: items}, nil
}

// decodeItem decodes one event, turning JSON type errors into EINVALID
// errors that name the field. Unknown fields are ignored, so senders may add
// fields before we read them.
func decodeItem(raw json.RawMessage, v any) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return store.Invalid("event", "expected an event object, got a JSON %s", te.Value)
		}
		return store.Invalid(te.Field, "expected %s, got a JSON %s", jsonKind(te.Type), te.Value)
	}
	return store.Invalid("event", "cannot be read: %v", err)
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "an array"
	}
	return t.String()
}
