package reminders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/bot"
	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/store"
)

// digestRunIDs derives the id a period's message carries in its metadata.
var digestRunIDs = uuid.MustParse("0b7f3c1e-9a24-4d6b-8e51-7c2d4f9a1b36")

// DigestRunID is the id of a subscription's digest of a period, carried
// in its Slack message's metadata: how a replica finds a digest Slack
// accepted but whose ts was never recorded.
func DigestRunID(sub uuid.UUID, period string) uuid.UUID {
	return uuid.NewSHA1(digestRunIDs, []byte(sub.String()+"/"+period))
}

// DigestSlack is what the digest runner needs of Slack: the scheduler's
// posts, and replies in a thread.
type DigestSlack interface {
	Slack
	// PostReply posts m in the thread of the message ts in channel.
	PostReply(ctx context.Context, channel, ts string, m Message) (string, error)
}

// DigestOptions configure a DigestRunner. Store, Builder, Teams and Slack
// are required.
type DigestOptions struct {
	Store   store.DigestStore
	Builder *DigestBuilder
	Teams   store.TeamStore
	Slack   DigestSlack
	Admins  []string // BrokerSync admins: their subscriptions need no desk role

	Owner    string        // this replica's name in claims; default host-pid-random
	Interval time.Duration // how often to look for due digests; default 30s
	Lease    time.Duration // how long a claim lasts; default 5m
	// CatchUp is how many missed periods of a subscription are posted, late,
	// after an outage; default 3. Older ones are left.
	CatchUp int
	// LateAfter is how long after its time a digest is marked late; default 15m.
	LateAfter time.Duration

	Now    func() time.Time
	Logger *slog.Logger
}

// DigestRunner posts each subscription's digest once per period. Run it in
// every replica: a period's once-key (store.DigestStore.ClaimDigestRun)
// lets one replica post it, and a replica that finds a claim whose holder
// died first looks for the message in the channel's history, as the
// reminder scheduler does.
type DigestRunner struct {
	o   DigestOptions
	log *slog.Logger
}

// NewDigestRunner returns a runner.
func NewDigestRunner(o DigestOptions) (*DigestRunner, error) {
	if o.Store == nil || o.Builder == nil || o.Teams == nil || o.Slack == nil {
		return nil, errors.New("reminders: Store, Builder, Teams and Slack are required for digests")
	}
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.CatchUp <= 0 {
		o.CatchUp = 3
	}
	if o.LateAfter <= 0 {
		o.LateAfter = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &DigestRunner{o: o, log: o.Logger.With(slog.String("replica", o.Owner))}, nil
}

// Run posts due digests until ctx ends.
func (r *DigestRunner) Run(ctx context.Context) error {
	r.log.Info("digest runner running", slog.Duration("interval", r.o.Interval))
	return tickEvery(ctx, r.o.Interval, r.log, "posting due digests failed", r.Tick)
}

// Tick posts every digest due now and not yet posted, and returns how many
// it recorded as posted.
func (r *DigestRunner) Tick(ctx context.Context) (int, error) {
	subs, err := r.o.Store.DigestSubscriptions(ctx, store.DigestFilter{})
	if err != nil {
		return 0, err
	}
	posted := 0
	var errs []error
	for _, s := range subs {
		n, err := r.subscription(ctx, s)
		posted += n
		if err != nil {
			errs = append(errs, fmt.Errorf("digest of %s for %s: %w", s.Desk, s.Owner, err))
		}
	}
	return posted, errors.Join(errs...)
}

// subscription posts the due periods of s not yet posted, oldest first:
// the latest, and those of the CatchUp-1 before it that an outage left
// unposted, none from before s was made.
func (r *DigestRunner) subscription(ctx context.Context, s *store.DigestSubscription) (int, error) {
	now := r.o.Now()
	runs, err := r.o.Store.DigestRuns(ctx, s.ID, r.o.CatchUp+1)
	if err != nil {
		return 0, err
	}
	var due []store.DigestPeriod
	p := s.PeriodAt(now)
	for range r.o.CatchUp {
		if p.To.Before(s.CreatedAt) {
			break
		}
		// A period may be posted while an earlier one is not: its claim was
		// busy (another replica, or one that died holding it).
		if i := slices.IndexFunc(runs, func(run *store.DigestRun) bool { return run.Period == p.Key }); i < 0 || runs[i].State != store.DigestPosted {
			due = append(due, p)
		}
		p = s.Previous(p)
	}
	posted := 0
	for i := len(due) - 1; i >= 0; i-- {
		ok, err := r.post(ctx, s, due[i])
		if err != nil {
			return posted, err
		}
		if ok {
			posted++
		}
	}
	return posted, nil
}

// historyMarginDigest is how long before a digest's time its history lookup
// starts.
const historyMarginDigest = 10 * time.Minute

// post claims one period's digest and posts it; ok reports it recorded.
func (r *DigestRunner) post(ctx context.Context, s *store.DigestSubscription, p store.DigestPeriod) (bool, error) {
	now := r.o.Now()
	run, claimed, err := r.o.Store.ClaimDigestRun(ctx, s.ID, p.Key, p.To, r.o.Owner, now, r.o.Lease)
	if err != nil || !claimed {
		return false, err
	}
	log := r.log.With(slog.String("subscription", s.ID.String()), slog.String("desk", s.Desk), slog.String("period", p.Key), slog.Int("attempt", run.Attempts))
	// Slack calls end well inside the lease, so no other replica takes
	// the digest over while this one may still post it.
	sctx, cancel := context.WithTimeout(ctx, r.o.Lease/2)
	defer cancel()
	id := DigestRunID(s.ID, p.Key)
	if run.Attempts > 1 {
		ts, err := r.o.Slack.FindPosted(sctx, s.Channel, id, p.To.Add(-historyMarginDigest))
		if err != nil {
			return false, r.retry(ctx, log, s, p, err)
		}
		if ts != "" {
			return r.record(ctx, log, s, p, ts, "found")
		}
	}
	allowed, err := r.allowed(ctx, s)
	if err != nil {
		return false, r.retry(ctx, log, s, p, err)
	}
	if !allowed {
		// Managers see only their desks: a subscriber who left the desk gets
		// nothing, and the period is settled so it is not tried again.
		log.Warn("digest not posted: its subscriber no longer manages the desk", slog.String("owner", s.Owner))
		return r.record(ctx, log, s, p, "", "skipped")
	}
	d, err := r.o.Builder.Build(sctx, s.Desk, p.From, p.To, s.Loc())
	if err != nil {
		return false, r.retry(ctx, log, s, p, err)
	}
	d.Frequency = s.Frequency
	if late := now.Sub(p.To); late > r.o.LateAfter {
		d.Late = late
	}
	msg, details := DigestResponse(d)
	ts, err := r.o.Slack.Post(sctx, s.Channel, id, slackMessage(msg))
	if err != nil {
		return false, r.retry(ctx, log, s, p, err)
	}
	ok, err := r.record(ctx, log, s, p, ts, "posted")
	if ok && details != nil {
		// The details follow their message; a crash in between leaves the
		// message without its thread, never a second message.
		if _, err := r.o.Slack.PostReply(sctx, s.Channel, ts, slackMessage(*details)); err != nil {
			log.Warn("digest details not posted in its thread", slog.Any("err", err))
		}
	}
	return ok, err
}

func slackMessage(resp bot.Response) Message {
	return Message{Text: resp.Text, Blocks: bslack.Blocks(resp)}
}

// allowed reports whether s's owner may still read the desk's digest: an
// admin, or a manager of the desk.
func (r *DigestRunner) allowed(ctx context.Context, s *store.DigestSubscription) (bool, error) {
	if slices.Contains(r.o.Admins, s.Owner) {
		return true, nil
	}
	ms, err := r.o.Teams.Memberships(ctx, s.Owner)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ms, func(m store.Member) bool { return m.Desk == s.Desk && m.Role == store.RoleManager }), nil
}

