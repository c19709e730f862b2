package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Intake matches order and call events to their clients and stores them: the
// timeline through the Recorder, executions in the trading statistics. The
// webhooks and the order history import share it, so both validate, match
// and count the same way. An Intake must not be copied after first use.
type Intake struct {
	Clients   store.ClientStore
	Trades    store.TradeStore
	Catalogue *store.Catalogue // resolves orders' and market moves' contracts
	Recorder  *Recorder
	Now       func() time.Time // default time.Now
	// Writers is how many group writes may run at once (default 1). One
	// suits the embedded store, whose writes queue for one lock anyway;
	// PostgreSQL and Cassandra take several in parallel.
	Writers int

	group committer
}

// Entry is one input matched to its client, ready to store.
type Entry struct {
	Client *store.Client
	Event  *store.Event
	Fill   *store.Fill // executions only
}

// Stored counts what Store did. A redelivered execution is stored again on
// the timeline (the same event, replaced) but counted once in the statistics.
type Stored struct {
	Events         int
	NewFills       int
	DuplicateFills int
}

// ItemError is the error about one event of a batch; Index counts from 0.
// Err is a *store.Error naming the field.
type ItemError struct {
	Index int
	Err   error
}

func (e *ItemError) Error() string { return fmt.Sprintf("event %d: %v", e.Index, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

func (in *Intake) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// PrepareOrders checks every event, then matches each to its client, before
// anything is stored: a batch is taken whole or not at all. The error is an
// *ItemError: EINVALID for a bad field, ENOTFOUND for an unknown client,
// EUNAVAILABLE when the client store cannot be reached.
func (in *Intake) PrepareOrders(ctx context.Context, evs []OrderEvent) ([]Entry, error) {
	parse := func(ev OrderEvent, now time.Time) (*Order, error) { return ParseOrder(ev, now, in.Catalogue) }
	return prepare(ctx, in, evs, parse, func(m *matcher, o *Order) (Entry, error) {
		c, err := m.byRef(ctx, o.ClientRef)
		if err != nil {
			return Entry{}, err
		}
		return Entry{Client: c, Event: o.Event(c), Fill: o.Fill(c)}, nil
	})
}

// PrepareCalls is PrepareOrders for calls. A call names its client by handle
// or is matched by the number of the far end.
func (in *Intake) PrepareCalls(ctx context.Context, evs []CallEvent) ([]Entry, error) {
	return prepare(ctx, in, evs, ParseCall, func(m *matcher, call *Call) (Entry, error) {
		var cl *store.Client
		var err error
		if call.ClientRef != "" {
			cl, err = m.byRef(ctx, call.ClientRef)
		} else {
			cl, err = m.byPhone(ctx, call.farField, call.FarEnd)
		}
		if err != nil {
			return Entry{}, err
		}
		return Entry{Client: cl, Event: call.Event(cl)}, nil
	})
}

// prepare parses every event of a batch, then matches each to its client,
// stopping at the first error, which it returns as an *ItemError.
func prepare[E, P any](ctx context.Context, in *Intake, evs []E, parse func(E, time.Time) (P, error), match func(*matcher, P) (Entry, error)) ([]Entry, error) {
	now := in.now()
	parsed := make([]P, len(evs))
	for i, ev := range evs {
		p, err := parse(ev, now)
		if err != nil {
			return nil, &ItemError{Index: i, Err: err}
		}
		parsed[i] = p
	}
	m := in.matcher()
	entries := make([]Entry, len(parsed))
	for i, p := range parsed {
		e, err := match(m, p)
		if err != nil {
			return nil, &ItemError{Index: i, Err: err}
		}
		entries[i] = e
	}
	return entries, nil
}

// Store records the entries' events on the timeline, then their fills in the
// statistics. It is safe to call again with the same entries after an
// error: event ids derive from the source, and a fill counts once.
//
// Concurrent calls are written together (see committer): under load, many
// small requests become a few large writes.
func (in *Intake) Store(ctx context.Context, entries []Entry) (Stored, error) {
	if len(entries) == 0 {
		return Stored{}, nil
	}
	return in.group.store(ctx, entries, in.Writers, in.write)
}

// write records entries and reports, for each, whether its fill (if any) was
// counted for the first time.
func (in *Intake) write(ctx context.Context, entries []Entry) ([]bool, error) {
	events := make([]*store.Event, len(entries))
	var fills []store.Fill
	var fillOf []int // index in entries of each fill
	for i, e := range entries {
		events[i] = e.Event
		if e.Fill != nil {
			fills = append(fills, *e.Fill)
			fillOf = append(fillOf, i)
		}
	}
	// Timeline first: it is the record the desk must keep. If the fills
	// fail after it, the sender's retry rewrites the same events and counts
	// the fills then.
	if err := in.Recorder.Record(ctx, events...); err != nil {
		return nil, err
	}
	first := make([]bool, len(entries))
	if len(fills) == 0 {
		return first, nil
	}
	if in.Trades == nil {
		return nil, store.Internal("record fills", fmt.Errorf("no trade store configured"))
	}
	counted, err := in.Trades.RecordFills(ctx, fills)
	if err != nil {
		return nil, err
	}
	for i, c := range counted {
		first[fillOf[i]] = c
	}
	return first, nil
}

// matcher finds clients for one batch, looking each reference up once: a
// batch from an order system often holds many events of one account.
type matcher struct {
	clients store.ClientStore
	seen    map[string]*store.Client
}

func (in *Intake) matcher() *matcher {
	return &matcher{clients: in.Clients, seen: map[string]*store.Client{}}
}

// byRef finds a client by id, handle, account number, email or phone
// (store.ResolveClient).
func (m *matcher) byRef(ctx context.Context, ref string) (*store.Client, error) {
	if c, ok := m.seen["ref:"+ref]; ok {
		return c, nil
	}
	c, err := store.ResolveClient(ctx, m.clients, ref)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, &store.Error{Code: store.ENOTFOUND, Field: "client", Message: fmt.Sprintf("no client with the handle, account number, email, phone or id %q", ref)}
	}
	if err != nil {
		return nil, err
	}
	m.seen["ref:"+ref] = c
	return c, nil
}

func (m *matcher) byPhone(ctx context.Context, field, number string) (*store.Client, error) {
	if c, ok := m.seen["tel:"+number]; ok {
		return c, nil
	}
	c, err := m.clients.ClientByPhone(ctx, number)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, &store.Error{Code: store.ENOTFOUND, Field: field, Message: fmt.Sprintf("no client has the phone number %s", number)}
	}
	if err != nil {
		return nil, err
	}
	m.seen["tel:"+number] = c
	return c, nil
}
