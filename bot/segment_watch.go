package bot

import (
	"context"
	"strings"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// /segment watch <name> [#channel|here]
func segmentWatch(ctx context.Context, c *call) Response {
	s, r := c.editableSegment(ctx, 2, "Which segment, and which channel? e.g. /segment watch at-risk #energy-desk", "watch it")
	if r != nil {
		return *r
	}
	channel := c.req.Channel
	if c.args.Len() == 2 {
		w := c.args.At(1)
		if id, ok := w.Channel(); ok {
			channel = id
		} else if !strings.EqualFold(w.Text, "here") {
			if strings.HasPrefix(w.Text, "#") {
				return c.usageError("Slack sent %s as plain text: pick the channel from Slack's suggestions as you type #, or run `/segment watch %s` in it.", w.Text, s.Name)
			}
			return c.usageError("%q is not a channel: name one with #.", w.Text)
		}
	}
	if channel == "" {
		return c.usageError("Name the channel to post to, e.g. /segment watch %s #energy-desk", s.Name)
	}
	if !strings.HasPrefix(channel, "D") {
		if r := c.checkInChannel(ctx, channel, "post the segment's changes there"); r != nil {
			return *r
		}
	}
	if err := c.b.segments.WatchSegment(ctx, segment.Watch{Segment: s.Name, Channel: channel, WatchedBy: c.actor.ID, At: c.b.now()}); err != nil {
		return c.b.fail(err, "watch the segment")
	}
	return textResponse(OK, "Watching %s: who enters and leaves it is posted to %s, one message per check (every few minutes), from now on.", s.Name, channelRef(channel))
}

// /segment unwatch <name>
func segmentUnwatch(ctx context.Context, c *call) Response {
	s, r := c.editableSegment(ctx, 1, "Which segment?", "stop watching it")
	if r != nil {
		return *r
	}
	err := c.b.segments.UnwatchSegment(ctx, s.Name)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return textResponse(NotFound, "Segment %s is not watched.", s.Name)
	}
	if err != nil {
		return c.b.fail(err, "stop watching the segment")
	}
	return textResponse(OK, "No longer watching %s.", s.Name)
}

// SegmentScope says what a saved segment holds when nobody is looking (its
// members, the changes on the timeline, a watch channel): its filter
// resolved as for whoever saved it, and the desks that person may see
// (nil: every desk), so that no client of a desk its author cannot see is
// ever a member.
func (r Rights) SegmentScope(segments Segments) func(ctx context.Context, s segment.Saved) (*segment.Filter, []string, error) {
	b := r.bot(segments)
	return func(ctx context.Context, s segment.Saved) (*segment.Filter, []string, error) {
		a, err := b.actor(ctx, s.CreatedBy)
		if err != nil {
			return nil, nil, err
		}
		f, err := segment.Parse(s.Filter, r.Catalogue)
		if err != nil {
			return nil, nil, err
		}
		c := &call{b: b, actor: a}
		if f, err = segment.Resolve(ctx, f, c.lookup("", s.Filter)); err != nil {
			return nil, nil, err
		}
		return f, a.visibleDesks(), nil
	}
}
