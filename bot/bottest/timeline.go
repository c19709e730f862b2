package bottest

import (
	"context"
	"sync"

	"github.com/brokersync/brokersync/store"
)

// FailingTimeline is a timeline whose writes can be made to fail, to show
// what a command does when the timeline is down.
type FailingTimeline struct {
	store.TimelineStore
	mu  sync.Mutex
	err error
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

// AppendEvents implements store.TimelineStore.
func (f *FailingTimeline) AppendEvents(ctx context.Context, events ...*store.Event) error {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.TimelineStore.AppendEvents(ctx, events...)
}
