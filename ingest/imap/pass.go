package imap

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/store"
)

// message is one UID on its way from the server to the timeline.
type message struct {
	uid      uint32
	size     int64
	tooLarge bool      // over MaxSize: never downloaded
	fetched  bool      // false after the fetch: expunged meanwhile
	raw      []byte    // dropped once parsed
	received time.Time // INTERNALDATE
	events   []*store.Event
	result   string // resultStored, resultUnmatched, resultSkipped; "" for expunged
	reason   string // skip reason label
}

// batch is the unit of fetching, storing and checkpointing: after its
// events are stored, the checkpoint moves to last, its highest UID.
type batch struct {
	msgs   []*message
	last   uint32
	final  bool       // last batch of the pass
	stored chan error // receives the outcome of recording its events
}

// send hands b to the next stage unless the pass is being abandoned.
func send(ctx context.Context, ch chan<- *batch, b *batch) bool {
	select {
	case ch <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// pass ingests every message after the checkpoint. The stages overlap:
// while batch n is fetched from the server, batch n-1 is parsed on all
// cores and earlier ones are being stored; a batch's checkpoint is saved
// once it and every batch before it are stored, so a saved LastUID always
// means every message up to it is on the timeline (or skipped for good).
func (s *session) pass(ctx context.Context) error {
	select { // this pass will see whatever the notification was about
	case <-s.wake:
	default:
	}
	news, err := s.examine()
	if err != nil || !news {
		return err
	}
	msgs, err := s.list()
	if err != nil || len(msgs) == 0 {
		return err
	}
	batches := s.plan(msgs)
	start := time.Now()
	fetched := make(chan *batch, 1)
	parsed := make(chan *batch, 1)
	recording := make(chan *batch, s.in.opts.StoreConcurrency-1)
	cache := newClientCache(s.in.opts.Clients)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(fetched)
		for _, b := range batches {
			// Never abandoned half-way: go-imap's reader stalls until every
			// response of a command is consumed.
			if err := s.guard(func() error { return s.fetch(b) }); err != nil {
				return err
			}
			if !send(gctx, fetched, b) {
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(parsed)
		for b := range fetched {
			if err := s.in.parse(gctx, cache, b); err != nil {
				return err
			}
			if !send(gctx, parsed, b) {
				return gctx.Err()
			}
		}
		return nil
	})
	// Several batches are written at once, since a store across the
	// network mostly waits; the channel's capacity (plus the batch commit
	// waits on) bounds how many. Checkpoints still move in UID order:
	// commit takes the batches in turn and waits for each to be stored.
	g.Go(func() error {
		defer close(recording)
		for b := range parsed {
			b.stored = make(chan error, 1)
			if !send(gctx, recording, b) {
				return gctx.Err()
			}
			g.Go(func() error {
				b.stored <- s.in.record(gctx, b)
				return nil // commit reports it
			})
		}
		return nil
	})
	g.Go(func() error {
		for b := range recording {
			if err := <-b.stored; err != nil {
				return err
			}
			if err := s.commit(gctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	s.in.log.Info("mail ingested", slog.Int("messages", len(msgs)),
		slog.Uint64("last_uid", uint64(s.cp.LastUID)), slog.Duration("took", time.Since(start)))
	return nil
}

// list returns the UIDs after the checkpoint with their sizes, in order, and
// raises s.modseq to the highest mod-sequence among them.
func (s *session) list() ([]*message, error) {
	if s.cp.LastUID == ^uint32(0) {
		return nil, nil
	}
	var set goimap.UIDSet
	set.AddRange(goimap.UID(s.cp.LastUID+1), 0) // last+1:*
	var bufs []*imapclient.FetchMessageBuffer
	err := s.guard(func() (err error) {
		bufs, err = s.c.Fetch(set, &goimap.FetchOptions{UID: true, RFC822Size: true, ModSeq: s.condstore}).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list new messages: %w", err)
	}
	msgs := make([]*message, 0, len(bufs))
	for _, b := range bufs {
		// "n:*" always matches the last message, even below n.
		if uint32(b.UID) <= s.cp.LastUID {
			continue
		}
		msgs = append(msgs, &message{uid: uint32(b.UID), size: b.RFC822Size, tooLarge: b.RFC822Size > s.in.opts.MaxSize})
		// Sound as a checkpoint once this pass ends: any later message
		// gets a higher mod-sequence, so a folder whose HIGHESTMODSEQ still
		// equals it has nothing this pass did not see.
		s.modseq = max(s.modseq, b.ModSeq)
	}
	slices.SortFunc(msgs, func(a, b *message) int { return cmp.Compare(a.uid, b.uid) })
	return msgs, nil
}

// plan cuts msgs into batches of at most BatchSize messages and about
// BatchBytes of bodies.
func (s *session) plan(msgs []*message) []*batch {
	var out []*batch
	cur := &batch{}
	var bytes int64
	for _, m := range msgs {
		if len(cur.msgs) > 0 && (len(cur.msgs) >= s.in.opts.BatchSize || bytes+m.size > s.in.opts.BatchBytes) {
			out = append(out, cur)
			cur, bytes = &batch{}, 0
		}
		cur.msgs = append(cur.msgs, m)
		cur.last = m.uid
		if !m.tooLarge {
			bytes += m.size
		}
	}
	out = append(out, cur)
	out[len(out)-1].final = true
	return out
}
