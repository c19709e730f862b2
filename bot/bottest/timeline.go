package bottest

import (
	"context"
	"errors"
	"sync"

	"github.com/brokersync/brokersync/store"
)

// FailingTimeline is a timeline whose writes can be made to fail, to show
// what a command does when the timeline is down.
type FailingTimeline struct {
	store.TimelineStore
	mu      sync.Mutex
	err     error
	hang    chan struct{} // closed to let hung writes go
	entered chan struct{}
}

// NewFailingTimeline wraps tl.
func NewFailingTimeline(tl store.TimelineStore) *FailingTimeline {
	return &FailingTimeline{TimelineStore: tl}
}

// FailWrites makes AppendEvents return err; nil makes it work again.
func (f *FailingTimeline) FailWrites(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// HangNextWrite makes the next AppendEvents block, as in a process that
// dies before its write reaches the store, until ctx ends or release is
// called; it then fails, having stored nothing. entered is closed when that
// write has begun. Later writes work.
func (f *FailingTimeline) HangNextWrite() (entered <-chan struct{}, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hang, in := make(chan struct{}), make(chan struct{})
	f.hang, f.entered = hang, in
	var once sync.Once
	return in, func() { once.Do(func() { close(hang) }) }
}

// AppendEvents implements store.TimelineStore.
func (f *FailingTimeline) AppendEvents(ctx context.Context, events ...*store.Event) error {
	f.mu.Lock()
	err, hang, entered := f.err, f.hang, f.entered
	f.hang, f.entered = nil, nil
	f.mu.Unlock()
	if hang != nil {
		close(entered)
		select {
		case <-hang:
		case <-ctx.Done():
		}
		return store.Unavailable("timeline", errors.New("the write never finished"))
	}
	if err != nil {
		return err
	}
	return f.TimelineStore.AppendEvents(ctx, events...)
}
