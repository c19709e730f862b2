package imap

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Lease timings: a lease lasts DefaultLeaseTTL and its holder renews it every
// DefaultLeaseRenew, so a replica that dies leaves its mailboxes to others
// within DefaultLeaseTTL plus one round (about 20 s).
const (
	DefaultLeaseTTL   = 15 * time.Second
	DefaultLeaseRenew = 5 * time.Second
)

// PoolOptions configure a Pool. Leases is required.
type PoolOptions struct {
	Leases store.LeaseStore
	// Replica names this replica in leases, logs and the lease log; it
	// must differ between replicas running at the same time. A name that
	// stays the same across restarts lets a restarted replica take back at
	// once the leases its earlier run held, with new tokens; a new name
	// waits for them to run out (default: ReplicaID, new every run).
	Replica string
	// TTL is how long a lease lasts unrenewed, Renew how often it is
	// renewed (defaults DefaultLeaseTTL, DefaultLeaseRenew). A reader whose
	// lease could not be renewed for TTL-Renew stops before the lease runs
	// out, so that its successor never reads beside it.
	TTL, Renew time.Duration
	Metrics    *Metrics // default: unregistered; share the ingesters'
	Logger     *slog.Logger
}

// ReplicaID is a name for this process that no other process and no
// earlier run of it has: host name, process id and a random suffix.
func ReplicaID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "brokersync"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Pool runs the ingesters of the mailboxes this replica holds the leases
// of. Every replica configured with the same mailboxes runs one: each
// mailbox is read by exactly one replica at a time, each replica takes
// ceil(mailboxes/live replicas) of them, gives extra ones back when
// replicas join, and takes over those of a replica that died once their
// leases run out.
type Pool struct {
	opts    PoolOptions
	byLabel map[string]*Ingester
	labels  []string
	log     *slog.Logger

	mu   sync.Mutex
	held map[string]*reader

	// Touched by Run's goroutine only: whether the leases left under this
	// replica's name at start were taken back, and the last token this
	// pool held of each mailbox.
	looked bool
	tokens map[string]int64
}

// reader is one ingester running under a lease.
type reader struct {
	lease   store.MailboxLease
	renewed time.Time // local time the lease was last acquired or renewed (taken before the call)
	cancel  context.CancelFunc
	done    chan error
}

// NewPool returns a pool of ingesters; their mailboxes' labels must be
// distinct (Mailboxes checks it).
func NewPool(ingesters []*Ingester, opts PoolOptions) (*Pool, error) {
	if opts.Leases == nil {
		return nil, errors.New("imap: a pool needs a lease store")
	}
	if opts.Replica == "" {
		opts.Replica = ReplicaID()
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultLeaseTTL
	}
	if opts.Renew <= 0 {
		opts.Renew = DefaultLeaseRenew
	}
	if opts.Renew >= opts.TTL/2 {
		return nil, fmt.Errorf("imap: lease renewal every %s is too slow for leases of %s (at most half)", opts.Renew, opts.TTL)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	p := &Pool{opts: opts, byLabel: map[string]*Ingester{}, held: map[string]*reader{}, tokens: map[string]int64{},
		log: opts.Logger.With(slog.String("component", "imap-leases"), slog.String("replica", opts.Replica))}
	for _, in := range ingesters {
		l := in.Mailbox().Label()
		if p.byLabel[l] != nil {
			return nil, fmt.Errorf("imap: mailbox %s is in the pool twice", l)
		}
		p.byLabel[l] = in
		p.labels = append(p.labels, l)
	}
	return p, nil
}

// Replica is the name this pool holds leases under.
func (p *Pool) Replica() string { return p.opts.Replica }

// Held returns the mailboxes this replica reads now, sorted.
func (p *Pool) Held() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.held))
	for l := range p.held {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Run holds leases and runs their ingesters until ctx ends; then it stops
// the ingesters, releases the leases and leaves, so that the other replicas
// take the mailboxes at once.
func (p *Pool) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Renew)
	defer t.Stop()
	for {
		p.round(ctx)
		select {
		case <-ctx.Done():
			p.stopAll()
			return nil
		case <-t.C:
		}
	}
}

