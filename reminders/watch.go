package reminders

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// SegmentWatches posts the entries and exits of watched segments to their
// channels: one message per segment per pass, listing every client that
// entered and left since the previous message, never one per client.
//
// Posting works as for reminders: the store fixes each message's changes
// and claims it with a lease before it is posted; the message carries the
// post's id in its metadata; a post claimed again (its poster died, or
// Slack's answer was lost) is first looked for in the channel's history.
// So each message is posted once, by one of any number of replicas.
type SegmentWatches struct {
	Store   segment.MembershipStore
	Clients store.ClientStore
	Slack   Slack
	// Every is the least time between two messages of a segment, however
	// many replicas post; default DefaultWatchInterval.
	Every  time.Duration
	Lease  time.Duration    // default 2m
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
}

// Defaults of SegmentWatches.
const (
	// DefaultWatchInterval is how often watched segments are posted: the
	// changes of a minute make one message.
	DefaultWatchInterval = time.Minute
	// watchChanges is the most changes one message lists; more make the
	// next message.
	watchChanges = 200
	// watchNames is how many clients a message names per direction.
	watchNames = 40
)

func (w *SegmentWatches) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *SegmentWatches) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Tick posts what is due and returns how many messages it recorded as
// posted.
func (w *SegmentWatches) Tick(ctx context.Context) (int, error) {
	lease := w.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	every := w.Every
	if every <= 0 {
		every = DefaultWatchInterval
	}
	posts, err := w.Store.ClaimWatchPosts(ctx, w.now(), every, lease, watchChanges)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, p := range posts {
		if err := w.deliver(ctx, p, lease); err != nil {
			retry := w.now().Add(retryIn(err, 30*time.Second))
			w.log().Warn("segment changes not posted, will retry", slog.String("segment", p.Segment), slog.Any("err", err))
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := w.Store.RetryWatchPost(rctx, p.ID, retry); err != nil {
				w.log().Warn("segment post not rescheduled; retried when its lease runs out", slog.Any("err", err))
			}
			cancel()
			continue
		}
		done++
	}
	return done, nil
}

func (w *SegmentWatches) deliver(ctx context.Context, p segment.WatchPost, lease time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, lease/2)
	defer cancel()
	ts := ""
	if p.Attempts > 1 {
		var err error
		if ts, err = w.Slack.FindPosted(ctx, p.Channel, p.ID, p.CreatedAt.Add(-historyMargin)); err != nil {
			return err
		}
	}
	how := "found"
	if ts == "" {
		m, err := w.message(ctx, p)
		if err != nil {
			return err
		}
		if ts, err = w.Slack.Post(ctx, p.Channel, p.ID, m); err != nil {
			return err
		}
		how = "posted"
	}
	// What Slack has must be recorded even when shutting down.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer rcancel()
	if err := w.Store.MarkWatchPosted(rctx, p.ID, ts, w.now()); err != nil {
		w.log().Warn("segment changes posted but not recorded; the next claim finds the message", slog.Any("err", err))
		return nil
	}
	w.log().Info("segment changes posted", slog.String("segment", p.Segment), slog.String("channel", p.Channel),
		slog.Int("changes", len(p.Changes)), slog.String("how", how))
	return nil
}

// WatchMessageText is the first line of a watched segment's message.
func WatchMessageText(segment string, entered, left int) string {
	var parts []string
	if entered > 0 {
		parts = append(parts, fmt.Sprintf("%d entered", entered))
	}
	if left > 0 {
		parts = append(parts, fmt.Sprintf("%d left", left))
	}
	return fmt.Sprintf("Segment %s: %s", segment, strings.Join(parts, ", "))
}

// message lists who entered and who left.
func (w *SegmentWatches) message(ctx context.Context, p segment.WatchPost) (Message, error) {
	var in, out []string
	names := map[uuid.UUID]string{}
	for _, c := range p.Changes {
		name, ok := names[c.ClientID]
		if !ok {
			cl, err := w.Clients.Client(ctx, c.ClientID)
			switch {
			case store.ErrorCode(err) == store.ENOTFOUND:
				name = "a deleted client"
			case err != nil:
				return Message{}, err
			default:
				name = fmt.Sprintf("%s (`%s`)", slackEscape(cl.Name), cl.Handle)
			}
			names[c.ClientID] = name
		}
		if c.Entered {
			in = append(in, name)
		} else {
			out = append(out, name)
		}
	}
	text := WatchMessageText(p.Segment, len(in), len(out))
	list := func(title string, names []string) string {
		if len(names) > watchNames {
			names = append(names[:watchNames:watchNames], fmt.Sprintf("… and %d more", len(names)-watchNames))
		}
		return "*" + title + "*\n• " + strings.Join(names, "\n• ")
	}
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	blocks := []slack.Block{slack.NewSectionBlock(md(":busts_in_silhouette: *"+slackEscape(text)+"*"), nil, nil)}
	if len(in) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(clipText(list("Entered", in))), nil, nil))
	}
	if len(out) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(clipText(list("Left", out))), nil, nil))
	}
	return Message{Text: text, Blocks: blocks}, nil
}

// clipText keeps a section within Slack's 3,000 characters.
func clipText(s string) string {
	if len(s) <= 3000 {
		return s
	}
	cut := strings.LastIndex(s[:2990], "\n")
	return s[:cut] + "\n• …"
}

// Run posts watched segments every interval (default a tenth of Every)
// until ctx ends.
func (w *SegmentWatches) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = max(w.Every, DefaultWatchInterval) / 10
	}
	return tickEvery(ctx, interval, w.log(), "posting watched segments failed", w.Tick)
}
