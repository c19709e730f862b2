package ingest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// maxCallDuration rejects durations that are surely a unit mistake
// (milliseconds sent as seconds).
const maxCallDuration = 24 * time.Hour

// CallEvent is a finished phone call as a telephony system reports it.
type CallEvent struct {
	ID              string   `json:"id"`
	From            string   `json:"from"`
	To              string   `json:"to"`
	Direction       string   `json:"direction"` // inbound (the client called) or outbound
	DurationSeconds *float64 `json:"duration_seconds"`
	StartedAt       string   `json:"started_at"`
	Summary         string   `json:"summary"`
	Transcript      string   `json:"transcript"`
	Client          string   `json:"client"` // optional handle; otherwise matched by the far end's number
}

// Call is a validated call event, not yet matched to a client.
type Call struct {
	SourceID   string
	ClientRef  string // the handle given, if any
	FarEnd     string // the client's side, E.164; "" when not a valid number
	farField   string // the field FarEnd came from: "from" or "to"
	Attrs      store.CallAttrs
	Time       time.Time
	Summary    string
	Transcript string
}

var directions = map[string]string{"inbound": "inbound", "in": "inbound", "outbound": "outbound", "out": "outbound"}

// ParseCall checks a call event. The far end (the caller of an inbound call,
// the callee of an outbound one) must be a valid phone number unless the
// client is named; the near end may be an extension and is kept as sent when
// it is not a full number. EINVALID, naming the field.
func ParseCall(ev CallEvent, now time.Time) (*Call, error) {
	c := &Call{
		SourceID:   strings.TrimSpace(ev.ID),
		ClientRef:  strings.TrimSpace(ev.Client),
		Summary:    strings.TrimSpace(ev.Summary),
		Transcript: strings.TrimSpace(ev.Transcript),
	}
	if c.SourceID == "" {
		return nil, store.Invalid("id", "required: the call's unique id")
	}
	if len(c.SourceID) > 200 {
		return nil, store.Invalid("id", "longer than 200 characters")
	}
	dir, err := lookupWord("direction", ev.Direction, directions, "inbound or outbound")
	if err != nil {
		return nil, err
	}
	c.Attrs.Direction = dir
	far, near := ev.From, ev.To
	c.farField = "from"
	if dir == "outbound" {
		c.farField, far, near = "to", ev.To, ev.From
	}
	if n, err := store.NormalizePhone(far); err == nil {
		c.FarEnd = n
	} else if c.ClientRef == "" {
		if strings.TrimSpace(far) == "" {
			return nil, store.Invalid(c.farField, "required: the client's number in E.164 form such as +13125550100 (or name the client)")
		}
		// A number written right that no one can have is not a format
		// mistake: say so, as for a number no client has (422).
		var pe *store.PhoneError
		if errors.As(err, &pe) && pe.Unassigned {
			return nil, &store.Error{Code: store.ENOTFOUND, Field: c.farField, Message: pe.Error() + ", so no client has it"}
		}
		return nil, store.Invalid(c.farField, "%v", err)
	}
	nearNum := strings.TrimSpace(near)
	if n, err := store.NormalizePhone(near); err == nil {
		nearNum = n
	}
	if dir == "inbound" {
		c.Attrs.From, c.Attrs.To = c.FarEnd, nearNum
	} else {
		c.Attrs.From, c.Attrs.To = nearNum, c.FarEnd
	}
	if ev.DurationSeconds != nil {
		d := *ev.DurationSeconds
		if math.IsNaN(d) || d < 0 || d > maxCallDuration.Seconds() {
			return nil, store.Invalid("duration_seconds", "%s is not between 0 and 86400", fmtNum(d))
		}
		c.Attrs.Duration = time.Duration(d * float64(time.Second)).Round(time.Second)
	}
	if c.Time, err = ParseEventTime("started_at", ev.StartedAt, now); err != nil {
		return nil, err
	}
	return c, nil
}

// Event returns the timeline event of the call for client cl. The transcript
// is the body, so the Recorder scores what was said.
func (c *Call) Event(cl *store.Client) *store.Event {
	attrs := c.Attrs
	summary := c.Summary
	if summary == "" {
		summary = fmt.Sprintf("%s call, %s", titleWord(c.Attrs.Direction), store.FormatDuration(c.Attrs.Duration))
	}
	actor := c.Attrs.From
	if actor == "" {
		actor = cl.Handle
	}
	return &store.Event{
		ID:       store.EventID(store.SourceCalls, c.SourceID),
		ClientID: cl.ID,
		Time:     c.Time,
		Kind:     store.KindCall,
		Source:   store.SourceCalls,
		SourceID: c.SourceID,
		Actor:    actor,
		Summary:  summary,
		Body:     c.Transcript,
		Attrs:    store.Attrs{Call: &attrs},
	}
}

func titleWord(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
