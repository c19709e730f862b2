package imap

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/brokersync/brokersync/ingest"
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
	left, err := ingest.RecordFirst(ctx, in.opts.Recorder, events...)
	if store.ErrorCode(err) == store.EINVALID {
		left, err = in.recordEach(ctx, b)
	}
	if err != nil {
		return fmt.Errorf("store events up to UID %d: %w", b.last, err)
	}
	in.conflicts(b, left)
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
func (in *Ingester) recordEach(ctx context.Context, b *batch) ([]*store.Event, error) {
	var left []*store.Event
	for _, m := range b.msgs {
		if len(m.events) == 0 {
			continue
		}
		l, err := ingest.RecordFirst(ctx, in.opts.Recorder, m.events...)
		left = append(left, l...)
		switch store.ErrorCode(err) {
		case "":
		case store.EINVALID:
			in.log.Warn("mail skipped: events refused", slog.Uint64("uid", uint64(m.uid)), slog.Any("err", err))
			m.events, m.result, m.reason = nil, resultSkipped, "rejected"
		default:
			return left, err
		}
	}
	return left, nil
}

// conflicts counts and logs the events of a batch that were left out
// because their ids (a Message-ID and a client) were recorded before with
// other content: someone reused a known Message-ID. The first copy stands.
func (in *Ingester) conflicts(b *batch, left []*store.Event) {
	if len(left) == 0 {
		return
	}
	out := make(map[*store.Event]bool, len(left))
	for _, e := range left {
		out[e] = true
	}
	label := in.cfg.Label()
	for _, m := range b.msgs {
		kept := m.events[:0]
		for _, e := range m.events {
			if !out[e] {
				kept = append(kept, e)
				continue
			}
			in.metrics.conflicts.WithLabelValues(label).Inc()
			in.log.Warn("mail not recorded: its Message-ID was recorded before with other content; the first copy stands",
				slog.Uint64("uid", uint64(m.uid)), slog.String("source_id", e.SourceID),
				slog.String("client", e.ClientID.String()), slog.String("subject", e.Summary))
		}
		m.events = kept
		if len(kept) == 0 && m.result == resultStored {
			m.result = resultConflict
		}
	}
}

// save moves the checkpoint; it is the only place that does.
func (s *session) save(ctx context.Context, lastUID uint32, modseq uint64) error {
	cp := s.cp
	cp.LastUID, cp.HighestModSeq, cp.UpdatedAt = lastUID, modseq, time.Time{}
	if err := s.in.opts.Checkpoints.SaveCheckpoint(ctx, cp); err != nil {
		if cp.Fence != 0 && store.ErrorCode(err) == store.ECONFLICT {
			return fmt.Errorf("%w: save checkpoint at UID %d: %w", ErrLeaseLost, lastUID, err)
		}
		return fmt.Errorf("save checkpoint at UID %d: %w", lastUID, err)
	}
	s.cp = cp
	s.in.metrics.lastUID.WithLabelValues(s.in.cfg.Label()).Set(float64(lastUID))
	return nil
}
