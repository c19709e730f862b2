package store

// Source says where a timeline event came from. With the source's own id
// it names the event (EventID), so a source's name never changes once
// events carry it: renamed, every event of it would get a new id, and each
// redelivery would be stored a second time.
type Source string

// The sources of timeline events.
const (
	SourceEmail     Source = "imap"      // a mail read from an IMAP mailbox
	SourceSlack     Source = "slack"     // a Slack message: a linked channel or the "Log to client" shortcut
	SourceCommand   Source = "command"   // a slash command: /log, /note, /feedback
	SourceLink      Source = "link"      // a Slack channel linked to a client
	SourceOrders    Source = "orders"    // an execution: the order webhook or the order import
	SourceCalls     Source = "calls"     // a call: the call webhook or a telephony provider
	SourceMarket    Source = "market"    // a market move, on each client it concerns
	SourceProfile   Source = "profile"   // a change of the client's profile
	SourceSentiment Source = "sentiment" // a drop in the client's sentiment, marked by BrokerSync
	SourceSegment   Source = "segment"   // the client entered or left a saved segment
	SourceMilestone Source = "milestone" // a milestone of the client fell due
	SourceWorkflow  Source = "workflow"  // a desk workflow fired on the client
)

// Signal names what an event means for the rules that act on it (follow-up
// reminders, workflows, digests). It is kept with the event, in
// Attrs.Extra["signal"], under these stored names.
type Signal string

// The signals events carry.
const (
	SignalMarketMove     Signal = "market_move"     // a market move in a commodity the client trades or follows
	SignalSentimentDrop  Signal = "sentiment_drop"  // the client's 30-day sentiment fell
	SignalSegmentEntered Signal = "segment_entered" // the client entered a saved segment; Extra["segment"] names it
	SignalSegmentLeft    Signal = "segment_left"    // the client left a saved segment; Extra["segment"] names it
	SignalMilestone      Signal = "milestone"       // a milestone fell due; Extra["milestone"] says which
	SignalStageChange    Signal = "stage_change"    // the client's lifecycle stage changed; Extra["stage"] is the new one
)

// signalKey is where Attrs.Extra keeps an event's signal.
const signalKey = "signal"

// Signal returns the signal the event carries, "" for none.
func (a Attrs) Signal() Signal { return Signal(a.Extra[signalKey]) }

// WithSignal returns extra (a new map when nil) with s as the signal.
func WithSignal(extra map[string]string, s Signal) map[string]string {
	if extra == nil {
		extra = map[string]string{}
	}
	extra[signalKey] = string(s)
	return extra
}