// round is one turn: heartbeat, renew, then give back or take mailboxes
// towards this replica's share.
func (p *Pool) round(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if err := p.opts.Leases.Heartbeat(ctx, p.opts.Replica, p.opts.TTL); err != nil {
		p.log.Warn("replica heartbeat failed", slog.Any("err", err))
	}
	p.renew(ctx)
	live, err := p.opts.Leases.LiveReplicas(ctx)
	if err != nil {
		p.log.Warn("cannot read the live replicas; keeping the mailboxes held", slog.Any("err", err))
		return
	}
	n := max(len(live), 1)
	if !slices.Contains(live, p.opts.Replica) {
		n++ // this replica's heartbeat failed: it still reads its share
	}
	target := (len(p.labels) + n - 1) / n
	p.mu.Lock()
	held := len(p.held)
	p.mu.Unlock()
	switch {
	case held > target:
		p.shed(ctx, held-target)
	case held < target:
		p.take(ctx, target-held)
	}
}

// renew extends every held lease; a reader whose lease is gone, or could
// not be renewed for too long, is stopped.
func (p *Pool) renew(ctx context.Context) {
	for _, l := range p.Held() {
		p.mu.Lock()
		r := p.held[l]
		p.mu.Unlock()
		select {
		case err := <-r.done:
			// The reader stopped by itself: its lease was refused at a
			// checkpoint, or it failed for good.
			p.drop(l)
			p.log.Warn("mailbox reader stopped; giving up its lease", slog.String("mailbox", l), slog.Int64("token", r.lease.Token), slog.Any("err", err))
			p.release(ctx, r)
			continue
		default:
		}
		start := time.Now()
		lease, err := p.opts.Leases.RenewLease(ctx, l, p.opts.Replica, r.lease.Token, p.opts.TTL)
		switch {
		case err == nil:
			p.mu.Lock()
			r.lease, r.renewed = lease, start
			p.mu.Unlock()
		case store.ErrorCode(err) == store.ECONFLICT:
			p.stop(l, r)
			p.opts.Metrics.leases.WithLabelValues("lost").Inc()
			p.log.Warn("mailbox lease lost to another replica; reader stopped", slog.String("mailbox", l), slog.String("holder", p.opts.Replica), slog.Int64("token", r.lease.Token))
		case time.Since(r.renewed) >= p.opts.TTL-p.opts.Renew:
			// The lease may run out before the next round: stop reading
			// while it is still ours.
			p.stop(l, r)
			p.opts.Metrics.leases.WithLabelValues("lost").Inc()
			p.log.Warn("mailbox lease not renewed in time; reader stopped", slog.String("mailbox", l), slog.String("holder", p.opts.Replica),
				slog.Int64("token", r.lease.Token), slog.Any("err", err))
		default:
			p.log.Warn("mailbox lease renewal failed; trying again", slog.String("mailbox", l), slog.Any("err", err))
		}
	}
}

// take acquires up to n mailboxes, in this replica's order of preference
// (rendezvous hashing, so that replicas reach for different ones first),
// skipping those another replica holds. On its first look it also takes
// back every live lease held under this replica's name, whatever n: an
// earlier run of this replica left them (killed, it released nothing), and
// their new tokens fence that run out. Later, a live lease under this name
// with a token this pool never held is another process's that runs under
// the same name by mistake: it is left alone (and reported), so that the
// two never take a mailbox from each other back and forth.
func (p *Pool) take(ctx context.Context, n int) {
	leases, err := p.opts.Leases.Leases(ctx)
	if err != nil {
		p.log.Warn("cannot read the mailbox leases", slog.Any("err", err))
		return
	}
	first := !p.looked
	now := time.Now()
	prev := map[string]store.MailboxLease{}
	for _, l := range leases {
		prev[l.Mailbox] = l
	}
	p.mu.Lock()
	var free, own, twin []string
	for _, l := range p.labels {
		if p.held[l] != nil {
			continue
		}
		// A live lease of another replica (by the local clock; the store
		// decides) is not worth a try.
		o, ok := prev[l]
		switch live := ok && o.Holder != "" && o.ExpiresAt.After(now); {
		case live && o.Holder == p.opts.Replica && first:
			own = append(own, l)
			continue
		case live && o.Holder == p.opts.Replica && o.Token != p.tokens[l]:
			twin = append(twin, l)
			continue
		case live && o.Holder != p.opts.Replica:
			continue
		}
		free = append(free, l)
	}
	p.mu.Unlock()
	if len(twin) > 0 {
		p.log.Error("another process holds mailbox leases under this replica's name: give every replica a name of its own (BROKERSYNC_REPLICA_ID); this one leaves them alone",
			slog.Int("mailboxes", len(twin)), slog.String("first", twin[0]))
	}
	for _, l := range own {
		if _, err := p.acquire(ctx, l, prev[l]); err != nil {
			return
		}
	}
	p.looked = true
	p.byPreference(free)
	for _, l := range free {
		if n <= 0 || ctx.Err() != nil {
			return
		}
		ok, err := p.acquire(ctx, l, prev[l])
		if err != nil {
			return
		}
		if ok {
			n--
		}
	}
}

