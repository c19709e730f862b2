// Package reminders posts due reminders to Slack: a durable scheduler over
// store.ReminderStore that any number of replicas may run at once.
//
// Each replica claims due reminders with a lease (PostgreSQL: FOR UPDATE
// SKIP LOCKED; the embedded store: one UPDATE under SQLite's write lock),
// posts each to Slack with the reminder's id in the message metadata, and
// records the message's ts. A replica that dies holding a claim leaves a
// lease that runs out; the next claimant first looks for the message in the
// channel's history, so a post Slack accepted is never posted again. Slack
// being slow or limiting the rate delays a reminder, never drops it.
package reminders

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// Options configure a Scheduler. Store, Clients and Slack are required.
type Options struct {
	Store   store.ReminderStore
	Clients store.ClientStore
	Slack   Slack
	// Timeline, when set, gives each message the client's last contact.
	Timeline store.TimelineStore

	Owner    string        // this replica's name in leases; default host-pid-random
	Interval time.Duration // how often to look for due reminders; default 1s
	Lease    time.Duration // how long a claim lasts; default 2m
	Batch    int           // reminders claimed at a time; default 100
	Workers  int           // posts in flight at once; default 8
	// MaxBackoff caps the wait before trying a failed post again; default 10m.
	MaxBackoff time.Duration

	Now     func() time.Time // default time.Now
	Logger  *slog.Logger
	Metrics *Metrics // nil: not exported
}

// historyMargin is how long before a reminder's due time the history
// lookup starts.
const historyMargin = 10 * time.Minute

// Scheduler posts due reminders. Run it in every replica.
type Scheduler struct {
	o       Options
	log     *slog.Logger
	metrics *Metrics

	mu      sync.Mutex
	blocked map[string]time.Time // method+channel -> end of a 429's Retry-After
}

