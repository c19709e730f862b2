package fix

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/quickfixgo/quickfix"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// maxPending bounds the reports received and not yet stored of a session;
// FromApp waits beyond it, and so does the session (TCP pushes back).
const maxPending = 4096

// maxBatch is how many reports one store write takes.
const maxBatch = 500

// pending is a report received and not yet stored.
type pending struct {
	seq  int
	ev   ingest.OrderEvent
	kind Kind
}

var errHeld = errors.New("ExecutionReports not stored: disconnecting to have them resent")

// ackStoreFactory wraps quickfix's message store (the file store) in an
// ackStore and starts each session's writer.
type ackStoreFactory struct {
	c     *Client
	inner quickfix.MessageStoreFactory
}

func (f *ackStoreFactory) Create(id quickfix.SessionID) (quickfix.MessageStore, error) {
	inner, err := f.inner.Create(id)
	if err != nil {
		return nil, err
	}
	s := &ackStore{MessageStore: inner, c: f.c, id: id, next: inner.NextTargetMsgSeqNum()}
	s.cond = sync.NewCond(&s.mu)
	f.c.mu.Lock()
	f.c.stores[id] = s
	f.c.mu.Unlock()
	if !f.c.opts.DryRun {
		f.c.writers.Add(1)
		go func() {
			defer f.c.writers.Done()
			s.write(f.c.ctx)
		}()
	}
	return s, nil
}

func (c *Client) ackStore(id quickfix.SessionID) *ackStore {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stores[id]
}

// hold makes the session drop its connection at its next message without
// counting it, so that the order system resends from the last report
// stored (brokersync check fix uses it for the report it saw).
func (c *Client) hold(id quickfix.SessionID) {
	if s := c.ackStore(id); s != nil {
		s.mu.Lock()
		s.failed = true
		s.mu.Unlock()
	}
}

// ackStore keeps the next expected incoming sequence number in two places:
// next, as quickfix sees it (every message received), and the inner
// store's, persisted, which never passes a report not yet stored. Reports
// are stored by the session's writer in batches; each batch stored moves
// the persisted number on.
type ackStore struct {
	quickfix.MessageStore
	c  *Client
	id quickfix.SessionID

	mu      sync.Mutex
	cond    *sync.Cond
	next    int
	pending []pending
	failed  bool // the writer gave up: the next message drops the connection
}

func (s *ackStore) enqueue(p pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.pending) >= maxPending && !s.failed && s.c.ctx.Err() == nil {
		s.cond.Wait()
	}
	if s.failed || s.c.ctx.Err() != nil {
		return // the connection drops at this message; it is resent
	}
	s.pending = append(s.pending, p)
	s.cond.Broadcast()
}

func (s *ackStore) NextTargetMsgSeqNum() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// IncrNextTargetMsgSeqNum counts a message received. With no report
// waiting to be stored it is persisted at once.
func (s *ackStore) IncrNextTargetMsgSeqNum() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed {
		return s.dropConnection()
	}
	s.next++
	if len(s.pending) == 0 {
		return s.MessageStore.SetNextTargetMsgSeqNum(s.next)
	}
	return nil
}

// dropConnection answers quickfix's next change of the incoming number
// after the writer gave up: quickfix drops the connection on the error, and
// the next logon starts from the persisted number, before the first report
// not stored.
func (s *ackStore) dropConnection() error {
	s.failed = false
	s.next = s.MessageStore.NextTargetMsgSeqNum()
	return errHeld
}

// drain waits until every report received is stored (or given up), so that
// a reset or a sequence reset cannot mix numbers of two series.
func (s *ackStore) drain() {
	for len(s.pending) > 0 && !s.failed {
		s.cond.Wait()
	}
}

func (s *ackStore) SetNextTargetMsgSeqNum(next int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain()
	if s.failed {
		return s.dropConnection()
	}
	s.next = next
	return s.MessageStore.SetNextTargetMsgSeqNum(next)
}

func (s *ackStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain()
	if s.failed {
		return s.dropConnection()
	}
	err := s.MessageStore.Reset()
	s.next = s.MessageStore.NextTargetMsgSeqNum()
	return err
}

func (s *ackStore) Refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain()
	if s.failed {
		return s.dropConnection()
	}
	err := s.MessageStore.Refresh()
	s.next = s.MessageStore.NextTargetMsgSeqNum()
	return err
}

