package webhooks_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/webhooks"
)

// The signature Twilio documents for its example request, with query
// parameters in the URL.
func TestTwilioSignatureKnownVector(t *testing.T) {
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	got := webhooks.TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
}

// fixture reads a provider payload from testdata with its placeholders
// replaced.
func fixture(t *testing.T, name string, repl ...string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(repl...).Replace(strings.TrimSpace(string(b)))
}

// postTwilio posts a form to path, signed as Twilio signs it unless sig is
// given.
func (e *env) postTwilio(t *testing.T, path, body, sig string) response {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	if sig == "" {
		sig = webhooks.TwilioSignature(twilioToken, e.srv.URL+path, form)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhooks.TwilioSignatureHeader, sig)
	return e.do(t, req)
}

// A Twilio status callback and the transcription of the same call become
// one call event on the client whose number called, whichever comes first,
// applied once however often Twilio delivers them.
func TestTwilioCallAndTranscription(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		from := url.QueryEscape(e.acme.Phones[0].Number)
		status := fixture(t, "twilio-status-completed.form", "%7BFROM%7D", from)
		transcription := fixture(t, "twilio-transcription.form", "%7BFROM%7D", from)
		const path = "/webhooks/twilio?desk=grain" // a query string is part of what Twilio signs
		for i, body := range []string{status, transcription, status, transcription} {
			if r := e.postTwilio(t, path, body, ""); r.status != http.StatusOK || r.body["accepted"] != 1.0 {
				t.Fatalf("delivery %d: %d %v", i, r.status, r.body)
			}
		}
		evs := e.events(t, e.acme)
		if len(evs) != 1 {
			t.Fatalf("acme has %d events, want one call: %v", len(evs), evs)
		}
		ev := evs[0]
		if ev.Kind != store.KindCall || ev.Attrs.Call.Duration != 725*time.Second || ev.Attrs.Call.Direction != "inbound" ||
			!strings.Contains(ev.Body, "slippage on the gold stop") || ev.Sentiment == nil {
			t.Errorf("call event %+v %+v %+v", ev, ev.Attrs.Call, ev.Sentiment)
		}
		if want := time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC).Add(-725 * time.Second); !ev.Time.Equal(want) {
			t.Errorf("call time %v, want %v (the callback's time less the duration)", ev.Time, want)
		}

		// The transcription of another call first, then its status.
		other := url.QueryEscape(e.plains.Phones[0].Number)
		sid := "CA00000000000000000000000000000002"
		tr2 := strings.ReplaceAll(fixture(t, "twilio-transcription.form", "%7BFROM%7D", other), "CA5f4e3d2c1b0a99887766554433221100", sid)
		st2 := strings.ReplaceAll(fixture(t, "twilio-status-completed.form", "%7BFROM%7D", other), "CA5f4e3d2c1b0a99887766554433221100", sid)
		for _, body := range []string{tr2, st2} {
			if r := e.postTwilio(t, path, body, ""); r.status != http.StatusOK {
				t.Fatalf("%d %v", r.status, r.body)
			}
		}
		if evs := e.events(t, e.plains); len(evs) != 1 || evs[0].Attrs.Call.Duration != 725*time.Second || evs[0].Body == "" {
			t.Errorf("transcription then status: %+v", evs)
		}
	})
}

func TestTwilioRefusals(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		from := url.QueryEscape(e.acme.Phones[0].Number)
		status := fixture(t, "twilio-status-completed.form", "%7BFROM%7D", from)
		form, _ := url.ParseQuery(status)
		const path = "/webhooks/twilio?desk=grain"
		for _, tc := range []struct {
			name, body, sig string
			want            int
		}{
			{"no signature", status, "-", http.StatusUnauthorized},
			{"signed with another token", status, webhooks.TwilioSignature("other", e.srv.URL+path, form), http.StatusUnauthorized},
			{"signed without the query string", status, webhooks.TwilioSignature(twilioToken, e.srv.URL+"/webhooks/twilio", form), http.StatusUnauthorized},
			{"a parameter changed after signing", strings.Replace(status, "CallDuration=725", "CallDuration=7250", 1),
				webhooks.TwilioSignature(twilioToken, e.srv.URL+path, form), http.StatusUnauthorized},
			{"no CallSid", strings.Replace(status, "CallSid=", "Sid=", 1), "", http.StatusBadRequest},
			{"unknown number", strings.Replace(status, "From="+from, "From=%2B13125550142", 1), "", http.StatusUnprocessableEntity},
		} {
			sig := tc.sig
			if sig == "-" {
				sig = " "
			}
			r := e.postTwilio(t, path, tc.body, sig)
			if r.status != tc.want {
				t.Errorf("%s: %d %v, want %d", tc.name, r.status, r.body, tc.want)
			}
		}
		if r := e.postTwilio(t, path, strings.Replace(status, "CallSid=", "Sid=", 1), ""); !strings.Contains(r.errorMessage(), "CallSid") {
			t.Errorf("a missing CallSid is not named: %v", r.body)
		}
		// A call still ringing is acknowledged and records nothing.
		ringing := strings.Replace(status, "CallStatus=completed", "CallStatus=ringing", 1)
		if r := e.postTwilio(t, path, ringing, ""); r.status != http.StatusOK || r.body["accepted"] != 0.0 {
			t.Errorf("ringing: %d %v", r.status, r.body)
		}
		if n := len(e.events(t, e.acme)); n != 0 {
			t.Errorf("refused and unfinished callbacks stored %d events", n)
		}
	})
}

// Aircall's call.ended becomes a call event for the number called; its
// token is the proof, other events are acknowledged and ignored.
func TestAircallCallEnded(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		body := fixture(t, "aircall-call-ended.json", "{TOKEN}", aircallToken, "{TO}", e.plains.Phones[0].Number)
		post := func(body string) response {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/webhooks/aircall", bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			return e.do(t, req)
		}
		for range 2 {
			if r := post(body); r.status != http.StatusOK || r.body["accepted"] != 1.0 {
				t.Fatalf("%d %v", r.status, r.body)
			}
		}
		evs := e.events(t, e.plains)
		if len(evs) != 1 || evs[0].Attrs.Call.Direction != "outbound" || evs[0].Attrs.Call.Duration != 65*time.Second ||
			evs[0].Summary != "Outbound call, 1m 5s" || !evs[0].Time.Equal(time.Unix(1796655000, 0)) {
			t.Fatalf("aircall call: %+v", evs)
		}
		for _, tc := range []struct {
			name, body string
			want       int
		}{
			{"wrong token", strings.Replace(body, aircallToken, "guess", 1), http.StatusUnauthorized},
			{"no token", strings.Replace(body, `"token": "`+aircallToken+`",`, "", 1), http.StatusUnauthorized},
			{"no number", strings.Replace(body, `"raw_digits": "`+e.plains.Phones[0].Number+`"`, `"raw_digits": ""`, 1), http.StatusBadRequest},
			{"not JSON", "event=call.ended", http.StatusBadRequest},
		} {
			if r := post(tc.body); r.status != tc.want {
				t.Errorf("%s: %d %v, want %d", tc.name, r.status, r.body, tc.want)
			}
		}
		if r := post(strings.Replace(body, "call.ended", "call.ringing_on_agent", 1)); r.status != http.StatusOK || r.body["accepted"] != 0.0 {
			t.Errorf("another event: %d %v", r.status, r.body)
		}
	})
}