func (r *DigestRunner) record(ctx context.Context, log *slog.Logger, s *store.DigestSubscription, p store.DigestPeriod, ts, how string) (bool, error) {
	// What Slack has must be recorded even when shutting down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	now := r.o.Now()
	if err := r.o.Store.MarkDigestPosted(ctx, s.ID, p.Key, r.o.Owner, s.Channel, ts, now); err != nil {
		log.Warn("digest posted but not recorded; the next claimant finds the message", slog.String("ts", ts), slog.Any("err", err))
		return false, nil
	}
	log.Info("digest "+how, slog.String("channel", s.Channel), slog.String("ts", ts), slog.Duration("late", now.Sub(p.To)))
	return true, nil
}

// retry gives the claim back, to be tried again after a short wait (the
// Retry-After of a 429).
func (r *DigestRunner) retry(ctx context.Context, log *slog.Logger, s *store.DigestSubscription, p store.DigestPeriod, cause error) error {
	wait := retryIn(cause, 30*time.Second)
	log.Warn("digest not posted, will retry", slog.Duration("in", wait), slog.Any("err", cause))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.o.Store.RetryDigestRun(ctx, s.ID, p.Key, r.o.Owner, r.o.Now().Add(wait)); err != nil {
		log.Warn("could not give the digest claim back; it is retried when its lease runs out", slog.Any("err", err))
	}
	return nil
}

// Preview builds desk's digest of the day up to now, as /digest now shows
// it, in loc.
func (b *DigestBuilder) Preview(ctx context.Context, desk string, now time.Time, loc *time.Location) (*Digest, error) {
	d, err := b.Build(ctx, desk, now.AddDate(0, 0, -1), now, loc)
	if err != nil {
		return nil, err
	}
	d.Preview, d.Frequency = true, store.DigestDaily
	return d, nil
}

// IsNoDesk reports whether err is a digest of a desk that does not exist.
func IsNoDesk(err error) bool { return errors.Is(err, errNoDesk) }

// DigestService is what the bot's /digest needs: the subscriptions, and
// digests built on demand by the same builder and renderer the runner posts
// with.
type DigestService struct {
	store.DigestStore
	Builder *DigestBuilder
}

var _ bot.Digests = DigestService{}

// Preview implements bot.Digests: the message and its details, one after
// the other.
func (s DigestService) Preview(ctx context.Context, desk string, now time.Time, loc *time.Location) (bot.Response, error) {
	d, err := s.Builder.Preview(ctx, desk, now, loc)
	if IsNoDesk(err) {
		return bot.Response{}, store.Errorf(store.ENOTFOUND, "there is no desk %q", desk)
	}
	if err != nil {
		return bot.Response{}, err
	}
	msg, details := DigestResponse(d)
	if details != nil {
		msg.Blocks = append(msg.Blocks, details.Blocks...)
	}
	msg.Text = DigestText(d)
	return msg, nil
}