// write stores the session's reports until ctx ends.
func (s *ackStore) write(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	for {
		s.mu.Lock()
		for len(s.pending) == 0 && ctx.Err() == nil {
			s.cond.Wait()
		}
		if ctx.Err() != nil {
			s.mu.Unlock()
			return
		}
		batch := append([]pending(nil), s.pending[:min(len(s.pending), maxBatch)]...)
		s.mu.Unlock()

		err := s.store(ctx, batch)

		s.mu.Lock()
		if err != nil {
			s.c.opts.Logger.Error("FIX drop copy: ExecutionReports not stored; the order system will resend them",
				slog.String("session", s.id.String()), slog.Int("from_seq", batch[0].seq), slog.Int("reports", len(s.pending)), slog.Any("err", err))
			s.pending, s.failed = nil, true
		} else {
			s.pending = s.pending[len(batch):]
			persist := s.next
			if len(s.pending) > 0 {
				persist = s.pending[0].seq
			}
			if err := s.MessageStore.SetNextTargetMsgSeqNum(persist); err != nil {
				s.c.opts.Logger.Error("FIX drop copy: cannot persist the sequence number; reports will be resent", slog.Any("err", err))
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// store writes one batch, retrying a store that is down for RetryFor. A
// report for an unknown account or with a field the intake refuses is
// logged, counted and left out.
func (s *ackStore) store(ctx context.Context, batch []pending) error {
	c := s.c
	evs := make([]ingest.OrderEvent, 0, len(batch))
	kinds := make([]pending, 0, len(batch))
	for _, p := range batch {
		evs = append(evs, p.ev)
		kinds = append(kinds, p)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.RetryFor)
	defer cancel()
	delay := 100 * time.Millisecond
	retry := func(err error) error {
		c.opts.Logger.Warn("FIX drop copy: storing ExecutionReports failed; retrying", slog.Any("err", err))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
		return nil
	}
	for {
		if len(evs) == 0 {
			return nil
		}
		entries, err := c.opts.Intake.PrepareOrders(ctx, evs)
		var ie *ingest.ItemError
		if errors.As(err, &ie) {
			switch code := store.ErrorCode(ie.Err); code {
			case store.ENOTFOUND, store.EINVALID:
				result := ResultInvalid
				if code == store.ENOTFOUND {
					result = ResultUnknownClient
				}
				p := kinds[ie.Index]
				c.opts.Metrics.Reports.WithLabelValues(result).Inc()
				c.opts.Logger.Warn("FIX drop copy: ExecutionReport not taken", slog.String("session", s.id.String()), slog.Int("seq", p.seq),
					slog.String("exec_id", p.ev.ExecID), slog.String("result", result), slog.String("why", ie.Err.Error()))
				c.tell(Event{Session: s.id.String(), What: "report", Kind: p.kind, Result: result, Text: ie.Err.Error(), Seq: p.seq, ExecID: p.ev.ExecID, Account: p.ev.Client})
				evs = append(evs[:ie.Index:ie.Index], evs[ie.Index+1:]...)
				kinds = append(kinds[:ie.Index:ie.Index], kinds[ie.Index+1:]...)
				continue
			}
			err = ie.Err
		}
		if err != nil {
			if err := retry(err); err != nil {
				return err
			}
			continue
		}
		st, err := c.opts.Intake.Store(ctx, entries)
		if err != nil {
			if code := store.ErrorCode(err); (code == store.EINVALID || code == store.ECONFLICT) && len(kinds) > 1 {
				// One report the timeline refuses (an ExecID reused with
				// other content) must not hold the others: one at a time.
				return s.storeEach(ctx, kinds)
			}
			if code := store.ErrorCode(err); code == store.EINVALID || code == store.ECONFLICT {
				return err // storeEach counts it
			}
			if err := retry(err); err != nil {
				return err
			}
			continue
		}
		c.opts.Metrics.Reports.WithLabelValues(ResultStored).Add(float64(len(entries) - st.DuplicateFills))
		c.opts.Metrics.Reports.WithLabelValues(ResultDuplicate).Add(float64(st.DuplicateFills))
		if c.events != nil {
			for _, p := range kinds {
				c.tell(Event{Session: s.id.String(), What: "report", Kind: p.kind, Result: ResultStored, Seq: p.seq, ExecID: p.ev.ExecID, Account: p.ev.Client})
			}
		}
		return nil
	}
}

// storeEach stores reports one by one, logging and counting those the
// stores refuse.
func (s *ackStore) storeEach(ctx context.Context, ps []pending) error {
	for _, p := range ps {
		err := s.store(ctx, []pending{p})
		switch code := store.ErrorCode(err); code {
		case "":
		case store.EINVALID, store.ECONFLICT:
			s.c.opts.Metrics.Reports.WithLabelValues(ResultInvalid).Inc()
			s.c.opts.Logger.Warn("FIX drop copy: ExecutionReport refused by the timeline", slog.String("session", s.id.String()), slog.Int("seq", p.seq),
				slog.String("exec_id", p.ev.ExecID), slog.Any("err", err))
		default:
			return err
		}
	}
	return nil
}