// acquire takes mailbox l, whose lease was prev, and starts its reader; ok
// is false when another replica holds it.
func (p *Pool) acquire(ctx context.Context, l string, prev store.MailboxLease) (bool, error) {
	start := time.Now()
	lease, ok, err := p.opts.Leases.AcquireLease(ctx, l, p.opts.Replica, p.opts.TTL)
	if err != nil {
		p.log.Warn("cannot acquire a mailbox lease", slog.String("mailbox", l), slog.Any("err", err))
		return false, err
	}
	if !ok {
		return false, nil
	}
	if prev.Holder != "" {
		p.opts.Metrics.leases.WithLabelValues("takeover").Inc()
		p.log.Info("mailbox lease taken over", slog.String("mailbox", l), slog.String("holder", p.opts.Replica),
			slog.Int64("token", lease.Token), slog.String("from", prev.Holder), slog.Time("expired", prev.ExpiresAt))
	} else {
		p.opts.Metrics.leases.WithLabelValues("acquire").Inc()
		p.log.Info("mailbox lease acquired", slog.String("mailbox", l), slog.String("holder", p.opts.Replica), slog.Int64("token", lease.Token))
	}
	p.start(ctx, l, lease, start)
	return true, nil
}

// shed gives back n mailboxes, the least preferred first, stopping their
// readers before releasing.
func (p *Pool) shed(ctx context.Context, n int) {
	held := p.Held()
	p.byPreference(held)
	for i := len(held) - 1; i >= 0 && n > 0; i-- {
		l := held[i]
		p.mu.Lock()
		r := p.held[l]
		p.mu.Unlock()
		p.stop(l, r)
		p.release(ctx, r)
		n--
	}
}

// byPreference sorts labels by this replica's rendezvous score, highest
// first.
func (p *Pool) byPreference(labels []string) {
	score := func(l string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(p.opts.Replica))
		h.Write([]byte{0})
		h.Write([]byte(l))
		return h.Sum64()
	}
	slices.SortFunc(labels, func(a, b string) int { return cmp.Compare(score(b), score(a)) })
}

func (p *Pool) start(ctx context.Context, l string, lease store.MailboxLease, at time.Time) {
	rctx, cancel := context.WithCancel(ctx)
	r := &reader{lease: lease, renewed: at, cancel: cancel, done: make(chan error, 1)}
	p.mu.Lock()
	p.held[l] = r
	p.opts.Metrics.held.Set(float64(len(p.held)))
	p.mu.Unlock()
	p.tokens[l] = lease.Token
	in := p.byLabel[l]
	go func() { r.done <- in.RunFenced(rctx, lease.Token) }()
}

// stop cancels a reader, waits for it and forgets it.
func (p *Pool) stop(l string, r *reader) {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for a caller that reads it later
	case <-time.After(p.opts.TTL):
		p.log.Error("mailbox reader did not stop in time", slog.String("mailbox", l))
	}
	p.drop(l)
}

func (p *Pool) drop(l string) {
	p.mu.Lock()
	delete(p.held, l)
	p.opts.Metrics.held.Set(float64(len(p.held)))
	p.mu.Unlock()
}

// release gives a stopped reader's lease back; on a shutdown ctx may have
// ended, so it gets a few seconds of its own.
func (p *Pool) release(ctx context.Context, r *reader) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.opts.Leases.ReleaseLease(rctx, r.lease.Mailbox, p.opts.Replica, r.lease.Token); err != nil {
		p.log.Warn("cannot release a mailbox lease; it runs out by itself", slog.String("mailbox", r.lease.Mailbox), slog.Any("err", err))
		return
	}
	p.opts.Metrics.leases.WithLabelValues("release").Inc()
	p.log.Info("mailbox lease released", slog.String("mailbox", r.lease.Mailbox), slog.String("holder", p.opts.Replica), slog.Int64("token", r.lease.Token))
}

// stopAll stops every reader, releases the leases and leaves.
func (p *Pool) stopAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, l := range p.Held() {
		p.mu.Lock()
		r := p.held[l]
		p.mu.Unlock()
		p.stop(l, r)
		p.release(ctx, r)
	}
	if err := p.opts.Leases.Leave(ctx, p.opts.Replica); err != nil {
		p.log.Warn("cannot leave the replica list; the heartbeat runs out by itself", slog.Any("err", err))
	}
}