// New returns a scheduler.
func New(o Options) (*Scheduler, error) {
	if o.Store == nil || o.Clients == nil || o.Slack == nil {
		return nil, errors.New("reminders: Store, Clients and Slack are required")
	}
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	return &Scheduler{o: o, log: o.Logger.With(slog.String("replica", o.Owner)), metrics: o.Metrics, blocked: map[string]time.Time{}}, nil
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = cryptoRead(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

var cryptoRead = crand.Read

// Run posts due reminders until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.Info("reminder scheduler running", slog.Duration("interval", s.o.Interval), slog.Duration("lease", s.o.Lease))
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("claiming due reminders failed", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick claims and posts every reminder due now, a batch at a time, and
// returns how many it recorded as posted.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	total := 0
	clients := &clientCache{store: s.o.Clients, byID: map[uuid.UUID]*store.Client{}}
	for ctx.Err() == nil {
		claimedAt := s.o.Now()
		rs, err := s.o.Store.ClaimDueReminders(ctx, s.o.Owner, claimedAt, s.o.Lease, s.o.Batch)
		if err != nil {
			return total, err
		}
		s.metrics.claimed.Add(float64(len(rs)))
		for _, r := range rs {
			if r.Attempts == 1 {
				s.metrics.due.Inc()
			}
		}
		var mu sync.Mutex
		var posted []outcome
		var g errgroup.Group
		g.SetLimit(s.o.Workers)
		for _, r := range rs {
			g.Go(func() error {
				if o, ok := s.deliver(ctx, r, claimedAt, clients); ok {
					mu.Lock()
					posted = append(posted, o)
					mu.Unlock()
				}
				return nil
			})
		}
		_ = g.Wait()
		total += s.record(ctx, posted)
		if len(rs) < s.o.Batch {
			break
		}
	}
	return total, nil
}

// outcome is a reminder whose message is in Slack, to be recorded.
type outcome struct {
	r    *store.Reminder
	post store.ReminderPost
	how  string // posted, or found in the channel's history
	log  *slog.Logger
}

// deliver posts one claimed reminder, or gives it back to be tried again.
// ok reports that its message is in Slack.
func (s *Scheduler) deliver(ctx context.Context, r *store.Reminder, claimedAt time.Time, clients *clientCache) (outcome, bool) {
	log := s.log.With(slog.String("reminder", r.ID.String()), slog.String("broker", r.Broker), slog.Int("attempt", r.Attempts))
	// Every Slack call must end well inside the lease, so that no other
	// replica takes the reminder over while this one may still post it.
	ctx, cancel := context.WithTimeout(ctx, s.o.Lease/2)
	defer cancel()

	channel := r.Channel
	if channel == "" {
		// Where the broker's reminders go: a channel of their choosing, or
		// their DM.
		set, err := clients.settings(ctx, s.o.Store, r.Broker)
		if err != nil {
			s.retry(ctx, log, r, "", err)
			return outcome{}, false
		}
		channel = set.Channel
	}
	if channel == "" {
		ch, err := s.o.Slack.OpenDM(ctx, r.Broker)
		if err != nil {
			s.retry(ctx, log, r, "", err)
			return outcome{}, false
		}
		channel = ch
	}
	for _, method := range []string{"conversations.history", "chat.postMessage"} {
		if until, ok := s.isBlocked(method, channel); ok {
			s.retryAt(ctx, log, r, until, "rate_limited")
			return outcome{}, false
		}
	}
	// A reminder claimed before may have been posted by a replica that died
	// (or lost Slack's answer) before recording the ts: look first.
	if r.Attempts > 1 {
		// Nothing is posted before it is due; the margin allows for
		// Slack's clock being behind ours.
		ts, err := s.o.Slack.FindPosted(ctx, channel, r.ID, r.Due.Add(-historyMargin))
		if err != nil {
			s.retry(ctx, log, r, channel, err)
			return outcome{}, false
		}
		if ts != "" {
			return outcome{r: r, post: store.ReminderPost{ID: r.ID, Channel: channel, TS: ts, At: s.o.Now()}, how: "found", log: log}, true
		}
	}
	m, err := s.message(ctx, r, clients)
	if err != nil {
		s.retry(ctx, log, r, channel, err)
		return outcome{}, false
	}
	// A batch held up by a slow Slack must not post on a lease that may
	// have run out: another replica could have taken the reminder over.
	// Past a quarter of the lease, renew it first.
	if now := s.o.Now(); now.Sub(claimedAt) > s.o.Lease/4 {
		if err := s.o.Store.ExtendReminderLease(ctx, r.ID, s.o.Owner, now.Add(s.o.Lease)); err != nil {
			log.Warn("reminder lease lost before posting; left to its new holder", slog.Any("err", err))
			s.metrics.retries.WithLabelValues("lost_lease").Inc()
			return outcome{}, false
		}
	}
	ts, err := s.o.Slack.Post(ctx, channel, r.ID, m)
	if err != nil {
		s.retry(ctx, log, r, channel, err)
		return outcome{}, false
	}
	return outcome{r: r, post: store.ReminderPost{ID: r.ID, Channel: channel, TS: ts, At: s.o.Now()}, how: "posted", log: log}, true
}

// record writes the messages of a batch in one go and returns how many
// it recorded. A message posted but not recorded (the store failed, or
// the claim was lost) is found in Slack by whoever claims it next.
func (s *Scheduler) record(ctx context.Context, os []outcome) int {
	if len(os) == 0 {
		return 0
	}
	// What Slack has must be recorded even when shutting down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	posts := make([]store.ReminderPost, len(os))
	for i, o := range os {
		posts[i] = o.post
	}
	done, err := s.o.Store.MarkRemindersPosted(ctx, s.o.Owner, posts)
	if err != nil {
		s.log.Warn("reminders posted but not recorded", slog.Int("count", len(os)), slog.Any("err", err))
		s.metrics.retries.WithLabelValues("store").Add(float64(len(os)))
		return 0
	}
	recorded := make(map[uuid.UUID]bool, len(done))
	for _, id := range done {
		recorded[id] = true
	}
	for _, o := range os {
		if !recorded[o.r.ID] {
			o.log.Warn("reminder posted but its claim was lost; the next claimant finds the message", slog.String("ts", o.post.TS))
			s.metrics.retries.WithLabelValues("lost_lease").Inc()
			continue
		}
		late := o.post.At.Sub(o.r.Due)
		s.metrics.posted.WithLabelValues(o.how).Inc()
		s.metrics.lateness.Observe(max(0, late.Seconds()))
		o.log.Info("reminder posted", slog.String("channel", o.post.Channel), slog.String("ts", o.post.TS),
			slog.String("how", o.how), slog.Duration("late", late))
	}
	return len(done)
}

// retry gives r back: after Retry-After for a 429 (remembered for the
// method and channel, so other reminders for the channel wait too), else
// after a backoff that grows with the attempts.
func (s *Scheduler) retry(ctx context.Context, log *slog.Logger, r *store.Reminder, channel string, err error) {
	var rl *RateLimited
	if errors.As(err, &rl) {
		s.metrics.rateLimited.WithLabelValues(rl.Method).Inc()
		until := s.o.Now().Add(max(rl.RetryAfter, time.Second))
		s.block(rl.Method, channel, until)
		log.Info("slack limited the rate", slog.String("method", rl.Method), slog.Duration("retry_after", rl.RetryAfter))
		s.retryAt(ctx, log, r, until, "rate_limited")
		return
	}
	reason := "slack"
	if isStoreError(err) {
		reason = "store"
	}
	log.Warn("reminder not posted, will retry", slog.Any("err", err))
	s.retryAt(ctx, log, r, s.o.Now().Add(s.backoff(r.Attempts)), reason)
}

func isStoreError(err error) bool {
	var se *store.Error
	return errors.As(err, &se)
}

func (s *Scheduler) retryAt(ctx context.Context, log *slog.Logger, r *store.Reminder, at time.Time, reason string) {
	s.metrics.retries.WithLabelValues(reason).Inc()
	// The context may have run out with the Slack call: giving the claim
	// back still matters, or the reminder waits for its lease.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.o.Store.RetryReminder(ctx, r.ID, s.o.Owner, at); err != nil {
		log.Warn("could not reschedule reminder; it is retried when its lease runs out", slog.Any("err", err))
		return
	}
	log.Debug("reminder rescheduled", slog.Time("at", at), slog.String("reason", reason))
}

// backoff is 5s doubled per attempt, jittered, at most MaxBackoff.
func (s *Scheduler) backoff(attempts int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempts && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.o.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func (s *Scheduler) block(method, channel string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.blocked[method+" "+channel]) {
		s.blocked[method+" "+channel] = until
	}
}

func (s *Scheduler) isBlocked(method, channel string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.blocked[method+" "+channel]
	if ok && !s.o.Now().Before(until) {
		delete(s.blocked, method+" "+channel)
		return time.Time{}, false
	}
	return until, ok
}

// contactKinds are the events that are a real contact with a client.
var contactKinds = []store.Kind{store.KindEmail, store.KindChat, store.KindCall, store.KindMeeting}

// message is what the broker sees: the client, the text, why it fired,
// the last contact, and buttons: Done, three snoozes, Open timeline and,
// unless the client asked not to be contacted, Log call.
func (s *Scheduler) message(ctx context.Context, r *store.Reminder, clients *clientCache) (Message, error) {
	c, err := clients.get(ctx, r.ClientID)
	if err != nil {
		return Message{}, err
	}
	text := fmt.Sprintf("Reminder about %s (%s): %s", c.Name, c.Handle, r.Text)
	why := fmt.Sprintf("<!date^%d^Due {date_short_pretty} {time}|Due %s>", r.Due.Unix(), r.Due.UTC().Format("Mon 2 Jan 15:04 UTC"))
	switch {
	case r.Source == SourceMilestone:
		kind := strings.Split(r.Key, ":")
		why += ", milestone"
		if len(kind) > 1 {
			why += " (" + strings.ReplaceAll(kind[1], "-", " ") + ")"
		}
	case r.Source != "command":
		why += ", follow-up after " + strings.ReplaceAll(r.Source, "_", " ")
	case r.CreatedBy != "" && r.CreatedBy != r.Broker:
		why += fmt.Sprintf(", set by <@%s>", r.CreatedBy)
	default:
		why += fmt.Sprintf(", you set it <!date^%d^{date_short_pretty}|%s>", r.CreatedAt.Unix(), r.CreatedAt.UTC().Format("2 Jan"))
	}
	last := "Last contact: none on the timeline"
	if s.o.Timeline != nil {
		page, err := s.o.Timeline.Events(ctx, r.ClientID, store.EventQuery{Kinds: contactKinds, Limit: 1})
		switch {
		case err != nil:
			// The reminder matters more than its context.
			s.log.Warn("last contact not read for a reminder", slog.String("reminder", r.ID.String()), slog.Any("err", err))
			last = "Last contact: unknown (the timeline did not answer)"
		case len(page.Events) > 0:
			e := page.Events[0]
			last = fmt.Sprintf("Last contact: %s <!date^%d^{date_short_pretty} {time}|%s>: %s", e.Kind, e.Time.Unix(),
				e.Time.UTC().Format("2 Jan 15:04 UTC"), slackEscape(e.Summary))
		}
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf(":alarm_clock: *%s* (`%s`)\n%s", slackEscape(c.Name), c.Handle, slackEscape(r.Text)), false, false), nil, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, why, false, false),
			slack.NewTextBlockObject(slack.MarkdownType, last, false, false)),
	}
	if c.Contact.DoNotContact {
		text += " (do not contact)"
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
			":no_entry: *Do not contact*: this client asked not to be contacted, so there is no call button.", false, false)))
	}
	id := r.ID.String()
	button := func(action, value, label string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(action, value, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
	}
	done := button(bot.ActionReminderDone, id, "Done")
	done.Style = slack.StylePrimary
	els := []slack.BlockElement{done,
		button(bot.ActionReminderSnooze, id+" 1h", "Snooze 1 hour"),
		button(bot.ActionReminderSnooze, id+" tomorrow", "Tomorrow 9:00"),
		button(bot.ActionReminderSnooze, id+" week", "Next week"),
		button(bot.ActionOpenTimeline, c.Handle, "Open timeline"),
	}
	if !c.Contact.DoNotContact {
		els = append(els, button(bot.ActionLogCall, id, "Log call"))
	}
	// Action ids must be unique within a block.
	for i, el := range els {
		if b := el.(*slack.ButtonBlockElement); b.ActionID == bot.ActionReminderSnooze {
			b.ActionID = fmt.Sprintf("%s_%d", bot.ActionReminderSnooze, i)
		}
	}
	blocks = append(blocks, slack.NewActionBlock("reminder_actions", els...))
	return Message{Text: text, Blocks: blocks}, nil
}

func slackEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			out = append(out, "&amp;"...)
		case '<':
			out = append(out, "&lt;"...)
		case '>':
			out = append(out, "&gt;"...)
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// clientCache reads each client once per Tick: a burst of reminders is
// often many for the same few clients.
type clientCache struct {
	store store.ClientStore
	mu    sync.Mutex
	byID  map[uuid.UUID]*store.Client
	// brokers' follow-up settings, read once per Tick too
	brokers map[string]*store.FollowupSettings
}

func (c *clientCache) settings(ctx context.Context, st store.ReminderStore, broker string) (*store.FollowupSettings, error) {
	c.mu.Lock()
	set, ok := c.brokers[broker]
	c.mu.Unlock()
	if ok {
		return set, nil
	}
	set, err := st.FollowupSettings(ctx, broker)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.brokers == nil {
		c.brokers = map[string]*store.FollowupSettings{}
	}
	c.brokers[broker] = set
	c.mu.Unlock()
	return set, nil
}

func (c *clientCache) get(ctx context.Context, id uuid.UUID) (*store.Client, error) {
	c.mu.Lock()
	cl, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return cl, nil
	}
	cl, err := c.store.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.byID[id] = cl
	c.mu.Unlock()
	return cl, nil
}
