package reminders

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Slack takes about one message a second in a channel (chat.postMessage's
// special limit) and allows "generous bursts" above it, but how generous is
// not documented and varies. So the pacer trusts Slack until it answers
// 429 in a channel; from then on, for strictFor after the last 429 or the
// last post paced, it spaces that channel's messages a gap apart. What it
// knows of a channel is kept in the store (store.ReminderPace), so that
// every replica paces a channel with the others instead of colliding with
// them.
const strictFor = 5 * time.Minute

// Turns in a paced channel are planned a little more than the least gap
// Slack allows apart (turnMargin): a message leaves a little after its
// turn, by however late the machine wakes it, and a plan with room for that
// keeps one late message from delaying all those after it.
//
// The plan alone would not keep Slack from seeing two messages too close
// (one that left late, the next on time): a message that arrives early is
// answered 429 with a Retry-After of a whole second. What keeps them
// apart is that each leaves no sooner than the least gap (stretched by
// minMargin for clocks that differ between hosts) after Slack answered the
// one before (ReminderPace.Last): a message cannot reach Slack before it
// leaves, nor the one before after its answer.
const (
	turnMargin = 1.03
	minMargin  = 1.002
)

type pacer struct {
	store store.ReminderStore
	gap   time.Duration // between two turns
	least time.Duration // between Slack's answer to a message and the next leaving
	now   func() time.Time

	mu   sync.Mutex
	last map[string]time.Time // channel -> Slack's last answer to a paced post from this replica
}

func newPacer(st store.ReminderStore, perSecond float64, now func() time.Time) *pacer {
	each := float64(time.Second) / perSecond
	return &pacer{store: st, now: now, last: map[string]time.Time{},
		gap: time.Duration(math.Round(each * turnMargin)), least: time.Duration(math.Round(each * minMargin))}
}

// lastHere is when Slack last answered a paced post to channel from this
// replica.
func (p *pacer) lastHere(channel string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[channel]
}

// turns gives the jobs, in order, their turns in their channels: now for
// a channel Slack has not limited lately, else a gap after the channel's
// previous turn, whichever replica took it. A job whose turn would come
// after until gets none; its at is when it would have come.
func (p *pacer) turns(ctx context.Context, jobs []*job, until time.Time) error {
	chans := make([]string, 0, len(jobs))
	for _, j := range jobs {
		chans = append(chans, j.channel)
	}
	now := p.now()
	return p.store.PaceReminderChannels(ctx, chans, func(ps map[string]*store.ReminderPace) error {
		for _, j := range jobs {
			pc := ps[j.channel]
			j.at, j.turn = p.take(pc, now, until)
			j.paced = pc.StrictUntil.After(now)
		}
		return nil
	})
}

// take takes the next turn in a channel, if it comes by until.
func (p *pacer) take(pc *store.ReminderPace, now, until time.Time) (time.Time, bool) {
	if !pc.StrictUntil.After(now) {
		// Slack has not limited the channel lately: post now, and keep
		// count in case it does.
		pc.Next = later(pc.Next, now).Add(p.gap)
		return now, true
	}
	at := later(pc.Next, now)
	if at.After(until) {
		return at, false
	}
	pc.Next = at.Add(p.gap)
	pc.StrictUntil = later(pc.StrictUntil, at.Add(strictFor))
	return at, true
}

// limited records Slack's 429 in a channel: nothing is posted there before
// retryAfter has passed, and its messages are paced from then on. It
// returns the refused message's next turn, if that comes by until.
func (p *pacer) limited(ctx context.Context, channel string, retryAfter time.Duration, until time.Time) (at time.Time, turn bool, err error) {
	now := p.now()
	free := now.Add(retryAfter)
	err = p.store.PaceReminderChannels(ctx, []string{channel}, func(ps map[string]*store.ReminderPace) error {
		pc := ps[channel]
		if pc.StrictUntil.After(now) {
			// Already paced: the turns handed out stand.
			pc.Next = later(pc.Next, free)
		} else {
			// The messages sent in a burst were not paced; those refused
			// come again, in turns from the end of Retry-After.
			pc.Next = free
		}
		pc.StrictUntil = free.Add(strictFor)
		at, turn = p.take(pc, now, until)
		return nil
	})
	return at, turn, err
}

// clear returns when a paced message may leave for channel: a gap after
// Slack answered the last one, whichever replica posted it.
func (p *pacer) clear(ctx context.Context, channel string) (time.Time, error) {
	var at time.Time
	err := p.store.PaceReminderChannels(ctx, []string{channel}, func(ps map[string]*store.ReminderPace) error {
		if last := ps[channel].Last; !last.IsZero() {
			at = last.Add(p.least)
		}
		return nil
	})
	return at, err
}

// posted records that Slack answered at at that it accepted a paced
// message in channel; turns not handed out yet come a gap after it.
func (p *pacer) posted(ctx context.Context, channel string, at time.Time) error {
	p.mu.Lock()
	p.last[channel] = later(p.last[channel], at)
	p.mu.Unlock()
	return p.store.PaceReminderChannels(ctx, []string{channel}, func(ps map[string]*store.ReminderPace) error {
		pc := ps[channel]
		pc.Last = later(pc.Last, at)
		pc.Next = later(pc.Next, at.Add(p.least))
		return nil
	})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
