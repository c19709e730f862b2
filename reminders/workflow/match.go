package workflow

import (
	"slices"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// CausedBy is the key of Attrs.Extra that names the workflows whose
// actions caused an event, comma-separated, the latest last: a workflow's
// tag or stage change carries its name and the names the triggering event
// carried, so a chain of workflows that would come back to one of them is
// seen for what it is.
const CausedBy = "workflow"

// Causes returns the workflows that caused e.
func Causes(e *store.Event) []string {
	v := e.Attrs.Extra[CausedBy]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Chain is what an action of workflow, fired by e, marks its events with.
func Chain(e *store.Event, workflow string) string {
	var chain []string
	if e != nil {
		chain = Causes(e)
	}
	if !slices.Contains(chain, workflow) {
		chain = append(chain, workflow)
	}
	return strings.Join(chain, ",")
}

// OnEvent reports whether the trigger is one an event sets off (every one
// but no contact, which a periodic evaluation looks for).
func (t Trigger) OnEvent() bool { return t.Kind != TriggerNoContact }

// Matches reports whether e sets off the trigger for its client c.
func (t Trigger) Matches(e *store.Event, c *store.Client) bool {
	signal := e.Attrs.Signal()
	order := func(statuses ...string) bool {
		return e.Kind == store.KindOrder && e.Attrs.Order != nil && slices.Contains(statuses, e.Attrs.Order.Status)
	}
	switch t.Kind {
	case TriggerFill:
		return order("filled", "partially_filled")
	case TriggerOrderPlaced:
		return order("placed")
	case TriggerOrderCancelled:
		return order("cancelled", "canceled")
	case TriggerOrderRejected:
		return order("rejected")
	case TriggerMarketMove:
		return signal == store.SignalMarketMove
	case TriggerSentimentDrop:
		return signal == store.SignalSentimentDrop
	case TriggerInbound:
		switch t.Arg {
		case "email":
			return e.Kind == store.KindEmail && e.Attrs.Email != nil && e.Attrs.Email.Direction == "inbound"
		case "call":
			return e.Kind == store.KindCall && e.Attrs.Call != nil && e.Attrs.Call.Direction == "inbound"
		case "chat":
			return e.Kind == store.KindChat && e.Source == store.SourceSlack && e.Actor != c.Broker &&
				(e.Attrs.Chat == nil || !e.Attrs.Chat.Deleted)
		}
	case TriggerEntered:
		return signal == store.SignalSegmentEntered && e.Attrs.Extra["segment"] == t.Arg
	case TriggerLeft:
		return signal == store.SignalSegmentLeft && e.Attrs.Extra["segment"] == t.Arg
	case TriggerStageChange:
		return signal == store.SignalStageChange && (t.Arg == "" || e.Attrs.Extra["stage"] == t.Arg)
	case TriggerMilestone:
		return signal == store.SignalMilestone && (t.Arg == "" || e.Attrs.Extra["milestone"] == t.Arg)
	}
	return false
}

// DryFiring is one firing a dry run found: the client and what would
// have fired the workflow.
type DryFiring struct {
	Client  *store.Client
	Key     string    // the triggering event's id, or the quiet spell's
	At      time.Time // the event's time, or the start of the quiet spell
	Summary string    // the event's summary, or "no contact since …"
}
