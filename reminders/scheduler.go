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
	"slices"
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
	// ChannelRate is how many messages a second Slack takes in one
	// channel once it has answered 429 there; default 1 (chat.postMessage).
	ChannelRate float64

	// WaitUntil waits until Now reads t, or ctx ends (its error); default
	// a timer.
	WaitUntil func(ctx context.Context, t time.Time) error

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

	pace *pacer

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
	if o.ChannelRate <= 0 {
		o.ChannelRate = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WaitUntil == nil {
		now := o.Now
		o.WaitUntil = func(ctx context.Context, t time.Time) error {
			d := t.Sub(now())
			if d <= 0 {
				return ctx.Err()
			}
			timer := time.NewTimer(d)
			defer timer.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
				return nil
			}
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	return &Scheduler{o: o, log: o.Logger.With(slog.String("replica", o.Owner)), metrics: o.Metrics,
		pace: newPacer(o.Store, o.ChannelRate, o.Now), blocked: map[string]time.Time{}}, nil
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
	return tickEvery(ctx, s.o.Interval, s.log, "claiming due reminders failed", s.Tick)
}

// tickEvery calls tick at once, then every interval, until ctx ends; a
// failed tick is logged as failed.
func tickEvery(ctx context.Context, interval time.Duration, log *slog.Logger, failed string, tick func(context.Context) (int, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := tick(ctx); err != nil && ctx.Err() == nil {
			log.Warn(failed, slog.Any("err", err))
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
		total += s.record(ctx, s.dispatch(ctx, rs, claimedAt, clients))
		if len(rs) < s.o.Batch {
			break
		}
	}
	return total, nil
}

// job is a claimed reminder on its way to Slack.
type job struct {
	r       *store.Reminder
	log     *slog.Logger
	channel string
	leased  time.Time // when its lease was last taken or renewed
	at      time.Time // its turn in the channel
	turn    bool      // whether it has one
	paced   bool      // whether Slack holds the channel to its rate
}

// dispatch posts a batch of claimed reminders: it finds where each goes,
// takes their turns in their channels (shared with the other replicas),
// and posts each at its turn, Workers at a time. It returns those whose
// message is in Slack; the others are given back to be tried again.
func (s *Scheduler) dispatch(ctx context.Context, rs []*store.Reminder, claimedAt time.Time, clients *clientCache) []outcome {
	jobs := make([]*job, len(rs))
	var g errgroup.Group
	g.SetLimit(s.o.Workers)
	for i, r := range rs {
		g.Go(func() error {
			j := &job{r: r, leased: claimedAt,
				log: s.log.With(slog.String("reminder", r.ID.String()), slog.String("broker", r.Broker), slog.Int("attempt", r.Attempts))}
			ch, err := s.channel(ctx, r, clients)
			if err != nil {
				s.retry(ctx, j.log, r, "", err)
				return nil
			}
			j.channel, jobs[i] = ch, j
			return nil
		})
	}
	_ = g.Wait()
	jobs = slices.DeleteFunc(jobs, func(j *job) bool { return j == nil })
	if len(jobs) == 0 {
		return nil
	}
	// A reminder waits for its turn holding its claim, so only for a
	// part of the lease; one whose turn comes later is given back until
	// then.
	if err := s.pace.turns(ctx, jobs, s.o.Now().Add(s.o.Lease/4)); err != nil {
		for _, j := range jobs {
			s.retry(ctx, j.log, j.r, j.channel, err)
		}
		return nil
	}
	var mu sync.Mutex
	var posted []outcome
	var wg sync.WaitGroup
	slots := make(chan struct{}, s.o.Workers)
	for _, j := range jobs {
		if !j.turn {
			s.metrics.retries.WithLabelValues("paced").Inc()
			s.giveBack(ctx, j.log, j.r, j.at, "paced")
			continue
		}
		wg.Go(func() {
			if o, ok := s.post(ctx, j, clients, slots); ok {
				mu.Lock()
				posted = append(posted, o)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return posted
}

// channel is where a reminder goes: the channel it names, the one its
// broker chose, or the broker's DM.
func (s *Scheduler) channel(ctx context.Context, r *store.Reminder, clients *clientCache) (string, error) {
	if r.Channel != "" {
		return r.Channel, nil
	}
	set, err := clients.settings(ctx, s.o.Store, r.Broker)
	if err != nil {
		return "", err
	}
	if set.Channel != "" {
		return set.Channel, nil
	}
	if until, ok := s.isBlocked("conversations.open", ""); ok {
		return "", &RateLimited{Method: "conversations.open", RetryAfter: until.Sub(s.o.Now())}
	}
	return s.o.Slack.OpenDM(ctx, r.Broker)
}

// maxRefusals is how often one reminder is refused by Slack's rate limit
// and tried again at its next turn within one claim.
const maxRefusals = 5

// post posts j at its turn; refused with a 429, it waits for Retry-After
// and its next turn in the channel and tries again. ok reports that its
// message is in Slack.
func (s *Scheduler) post(ctx context.Context, j *job, clients *clientCache, slots chan struct{}) (outcome, bool) {
	// What can be done before the turn is: then only the post is left.
	slots <- struct{}{}
	found, m, err := s.prepare(ctx, j, clients)
	<-slots
	switch {
	case err != nil:
		s.retry(ctx, j.log, j.r, j.channel, err)
		return outcome{}, false
	case found != nil:
		return *found, true
	}
	for refusals := 0; ; refusals++ {
		if err := s.waitTurn(ctx, j); err != nil {
			s.giveBack(ctx, j.log, j.r, j.at, "shutdown")
			return outcome{}, false
		}
		// A paced post leaves as soon as it may: the pace bounds how many
		// are in flight, and any wait here would delay the next one in the
		// channel too.
		if !j.paced {
			slots <- struct{}{}
		}
		o, err := s.send(ctx, j, m)
		if !j.paced {
			<-slots
		}
		if err == nil {
			if j.paced {
				if err := s.pace.posted(ctx, j.channel, o.post.At); err != nil {
					j.log.Warn("the channel's pace not recorded", slog.Any("err", err))
				}
			}
			return o, true
		}
		if errors.Is(err, errLeaseLost) {
			return outcome{}, false
		}
		var rl *RateLimited
		if !errors.As(err, &rl) || rl.Method != "chat.postMessage" {
			s.retry(ctx, j.log, j.r, j.channel, err)
			return outcome{}, false
		}
		s.metrics.rateLimited.WithLabelValues(rl.Method).Inc()
		s.metrics.retries.WithLabelValues("rate_limited").Inc()
		j.log.Info("slack limited the rate; the channel is paced", slog.String("channel", j.channel), slog.Duration("retry_after", rl.RetryAfter))
		at, turn, perr := s.pace.limited(ctx, j.channel, rl.RetryAfter, s.o.Now().Add(s.o.Lease/4))
		switch {
		case perr != nil:
			j.log.Warn("the channel's pace not recorded", slog.Any("err", perr))
			s.giveBack(ctx, j.log, j.r, s.o.Now().Add(rl.RetryAfter), "rate_limited")
			return outcome{}, false
		case !turn || refusals+1 >= maxRefusals:
			s.giveBack(ctx, j.log, j.r, at, "rate_limited")
			return outcome{}, false
		}
		j.at, j.paced = at, true
	}
}

// waitTurn waits for j's turn. The turn is a plan: in a paced channel the
// message before may have reached Slack late, so j leaves no sooner than a
// gap after Slack's answer to it, whichever replica posted it. That answer
// is read from the store half a gap ahead, so that reading it does not
// delay j.
func (s *Scheduler) waitTurn(ctx context.Context, j *job) error {
	at := j.at
	if j.paced {
		if err := s.o.WaitUntil(ctx, at.Add(-s.pace.gap/2)); err != nil {
			return err
		}
		clear, err := s.pace.clear(ctx, j.channel)
		if err != nil {
			j.log.Warn("the channel's pace not read; posting at its turn", slog.Any("err", err))
		}
		at = later(at, clear)
	}
	if err := s.o.WaitUntil(ctx, at); err != nil {
		return err
	}
	if j.paced {
		// An answer this replica got since: no I/O to know it.
		if clear := s.pace.lastHere(j.channel).Add(s.pace.least); clear.After(at) {
			return s.o.WaitUntil(ctx, clear)
		}
	}
	return nil
}

// errLeaseLost: another replica may have taken the reminder over.
var errLeaseLost = errors.New("reminder lease lost")

// prepare makes j's message, after looking for it in the channel's history
// if an earlier attempt may have posted it: found is then that message.
func (s *Scheduler) prepare(ctx context.Context, j *job, clients *clientCache) (found *outcome, m Message, err error) {
	r, channel := j.r, j.channel
	// Every Slack call must end well inside the lease, so that no other
	// replica takes the reminder over while this one may still post it.
	ctx, cancel := context.WithTimeout(ctx, s.o.Lease/2)
	defer cancel()
	// A reminder claimed before may have been posted by a replica that died
	// (or lost Slack's answer) before recording the ts: look first. What
	// the lookup finds stays true while this replica holds the claim.
	if r.Attempts > 1 {
		if until, ok := s.isBlocked("conversations.history", channel); ok {
			return nil, Message{}, &RateLimited{Method: "conversations.history", RetryAfter: until.Sub(s.o.Now())}
		}
		// Nothing is posted before it is due; the margin allows for
		// Slack's clock being behind ours.
		ts, err := s.o.Slack.FindPosted(ctx, channel, r.ID, r.Due.Add(-historyMargin))
		if err != nil {
			return nil, Message{}, err
		}
		if ts != "" {
			return &outcome{r: r, post: store.ReminderPost{ID: r.ID, Channel: channel, TS: ts, At: s.o.Now()}, how: "found", log: j.log}, Message{}, nil
		}
	}
	m, err = s.message(ctx, r, clients)
	return nil, m, err
}

// send posts j's message now that its turn has come.
func (s *Scheduler) send(ctx context.Context, j *job, m Message) (outcome, error) {
	r, log := j.r, j.log
	ctx, cancel := context.WithTimeout(ctx, s.o.Lease/2)
	defer cancel()
	// A reminder that waited for its turn, or a batch held up by a slow
	// Slack, must not post on a lease that may have run out: another
	// replica could have taken the reminder over. Past a quarter of the
	// lease, renew it first.
	if now := s.o.Now(); now.Sub(j.leased) > s.o.Lease/4 {
		if err := s.o.Store.ExtendReminderLease(ctx, r.ID, s.o.Owner, now.Add(s.o.Lease)); err != nil {
			log.Warn("reminder lease lost before posting; left to its new holder", slog.Any("err", err))
			s.metrics.retries.WithLabelValues("lost_lease").Inc()
			return outcome{}, errLeaseLost
		}
		j.leased = now
	}
	ts, err := s.o.Slack.Post(ctx, j.channel, r.ID, m)
	if err != nil {
		return outcome{}, err
	}
	return outcome{r: r, post: store.ReminderPost{ID: r.ID, Channel: j.channel, TS: ts, At: s.o.Now()}, how: "posted", log: log}, nil
}

// outcome is a reminder whose message is in Slack, to be recorded.
type outcome struct {
	r    *store.Reminder
	post store.ReminderPost
	how  string // posted, or found in the channel's history
	log  *slog.Logger
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
		until := s.o.Now().Add(rl.RetryAfter)
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
	s.giveBack(ctx, log, r, at, reason)
}

// giveBack hands a claimed reminder back to be claimed again at at.
func (s *Scheduler) giveBack(ctx context.Context, log *slog.Logger, r *store.Reminder, at time.Time, reason string) {
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
