package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/ingest/mail"
)

// fetch downloads the bodies of a batch, except those too large, with
// BODY.PEEK[] so that \Seen stays as it is.
func (s *session) fetch(b *batch) error {
	var set goimap.UIDSet
	byUID := make(map[uint32]*message, len(b.msgs))
	for _, m := range b.msgs {
		if !m.tooLarge {
			set.AddNum(goimap.UID(m.uid))
			byUID[m.uid] = m
		}
	}
	if len(byUID) == 0 {
		return nil
	}
	cmd := s.c.Fetch(set, &goimap.FetchOptions{
		UID:          true,
		InternalDate: true,
		BodySection:  []*goimap.FetchItemBodySection{{Peek: true}},
	})
	var readErr error
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid uint32
		var raw []byte
		var received time.Time
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(item.UID)
			case imapclient.FetchItemDataInternalDate:
				received = item.Time
			case imapclient.FetchItemDataBodySection:
				if item.Literal == nil {
					continue
				}
				buf := bytes.NewBuffer(make([]byte, 0, item.Literal.Size()))
				if _, err := io.Copy(buf, item.Literal); err != nil && readErr == nil {
					readErr = err
				}
				raw = buf.Bytes()
			}
		}
		if m := byUID[uid]; m != nil && raw != nil {
			m.raw, m.received, m.fetched = raw, received, true
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetch UIDs %s: %w", set, err)
	}
	if readErr != nil {
		return fmt.Errorf("fetch UIDs %s: %w", set, readErr)
	}
	return nil
}

// parse parses a batch's messages in parallel and matches them to clients.
func (in *Ingester) parse(ctx context.Context, cache *clientCache, b *batch) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(in.opts.Parsers)
	for _, m := range b.msgs {
		g.Go(func() error { return in.parseOne(ctx, cache, m) })
	}
	return g.Wait()
}

func (in *Ingester) parseOne(ctx context.Context, cache *clientCache, m *message) error {
	switch {
	case m.tooLarge:
		m.result, m.reason = resultSkipped, string(mail.TooLarge)
		in.log.Info("mail skipped", slog.Uint64("uid", uint64(m.uid)), slog.String("reason", "too large"), slog.Int64("size", m.size))
		return nil
	case !m.fetched:
		in.log.Info("mail expunged before it was fetched", slog.Uint64("uid", uint64(m.uid)))
		return nil
	}
	raw := m.raw
	m.raw = nil
	msg, err := mail.ParseBytes(raw, mail.Options{MaxSize: in.opts.MaxSize})
	if err != nil {
		reason, kind := err.Error(), "other"
		if se := (*mail.SkipError)(nil); errors.As(err, &se) {
			reason, kind = se.Reason, string(se.Kind)
		}
		m.result, m.reason = resultSkipped, kind
		in.log.Info("mail skipped", slog.Uint64("uid", uint64(m.uid)), slog.String("reason", reason))
		return nil
	}
	in.noteDefects(m.uid, msg)
	events, err := in.eventsFor(ctx, cache, msg, m.received)
	if err != nil {
		return fmt.Errorf("match UID %d to clients: %w", m.uid, err)
	}
	if len(events) == 0 {
		m.result = resultUnmatched
		return nil
	}
	m.events, m.result = events, resultStored
	return nil
}

// noteDefects counts what was wrong with a message that was read anyway,
// by kind, and logs it at debug level with where the message is.
func (in *Ingester) noteDefects(uid uint32, msg *mail.Message) {
	if len(msg.Defects) == 0 {
		return
	}
	details := make([]string, len(msg.Defects))
	for i, d := range msg.Defects {
		in.metrics.defects.WithLabelValues(in.cfg.Label(), string(d.Kind)).Inc()
		details[i] = d.String()
	}
	in.log.Debug("mail read despite defects", slog.Uint64("uid", uint64(uid)),
		slog.String("message_id", msg.MessageID), slog.Any("defects", details))
}
