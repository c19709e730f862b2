package imap

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/brokersync/brokersync/store"
)

// record stores a batch's events. A batch the store refuses as invalid is
// retried message by message, so that one bad message is skipped rather
// than retried forever.
func (in *Ingester) record(ctx context.Context, b *batch) error {
	var events []*store.Event
	for _, m := range b.msgs {
		events = append(events, m.events...)
	}
	if len(events) == 0 {
		return nil
	}
	start := time.Now()
	err := in.opts.Recorder.Record(ctx, events...)
	if store.ErrorCode(err) == store.EINVALID {
		err = in.recordEach(ctx, b)
	}
	if err != nil {
		return fmt.Errorf("store events up to UID %d: %w", b.last, err)
	}
	in.metrics.batch.WithLabelValues(in.cfg.Label()).Observe(time.Since(start).Seconds())
	return nil
}

// commit moves the checkpoint past a stored batch and counts its messages.
func (s *session) commit(ctx context.Context, b *batch) error {
	in := s.in
	if in.afterStore != nil {
		if err := in.afterStore(b.last); err != nil {
			return err
		}
	}
	modseq := s.cp.HighestModSeq
	if b.final {
		modseq = max(modseq, s.modseq)
	}
	if err := s.save(ctx, b.last, modseq); err != nil {
		return err
	}
	label := in.cfg.Label()
	stored := 0
	for _, m := range b.msgs {
		if m.result == "" {
			continue
		}
		in.metrics.messages.WithLabelValues(label, m.result).Inc()
		if m.result == resultSkipped {
			in.metrics.skipped.WithLabelValues(label, m.reason).Inc()
		}
		if m.result == resultStored {
			stored += len(m.events)
		}
		m.events = nil
	}
	in.metrics.events.WithLabelValues(label).Add(float64(stored))
	return nil
}

// recordEach records a batch message by message, skipping those whose
// events the store refuses as invalid.
func (in *Ingester) recordEach(ctx context.Context, b *batch) error {
	for _, m := range b.msgs {
		if len(m.events) == 0 {
			continue
		}
		err := in.opts.Recorder.Record(ctx, m.events...)
		switch store.ErrorCode(err) {
		case "":
		case store.EINVALID:
			in.log.Warn("mail skipped: events refused", slog.Uint64("uid", uint64(m.uid)), slog.Any("err", err))
			m.events, m.result, m.reason = nil, resultSkipped, "rejected"
		default:
			return err
		}
	}
	return nil
}

// save moves the checkpoint; it is the only place that does.
func (s *session) save(ctx context.Context, lastUID uint32, modseq uint64) error {
	cp := s.cp
	cp.LastUID, cp.HighestModSeq, cp.UpdatedAt = lastUID, modseq, time.Time{}
	if err := s.in.opts.Checkpoints.SaveCheckpoint(ctx, cp); err != nil {
		return fmt.Errorf("save checkpoint at UID %d: %w", lastUID, err)
	}
	s.cp = cp
	s.in.metrics.lastUID.WithLabelValues(s.in.cfg.Label()).Set(float64(lastUID))
	return nil
}
