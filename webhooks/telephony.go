package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// Telephony providers post their own formats with their own proofs of
// origin. Each adapter here authenticates a request the provider's way,
// reads its fields into an ingest.CallEvent and stores it like a call from
// /webhooks/calls: matched to the client by the far end's number, the
// transcript scored, applied once however often it is delivered. Fields an
// adapter does not know are ignored; a missing required one is a 400 naming
// it.

// TwilioSignatureHeader carries Twilio's request signature.
const TwilioSignatureHeader = "X-Twilio-Signature"

// TwilioSignature is Twilio's signature of a form-encoded request: the
// base64 HMAC-SHA1, keyed by the account's auth token, of the full URL
// Twilio requested followed by every POST parameter's name and value,
// sorted by name.
func TwilioSignature(authToken, fullURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, fullURL)
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := slices.Clone(form[k])
		slices.Sort(vs)
		for _, v := range vs {
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// twilioURLs are the forms of a request's URL that Twilio may have signed:
// as configured, and with the scheme's default port added or removed (its
// libraries accept either).
func twilioURLs(base string, r *http.Request) []string {
	full := strings.TrimRight(base, "/") + r.URL.RequestURI()
	u, err := url.Parse(full)
	if err != nil {
		return []string{full}
	}
	port := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	out := []string{full}
	switch {
	case port != "" && u.Port() == "":
		u.Host += ":" + port
		out = append(out, u.String())
	case port != "" && u.Port() == port:
		u.Host = u.Hostname()
		out = append(out, u.String())
	}
	return out
}

// twilio serves a Twilio voice status callback (POST, form-encoded): a
// finished call becomes a call event; a transcription callback of the same
// call adds its text. Calls that are not finished yet are acknowledged and
// left alone.
func (in *Inbound) twilio(w http.ResponseWriter, r *http.Request) {
	log := in.logger.With(slog.String("webhook", "twilio"), slog.String("remote", r.RemoteAddr))
	if in.twilioToken == "" {
		writeStatus(w, http.StatusForbidden, store.EFORBIDDEN, "Twilio callbacks are disabled: BROKERSYNC_TWILIO_AUTH_TOKEN is not set")
		return
	}
	body, ok := in.readBody(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, store.EINVALID, "body is not form-encoded: "+err.Error())
		return
	}
	sig := r.Header.Get(TwilioSignatureHeader)
	signed := false
	for _, u := range twilioURLs(in.publicURL, r) {
		want := TwilioSignature(in.twilioToken, u, form)
		signed = signed || subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1
	}
	if sig == "" || !signed {
		in.refuse(w, log, "bad or missing "+TwilioSignatureHeader+": it must sign "+in.publicURL+r.URL.RequestURI()+
			" (BROKERSYNC_PUBLIC_URL must be the address Twilio calls)")
		return
	}
	ev, why, err := twilioCall(form, in.now())
	if err == nil && why != "" {
		WriteJSON(w, http.StatusOK, map[string]any{"accepted": 0, "ignored": why})
		return
	}
	in.storeCall(w, r.Context(), log, ev, err)
}

// twilioStatuses say what a final CallStatus means; other statuses (queued,
// ringing, in-progress) are not final.
var twilioStatuses = map[string]string{
	"completed": "", "busy": "busy", "no-answer": "no answer", "failed": "failed", "canceled": "cancelled",
}

// twilioCall reads Twilio's parameters. why is non-empty for a callback
// that records nothing.
func twilioCall(f url.Values, now time.Time) (ev ingest.CallEvent, why string, err error) {
	for _, name := range []string{"CallSid", "From", "To", "Direction"} {
		if strings.TrimSpace(f.Get(name)) == "" {
			return ev, "", store.Invalid(name, "required")
		}
	}
	ev.ID = "twilio:" + f.Get("CallSid")
	ev.From, ev.To = f.Get("From"), f.Get("To")
	switch d := f.Get("Direction"); {
	case d == "inbound":
		ev.Direction = "inbound"
	case strings.HasPrefix(d, "outbound"): // outbound-api, outbound-dial
		ev.Direction = "outbound"
	default:
		return ev, "", store.Invalid("Direction", "%q is not inbound, outbound-api or outbound-dial", d)
	}
	transcript := f.Get("TranscriptionText")
	if f.Get("TranscriptionSid") != "" {
		if st := f.Get("TranscriptionStatus"); st != "completed" {
			return ev, "transcription " + st, nil
		}
		// A transcription: the call's own facts come with its status
		// callback, before or after; storeCall merges the two.
		ev.Transcript = transcript
		ev.StartedAt = now.UTC().Format(time.RFC3339)
		return ev, "", nil
	}
	status := f.Get("CallStatus")
	missed, final := twilioStatuses[status]
	if status == "" {
		return ev, "", store.Invalid("CallStatus", "required")
	}
	if !final {
		return ev, "call " + status + ", not finished", nil
	}
	secs := 0.0
	if v := f.Get("CallDuration"); v != "" {
		if secs, err = strconv.ParseFloat(v, 64); err != nil {
			return ev, "", store.Invalid("CallDuration", "%q is not a number of seconds", v)
		}
	}
	ev.DurationSeconds = &secs
	end := now
	if v := f.Get("Timestamp"); v != "" {
		if end, err = time.Parse(time.RFC1123Z, v); err != nil {
			return ev, "", store.Invalid("Timestamp", "%q is not an RFC 1123 time", v)
		}
	}
	ev.StartedAt = end.Add(-time.Duration(secs * float64(time.Second))).UTC().Format(time.RFC3339)
	if missed != "" {
		ev.Summary = fmt.Sprintf("Missed %s call (%s)", ev.Direction, missed)
	}
	ev.Transcript = transcript
	return ev, "", nil
}

