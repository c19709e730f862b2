package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Group commit bounds: a group holds at most maxGroup entries, so one write
// stays a reasonable transaction; it gets writeTimeout to finish.
const (
	maxGroup     = 2000
	writeTimeout = 30 * time.Second
)

// committer merges concurrent Store calls into group writes. A caller that
// finds fewer than the allowed number of groups being written leads: it
// writes everything queued so far, its own entries included, in one call.
// Callers arriving while every writer is busy queue up; a leader that
// finishes takes the next group off the queue and hands it to the oldest
// caller in it to write. Under light load a call writes alone, at once;
// under heavy load each write carries many requests, so the stores see a
// few large writes (one SQLite transaction, one PostgreSQL statement,
// grouped Cassandra batches) instead of many small ones contending.
//
// Every caller in a group gets the group's outcome: if the write fails, all
// of them report the error and their senders retry, which ids make safe.
type committer struct {
	mu     sync.Mutex
	queue  []*pending
	active int // groups being written; invariant: queue non-empty implies active == the limit
}

type pending struct {
	entries []Entry
	wake    chan struct{} // signalled when done, or when handed a group to write
	group   []*pending    // the group handed over, set before wake
	done    bool          // set before wake is signalled
	st      Stored
	err     error
}

// store writes entries, in a group with others, with at most writers groups
// being written at once.
func (c *committer) store(ctx context.Context, entries []Entry, writers int, write func(context.Context, []Entry) ([]bool, error)) (Stored, error) {
	p := &pending{entries: entries, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	var group []*pending
	if c.active < max(writers, 1) {
		c.active++
		group = c.take() // the queue held only p: see the invariant
	}
	c.mu.Unlock()
	if group == nil {
		// Wait even if ctx ends: the entries are queued and will be written,
		// and the answer must say whether they were.
		<-p.wake
		if p.done {
			return p.st, p.err
		}
		group = p.group
	}
	commit(ctx, group, write)

	c.mu.Lock()
	if len(c.queue) > 0 {
		next := c.take()
		next[0].group = next
		next[0].wake <- struct{}{}
	} else {
		c.active--
	}
	c.mu.Unlock()
	return p.st, p.err
}

// take removes the next group from the queue: its head and as many more
// calls as fit in maxGroup entries. c.mu must be held.
func (c *committer) take() []*pending {
	n, size := 0, 0
	for n < len(c.queue) && (n == 0 || size+len(c.queue[n].entries) <= maxGroup) {
		size += len(c.queue[n].entries)
		n++
	}
	group := append([]*pending(nil), c.queue[:n]...)
	c.queue = append(c.queue[:0:0], c.queue[n:]...)
	return group
}

func commit(ctx context.Context, group []*pending, write func(context.Context, []Entry) ([]bool, error)) {
	// The group must not fail because the request that happens to lead it
	// went away; it gets its own deadline instead.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	for len(group) > 0 {
		var all []Entry
		for _, p := range group {
			all = append(all, p.entries...)
		}
		first, err := safeWrite(wctx, all, write)
		// An id reused with other content refuses the whole write: the
		// callers it belongs to get the conflict, the others are written
		// again without them.
		var c *store.EventConflict
		if errors.As(err, &c) {
			if rest := refuse(group, c); len(rest) < len(group) {
				group = rest
				continue
			}
		}
		off := 0
		for _, p := range group {
			p.err = err
			if err == nil {
				p.st.Events = len(p.entries)
				for i, e := range p.entries {
					switch {
					case e.Fill == nil:
					case first[off+i]:
						p.st.NewFills++
					default:
						p.st.DuplicateFills++
					}
				}
			}
			off += len(p.entries)
			finish(p)
		}
		return
	}
}

// refuse ends, with an *ItemError holding their conflict, the calls of group
// that hold an event c names, and returns the others.
func refuse(group []*pending, c *store.EventConflict) []*pending {
	named := make(map[uuid.UUID]bool, len(c.Events))
	for _, r := range c.Events {
		named[r.ID] = true
	}
	var rest []*pending
	for _, p := range group {
		var mine []*store.Event
		at := -1
		for i, e := range p.entries {
			if named[e.Event.ID] {
				mine = append(mine, e.Event)
				if at < 0 {
					at = i
				}
			}
		}
		if mine == nil {
			rest = append(rest, p)
			continue
		}
		p.err = &ItemError{Index: at, Err: &store.EventConflict{Events: store.Refs(mine...)}}
		finish(p)
	}
	return rest
}

func finish(p *pending) {
	p.done = true
	p.wake <- struct{}{} // buffered: never blocks, the leader's own included
}

// safeWrite turns a panic in write into an error for the group: a panic
// escaping the leader would leave the committer busy and every later call
// waiting forever.
func safeWrite(ctx context.Context, entries []Entry, write func(context.Context, []Entry) ([]bool, error)) (first []bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			first, err = nil, store.Internal("store events", fmt.Errorf("panic: %v", r))
		}
	}()
	return write(ctx, entries)
}
