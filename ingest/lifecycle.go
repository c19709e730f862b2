package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

// DefaultDormantAfter is how long an active client goes without a fill or a
// real contact before it is dormant.
const DefaultDormantAfter = 90 * 24 * time.Hour

// Lifecycle moves clients between stages by rule: onboarding (or prospect)
// to active on the first fill; active to dormant after the desk's
// dormant-after (DormantAfter for desks without one) with no fill and no
// real contact; dormant to active again on a fill or real
// contact after it became dormant. Closed is set only by hand. Each move is
// a profile change, audited and on the timeline with its rule.
//
// A sweep looks at every client as of now, so one run after downtime
// catches up; each move is applied only if the client is still in the
// stage the rule moves it from (read and written in one transaction), so
// several replicas, or a sweep repeated, never move a client twice.
type Lifecycle struct {
	Clients      store.ClientStore
	Segments     segment.Matcher
	Catalogue    *store.Catalogue
	Stats        store.StatsReader
	Recorder     *Recorder
	DormantAfter time.Duration // desks without a setting of their own; default DefaultDormantAfter
	// Desks gives each desk's own dormant-after (/team set <desk>
	// dormant-after=60d); nil: every desk uses DormantAfter.
	Desks interface {
		DeskLifecycles(ctx context.Context) ([]store.DeskLifecycle, error)
	}
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
}

// Transition is one move a sweep made.
type Transition struct {
	Handle   string
	From, To store.Stage
	Rule     string
}

// LifecycleActor is who the audit trail names for moves by rule.
const LifecycleActor = "brokersync:lifecycle"

type lifecycleRule struct {
	name   string
	from   store.Stage
	to     store.Stage
	filter string
	// applies checks what a filter cannot say, on the client and its
	// statistics; nil always applies.
	applies func(c *store.Client, tr store.TradeStats, co store.ContactStats) bool
}

// dormancy is how long a desk's active clients may stay quiet: every desk
// that set dormant-after, and the default for the others.
type dormancy struct {
	desk string // "" for every desk without a setting of its own
	days int
}

func (l *Lifecycle) dormancies(ctx context.Context) ([]dormancy, error) {
	after := l.DormantAfter
	if after <= 0 {
		after = DefaultDormantAfter
	}
	out := []dormancy{{days: int((after + 24*time.Hour - 1) / (24 * time.Hour))}}
	if l.Desks == nil {
		return out, nil
	}
	settings, err := l.Desks.DeskLifecycles(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range settings {
		out = append(out, dormancy{desk: s.Desk, days: s.DormantAfterDays})
	}
	return out, nil
}

func (l *Lifecycle) rules(now time.Time, ds []dormancy) []lifecycleRule {
	lastActivity := func(tr store.TradeStats, co store.ContactStats) time.Time {
		if tr.LastFill.After(co.Last()) {
			return tr.LastFill
		}
		return co.Last()
	}
	rules := []lifecycleRule{
		{name: "first fill", from: store.Onboarding, to: store.Active, filter: "stage:onboarding last.fill<100y"},
		{name: "first fill", from: store.Prospect, to: store.Active, filter: "stage:prospect last.fill<100y"},
	}
	// One dormancy rule per desk with a setting of its own, and one for the
	// rest: desk names are handles, safe inside a filter.
	var others strings.Builder
	longest := 0
	for _, d := range ds[1:] {
		fmt.Fprintf(&others, " -desk:%s", d.desk)
	}
	for _, d := range ds {
		longest = max(longest, d.days)
		scope := others.String()
		if d.desk != "" {
			scope = " desk:" + d.desk
		}
		quiet := time.Duration(d.days) * 24 * time.Hour
		rules = append(rules, lifecycleRule{
			name: fmt.Sprintf("no fill and no real contact in %d days", d.days), from: store.Active, to: store.Dormant,
			filter: fmt.Sprintf("stage:active last.fill>%dd last.contact>%dd%s", d.days, d.days, scope),
			// A client made active by hand is given the same time.
			applies: func(c *store.Client, _ store.TradeStats, _ store.ContactStats) bool {
				return !c.StageChangedAt.After(now.Add(-quiet))
			},
		})
	}
	return append(rules, lifecycleRule{
		name: "activity while dormant", from: store.Dormant, to: store.Active,
		// The filter only narrows: any desk's window holds the activity.
		filter: fmt.Sprintf("stage:dormant (last.fill<%dd OR last.contact<%dd)", longest, longest),
		// Only activity after the client became dormant wakes it.
		applies: func(c *store.Client, tr store.TradeStats, co store.ContactStats) bool {
			return lastActivity(tr, co).After(c.StageChangedAt)
		},
	})
}

var errMoved = errors.New("the client's stage changed meanwhile")

// Sweep applies every rule once to every client, as of now.
func (l *Lifecycle) Sweep(ctx context.Context) ([]Transition, error) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	var done []Transition
	ds, err := l.dormancies(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range l.rules(now, ds) {
		f, err := segment.Parse(r.filter, l.Catalogue)
		if err != nil {
			return done, err
		}
		var matched []*store.Client
		for c, err := range segment.All(ctx, l.Segments, segment.Query{Filter: f, Now: now}) {
			if err != nil {
				return done, err
			}
			matched = append(matched, c)
		}
		for _, c := range matched {
			if r.applies != nil {
				tr, err := l.Stats.TradeStats(ctx, c.ID, now)
				if err != nil {
					return done, err
				}
				co, err := l.Stats.ContactStats(ctx, c.ID, now)
				if err != nil {
					return done, err
				}
				if !r.applies(c, tr, co) {
					continue
				}
			}
			moved, err := l.move(ctx, c, r)
			if err != nil {
				return done, err
			}
			if moved {
				done = append(done, Transition{Handle: c.Handle, From: r.from, To: r.to, Rule: r.name})
			}
		}
	}
	return done, nil
}

func (l *Lifecycle) move(ctx context.Context, c *store.Client, r lifecycleRule) (bool, error) {
	profiles := Profiles{Clients: l.Clients, Recorder: l.Recorder, Annotate: func(e *store.Event) {
		e.Summary = fmt.Sprintf("stage %s → %s by rule: %s", r.from, r.to, r.name)
		if e.Attrs.Extra == nil {
			e.Attrs.Extra = map[string]string{}
		}
		e.Attrs.Extra["rule"] = r.name
	}}
	_, changes, err := profiles.Update(ctx, c.ID, LifecycleActor, func(cl *store.Client) error {
		if cl.Stage != r.from {
			return errMoved
		}
		cl.Stage = r.to
		return nil
	})
	if errors.Is(err, errMoved) || err == nil && len(changes) == 0 {
		return false, nil
	}
	if err != nil {
		var u *UnrecordedError
		return errors.As(err, &u), err
	}
	if l.Logger != nil {
		l.Logger.Info("lifecycle", slog.String("client", c.Handle), slog.String("from", string(r.from)), slog.String("to", string(r.to)), slog.String("rule", r.name))
	}
	return true, nil
}

// runEvery calls pass at once and then every interval until ctx ends,
// logging a failed pass as what.
func runEvery(ctx context.Context, every time.Duration, logger *slog.Logger, what string, pass func(context.Context) error) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil && logger != nil {
			logger.Warn(what, slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