// aircall serves Aircall's webhooks (POST, JSON). Aircall proves the origin
// by a token unique to the webhook in the body. call.ended becomes a call
// event; every other event is acknowledged and left alone.
func (in *Inbound) aircall(w http.ResponseWriter, r *http.Request) {
	log := in.logger.With(slog.String("webhook", "aircall"), slog.String("remote", r.RemoteAddr))
	if in.aircallToken == "" {
		writeStatus(w, http.StatusForbidden, store.EFORBIDDEN, "Aircall webhooks are disabled: BROKERSYNC_AIRCALL_TOKEN is not set")
		return
	}
	body, ok := in.readBody(w, r)
	if !ok {
		return
	}
	var p struct {
		Event string `json:"event"`
		Token string `json:"token"`
		Data  *struct {
			ID           json.Number `json:"id"`
			Direction    string      `json:"direction"`
			StartedAt    *int64      `json:"started_at"`
			Duration     *float64    `json:"duration"`
			RawDigits    string      `json:"raw_digits"`
			MissedReason *string     `json:"missed_call_reason"`
			Number       *struct {
				Digits string `json:"digits"`
			} `json:"number"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		writeStatus(w, http.StatusBadRequest, store.EINVALID, "malformed JSON: "+err.Error())
		return
	}
	if p.Token == "" || subtle.ConstantTimeCompare([]byte(p.Token), []byte(in.aircallToken)) != 1 {
		in.refuse(w, log, "bad or missing token: it must be the webhook's token from the Aircall dashboard")
		return
	}
	if p.Event != "call.ended" {
		WriteJSON(w, http.StatusOK, map[string]any{"accepted": 0, "ignored": "event " + p.Event})
		return
	}
	d := p.Data
	var ev ingest.CallEvent
	var err error
	switch {
	case d == nil:
		err = store.Invalid("data", "required")
	case d.ID == "":
		err = store.Invalid("data.id", "required")
	case d.StartedAt == nil:
		err = store.Invalid("data.started_at", "required")
	case d.RawDigits == "":
		err = store.Invalid("data.raw_digits", "required: the client's number")
	}
	if err == nil {
		ev = ingest.CallEvent{ID: "aircall:" + d.ID.String(), Direction: d.Direction, DurationSeconds: d.Duration,
			StartedAt: time.Unix(*d.StartedAt, 0).UTC().Format(time.RFC3339)}
		near := ""
		if d.Number != nil {
			near = d.Number.Digits
		}
		// raw_digits is the other party: the caller of an inbound call,
		// the callee of an outbound one.
		ev.From, ev.To = d.RawDigits, near
		if d.Direction == "outbound" {
			ev.From, ev.To = near, d.RawDigits
		}
		if d.MissedReason != nil && *d.MissedReason != "" {
			ev.Summary = fmt.Sprintf("Missed %s call (%s)", d.Direction, strings.ReplaceAll(*d.MissedReason, "_", " "))
		}
	}
	in.storeCall(w, r.Context(), log, ev, err)
}

// storeCall stores one call from a provider. A call already on the
// timeline (its status callback, then its transcription) is revised, so the
// call's facts and its transcript end up in one event.
func (in *Inbound) storeCall(w http.ResponseWriter, ctx context.Context, log *slog.Logger, ev ingest.CallEvent, err error) {
	one := batch{single: true}
	if err != nil {
		in.fail(w, log, one, &ingest.ItemError{Err: err})
		return
	}
	entries, err := in.intake.PrepareCalls(ctx, []ingest.CallEvent{ev})
	if err != nil {
		in.fail(w, log, one, err)
		return
	}
	e := entries[0].Event
	if err := e.Prepare(); err != nil {
		in.fail(w, log, one, &ingest.ItemError{Err: err})
		return
	}
	old, err := in.intake.Recorder.Timeline.Event(ctx, e.ClientID, e.ID)
	switch {
	case err == nil:
		mergeCall(e, old)
	case store.ErrorCode(err) != store.ENOTFOUND:
		in.fail(w, log, one, err)
		return
	}
	if _, err := in.intake.Store(ctx, entries); err != nil {
		in.fail(w, log, one, err)
		return
	}
	WriteJSON(w, http.StatusOK, accepted{Accepted: 1, Events: acceptedEntries(entries)})
}

// mergeCall makes e a revision of the stored call old that keeps what old
// knew and e does not: the transcript, or the call's facts.
func mergeCall(e, old *store.Event) {
	if e.Body == "" {
		e.Body, e.Truncated = old.Body, old.Truncated
	}
	if oc, nc := old.Attrs.Call, e.Attrs.Call; oc != nil && nc != nil && nc.Duration == 0 {
		e.Summary = old.Summary
		nc.Duration = oc.Duration
	}
	e.Sentiment, e.Fingerprint = nil, ""
	e.Replaces = old.Fingerprint
}
