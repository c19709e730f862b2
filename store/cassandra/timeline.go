package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/brokersync/brokersync/store"
)

const eventColumns = `time, id, kind, source, source_id, actor, summary, body, truncated, sentiment, attrs`

const (
	insertEvent = `INSERT INTO events (client_id, bucket, ` + eventColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertEventID = `INSERT INTO event_ids (client_id, id, time) VALUES (?, ?, ?)`
	insertBucket  = `INSERT INTO client_buckets (client_id, bucket) VALUES (?, ?)`
	insertClaim   = `INSERT INTO event_claims (client_id, id, time, fingerprint) VALUES (?, ?, ?, ?) IF NOT EXISTS`
	reviseClaim   = `UPDATE event_claims SET fingerprint = ? WHERE client_id = ? AND id = ? IF fingerprint = ?`
	selectClaim   = `SELECT time, fingerprint FROM event_claims WHERE client_id = ? AND id = ?`
	insertOwner   = `INSERT INTO event_owners (id, client_id) VALUES (?, ?)`
	selectOwners  = `SELECT id, client_id FROM event_owners WHERE id IN ?`
	selectEvent   = `SELECT ` + eventColumns + ` FROM events WHERE client_id = ? AND bucket = ? AND time = ? AND id = ?`
	selectBuckets = `SELECT bucket FROM client_buckets WHERE client_id = ? AND bucket >= ? AND bucket <= ?`
)

// Write batching. Each batch holds the rows of one partition only, so
// Cassandra applies it as one mutation (no batch log, no coordinator
// fan-out) and token-aware routing sends it straight to a replica. Chunks
// stay far below the largest mutation Cassandra accepts
// (commitlog_segment_size/2) even with 4,000-rune bodies. Measured on a
// 2-core machine (bench_test.go): per-partition batches with 8 in flight
// write 2-3x the events/s of single-row INSERTs with 16 or 64 in flight, and
// AppendEvents runs at the rate of the same batches sent by hand
// (BenchmarkAppendVsRaw), so what is left is Cassandra's own cost.
const (
	maxBatchRows  = 100
	maxBatchBytes = 512 << 10
	maxInFlight   = 8 // batch requests in flight per call
	maxClaimRows  = 100
)

// AppendEvents implements store.TimelineStore. Events are prepared (on
// copies; the caller's values are left alone) and checked before anything is
// written, so an invalid event writes nothing.
//
// Then every id is claimed (see claim): a new id with the event's time and
// fingerprint; an id claimed already with the same content is a repeat,
// which keeps the claimed time and whose rows are written only if an
// earlier append stopped before writing them; a revision moves the claim's
// fingerprint, conditionally on the version it names. An id claimed with
// other content, or owned by another client, refuses the call: no rows are
// written and the error is an *store.EventConflict. Ids of the call claimed
// before the conflict was seen keep their claims; a later append of the
// same content completes them.
//
// Then the rows, all concurrent: per client one batch of its event_ids and
// client_buckets rows, per client and month batches of event rows, and
// each id's owner. The days they fall on are marked pending while the ids
// are claimed, and counted again behind the append (daycounts.go).
func (t *Timeline) AppendEvents(ctx context.Context, events ...*store.Event) error {
	return t.appendEvents(ctx, true, events)
}

// rowDays lists the client days of rows that are not in known.
func rowDays(rows []*row, known []clientDay) []clientDay {
	var days []clientDay
	for _, r := range rows {
		d := clientDay{r.e.ClientID, store.DayNumber(r.e.Time)}
		if !slices.Contains(known, d) && !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	return days
}

// appendEvents is AppendEvents; without count it does not hand the days it
// marked pending to the counter, as an append cut off there would (tests).
func (t *Timeline) appendEvents(ctx context.Context, count bool, events []*store.Event) error {
	rows, conflicts, err := prepareRows(events)
	if err != nil || len(rows) == 0 {
		return err
	}
	if len(conflicts) > 0 {
		return &store.EventConflict{Events: store.Refs(conflicts...)}
	}
	// The days are marked pending before any event is written, while the
	// ids are claimed, and handed to the day counter once the append ends
	// (daycounts.go): counting a day is always safe, even after a failure.
	token := gocql.TimeUUID()
	days := rowDays(rows, nil)
	marked := make(chan error, 1)
	go func() { marked <- t.markDays(ctx, days, token) }()
	conflicts, err = t.claim(ctx, rows)
	if merr := <-marked; err == nil {
		err = merr
	}
	if err != nil {
		return mapErr("append events", err)
	}
	if count {
		defer func() { t.counter.add(days, token) }()
	}
	if len(conflicts) > 0 {
		return &store.EventConflict{Events: store.Refs(conflicts...)}
	}
	// A repeat keeps the time it was claimed with, which may fall on
	// another day.
	if extra := rowDays(rows, days); len(extra) > 0 {
		if err := t.markDays(ctx, extra, token); err != nil {
			return mapErr("append events", err)
		}
		days = append(days, extra...)
	}
	type partition struct {
		client uuid.UUID
		bucket int
	}
	var (
		clients    []uuid.UUID
		index      = map[uuid.UUID][]gocql.BatchEntry{}
		partitions []partition
		byPart     = map[partition][]*row{}
		owners     []gocql.BatchEntry
		batches    [][]gocql.BatchEntry
	)
	for _, r := range rows {
		c := r.e.ClientID
		if _, ok := index[c]; !ok {
			clients = append(clients, c)
		}
		p := partition{c, r.bucket}
		if _, ok := byPart[p]; !ok {
			partitions = append(partitions, p)
			index[c] = append(index[c], entry(insertBucket, [16]byte(c), r.bucket))
		}
		if !r.stored {
			byPart[p] = append(byPart[p], r)
		}
		index[c] = append(index[c], entry(insertEventID, [16]byte(c), [16]byte(r.e.ID), r.e.Time))
		owners = append(owners, entry(insertOwner, [16]byte(r.e.ID), [16]byte(c)))
	}
	// Owner rows are one partition each; a batch of them is one request,
	// which the coordinator hands to each row's replicas.
	batches = slices.AppendSeq(batches, slices.Chunk(owners, maxBatchRows))
	for _, c := range clients {
		// Index rows are ~50 bytes: larger chunks than event rows.
		batches = slices.AppendSeq(batches, slices.Chunk(index[c], 5*maxBatchRows))
	}
	for _, p := range partitions {
		if len(byPart[p]) == 0 {
			continue
		}
		var entries []gocql.BatchEntry
		size := 0
		for _, r := range byPart[p] {
			if len(entries) > 0 && (len(entries) == maxBatchRows || size+r.size > maxBatchBytes) {
				batches = append(batches, entries)
				entries, size = nil, 0
			}
			entries = append(entries, entry(insertEvent, r.args()...))
			size += r.size
		}
		batches = append(batches, entries)
	}
	if err := t.run(ctx, batches); err != nil {
		return mapErr("append events", err)
	}
	return nil
}

// claim claims the ids of rows, giving repeats and revisions their claimed
// time, and returns the events refused: ids owned by another client, or
// claimed with other content.
//
// Claims live in the client's partition of event_claims, so one conditional
// batch per client (up to maxClaimRows ids) claims all of the client's new
// ids in one round of Paxos. A batch that does not apply returns the ids
// claimed already; they are sorted out and the rest is tried again. Owners
// are read first, in parallel: an id reused for another client is refused
// before anything is claimed. (Two clients' appends racing with one new id
// both win, each on its own timeline: kept apart, never written over.)
func (t *Timeline) claim(ctx context.Context, rows []*row) ([]*store.Event, error) {
	refused := make([]bool, len(rows))
	owners, err := t.owners(ctx, rows)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if o, ok := owners[r.e.ID]; ok && o != r.e.ClientID {
			refused[i] = true
		}
	}
	byClient := map[uuid.UUID][]int{}
	var clients []uuid.UUID
	for i, r := range rows {
		if refused[i] {
			continue
		}
		c := r.e.ClientID
		if _, ok := byClient[c]; !ok {
			clients = append(clients, c)
		}
		byClient[c] = append(byClient[c], i)
	}
	var mu sync.Mutex // guards refused from here on
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, c := range clients {
		for chunk := range slices.Chunk(byClient[c], maxClaimRows) {
			g.Go(func() error {
				out, err := t.claimClient(gctx, c, rows, chunk)
				mu.Lock()
				for _, i := range out {
					refused[i] = true
				}
				mu.Unlock()
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*store.Event
	for i, r := range rows {
		if refused[i] {
			out = append(out, r.e)
		}
	}
	return out, nil
}

// owners reads which client owns each row's id, where one does: a read of
// up to maxClaimRows partitions a request.
func (t *Timeline) owners(ctx context.Context, rows []*row) (map[uuid.UUID]uuid.UUID, error) {
	var (
		mu  sync.Mutex
		out = map[uuid.UUID]uuid.UUID{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for chunk := range slices.Chunk(rows, maxClaimRows) {
		g.Go(func() error {
			ids := make([][16]byte, len(chunk))
			for i, r := range chunk {
				ids[i] = r.e.ID
			}
			iter := t.read(t.session.Query(selectOwners, ids)).IterContext(gctx)
			var id, client [16]byte
			for iter.Scan(&id, &client) {
				mu.Lock()
				out[id] = client
				mu.Unlock()
			}
			return iter.Close()
		})
	}
	return out, g.Wait()
}

// claimClient claims the ids of one client's rows (indexes into rows) and
// returns the indexes refused.
func (t *Timeline) claimClient(ctx context.Context, client uuid.UUID, rows []*row, pending []int) (refused []int, err error) {
	for len(pending) > 0 {
		// Conditional batches are applied by Paxos, never logged, and all
		// or nothing. Not idempotent: after a timeout the batch may have been
		// applied, so the driver must not send it again; the caller's retry
		// finds the claims and sorts them out as repeats (settle).
		b := t.session.Batch(gocql.LoggedBatch)
		for _, i := range pending {
			e := rows[i].e
			b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: insertClaim,
				Args: []any{[16]byte(client), [16]byte(e.ID), e.Time, e.Fingerprint}, Idempotent: false})
		}
		prev := map[string]any{}
		applied, iter, err := b.MapExecCASContext(ctx, prev)
		if err != nil {
			if iter != nil {
				iter.Close()
			}
			return refused, err
		}
		if applied {
			return refused, iter.Close()
		}
		// Not applied: nothing of the batch was written, and the rows
		// returned are the ids claimed already.
		claimed := map[uuid.UUID]map[string]any{}
		for {
			if id, ok := uuidOf(prev["id"]); ok {
				claimed[id] = prev
			}
			prev = map[string]any{}
			if !iter.MapScan(prev) {
				break
			}
		}
		if err := iter.Close(); err != nil {
			return refused, err
		}
		rest := pending[:0:0]
		for _, i := range pending {
			c, ok := claimed[rows[i].e.ID]
			if !ok {
				rest = append(rest, i)
				continue
			}
			ok, err := t.settle(ctx, rows[i], c)
			if err != nil {
				return refused, err
			}
			if !ok {
				refused = append(refused, i)
			}
		}
		if len(rest) == len(pending) {
			return refused, fmt.Errorf("claim events: a conditional batch did not apply and named no claimed id")
		}
		pending = rest
	}
	return refused, nil
}

// settle compares a row with the claim its id has already and reports
// whether the row may be written: a repeat (with the claimed time, and
// marked stored if its row is), or a revision of the claimed version.
func (t *Timeline) settle(ctx context.Context, r *row, claim map[string]any) (bool, error) {
	e := r.e
	fp, _ := claim["fingerprint"].(string)
	at, _ := claim["time"].(time.Time)
	switch e.Against(e.ClientID, fp) {
	case store.RepeatConflict:
		return false, nil
	case store.RepeatRevision:
		cur := map[string]any{}
		ok, err := t.session.Query(reviseClaim, e.Fingerprint, [16]byte(e.ClientID), [16]byte(e.ID), fp).
			Idempotent(false).MapScanCASContext(ctx, cur)
		if err != nil {
			return false, err
		}
		// Lost to a concurrent revision: refused, unless it wrote this
		// very content.
		if s, _ := cur["fingerprint"].(string); !ok && s != e.Fingerprint {
			return false, nil
		}
	}
	if !at.IsZero() {
		r.e.Time, r.bucket = at.UTC(), BucketOf(at)
	}
	if fp != e.Fingerprint {
		return true, nil
	}
	// A repeat: the first copy stands. Its row is written only if an
	// earlier append stopped before writing it.
	var id [16]byte
	err := t.read(t.session.Query(`SELECT id FROM events WHERE client_id = ? AND bucket = ? AND time = ? AND id = ?`,
		[16]byte(e.ClientID), r.bucket, r.e.Time, [16]byte(e.ID))).ScanContext(ctx, &id)
	switch {
	case err == nil:
		r.stored = true
	case !errors.Is(err, gocql.ErrNotFound):
		return false, err
	}
	return true, nil
}

// uuidOf reads a uuid column from a row scanned into a map.
func uuidOf(v any) (uuid.UUID, bool) {
	switch v := v.(type) {
	case gocql.UUID:
		return uuid.UUID(v), true
	case [16]byte:
		return v, true
	}
	return uuid.Nil, false
}

// row is a prepared event on its way to the events table.
type row struct {
	e         *store.Event
	bucket    int
	sentiment string
	attrs     string
	size      int  // rough encoded size, for cutting batches
	stored    bool // a repeat whose row is stored: only its index rows are written
}

func (r *row) args() []any {
	e := r.e
	return []any{[16]byte(e.ClientID), r.bucket, e.Time, [16]byte(e.ID), string(e.Kind), e.Source, e.SourceID,
		e.Actor, e.Summary, e.Body, e.Truncated, r.sentiment, r.attrs}
}

// prepareRows prepares and encodes events. Several events with one id in
// one call are one row when their content agrees; otherwise the later ones
// are returned as conflicts.
func prepareRows(events []*store.Event) ([]*row, []*store.Event, error) {
	rows := make([]*row, 0, len(events))
	index := make(map[uuid.UUID]int, len(events))
	var conflicts []*store.Event
	for _, in := range events {
		if in == nil {
			return nil, nil, store.Invalid("event", "nil event")
		}
		e := *in
		if err := e.Prepare(); err != nil {
			return nil, nil, err
		}
		if err := checkTime(e.Time); err != nil {
			return nil, nil, err
		}
		if i, dup := index[e.ID]; dup {
			if first := rows[i].e; e.Against(first.ClientID, first.Fingerprint) != store.RepeatSame {
				conflicts = append(conflicts, &e)
			}
			continue
		}
		r := &row{e: &e, bucket: BucketOf(e.Time)}
		attrs, err := json.Marshal(e.Attrs)
		if err != nil {
			return nil, nil, store.Invalid("attrs", "cannot be encoded: %v", err)
		}
		r.attrs = string(attrs)
		if e.Sentiment != nil {
			s, _ := json.Marshal(e.Sentiment) // a float and a string: cannot fail
			r.sentiment = string(s)
		}
		r.size = 128 + len(e.Source) + len(e.SourceID) + len(e.Actor) + len(e.Summary) + len(e.Body) + len(r.attrs)
		index[e.ID] = len(rows)
		rows = append(rows, r)
	}
	return rows, conflicts, nil
}

func entry(stmt string, args ...any) gocql.BatchEntry {
	return gocql.BatchEntry{Stmt: stmt, Args: args, Idempotent: true}
}

// run executes each group of statements as one unlogged batch (or a plain
// query when alone, which is less work for Cassandra), at most maxInFlight at
// a time; it returns the first error.
func (t *Timeline) run(ctx context.Context, batches [][]gocql.BatchEntry) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, entries := range batches {
		g.Go(func() error {
			if len(entries) == 1 {
				return t.session.Query(entries[0].Stmt, entries[0].Args...).ExecContext(gctx)
			}
			b := t.session.Batch(gocql.UnloggedBatch)
			b.Entries = entries
			return b.ExecContext(gctx)
		})
	}
	return g.Wait()
}

// Events implements store.TimelineStore. It walks the client's months newest
// first (client_buckets, one small read) and reads each month's partition
// with a LIMIT of what the page still misses, stopping once it has the page
// plus one row, which tells whether there is a next page. The partition the
// page most likely starts in (the cursor's, else the current month) is read
// at the same time as client_buckets, so the newest page of an active client
// costs one round trip.
func (t *Timeline) Events(ctx context.Context, clientID uuid.UUID, q store.EventQuery) (store.EventPage, error) {
	limit := store.PageLimit(q.Limit)
	kinds, err := kindFilter(q.Kinds)
	if err != nil {
		return store.EventPage{}, err
	}
	var after *position
	if q.Cursor != "" {
		p, err := decodeCursor(q.Cursor)
		if err != nil {
			return store.EventPage{}, err
		}
		after = &p
	}
	// Stored times are whole milliseconds: round bounds up so that "time >=
	// since" and "time < until" mean the same in milliseconds as in time.Time.
	f := filter{since: ceilMilli(q.Since), until: ceilMilli(q.Until), kinds: kinds}
	lo, hi := minBucket, maxBucket
	if !f.since.IsZero() {
		lo = max(lo, clampBucket(f.since))
	}
	if !f.until.IsZero() {
		if !f.since.IsZero() && !f.since.Before(f.until) {
			return store.EventPage{}, nil
		}
		hi = min(hi, clampBucket(f.until.Add(-time.Millisecond)))
	}
	if after != nil {
		hi = min(hi, after.bucket)
	}
	if lo > hi {
		return store.EventPage{}, nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops a prefetch nobody needs
	// The partition read first: where the cursor stopped, or this month's.
	// Every other partition is read from its newest event.
	guess := min(hi, max(lo, BucketOf(time.Now())))
	if after != nil {
		guess = after.bucket
	}
	prefetch := t.prefetch(ctx, clientID, guess, after, f, limit+1)

	var out []*store.Event
	buckets := t.read(t.session.Query(selectBuckets, [16]byte(clientID), lo, hi)).IterContext(ctx)
	var b int
	for len(out) <= limit && buckets.Scan(&b) {
		need := limit + 1 - len(out)
		var rows []*store.Event
		var err error
		if b == guess {
			// Same partition, same start: the prefetched rows are what this
			// read would return (it asked for at least as many).
			r := <-prefetch
			rows, err = r.rows[:min(need, len(r.rows))], r.err
		} else {
			rows, err = t.readBucket(ctx, clientID, b, nil, f, need)
		}
		if err != nil {
			buckets.Close()
			return store.EventPage{}, mapErr("read events", err)
		}
		out = append(out, rows...)
	}
	if err := buckets.Close(); err != nil {
		return store.EventPage{}, mapErr("read buckets", err)
	}
	page := store.EventPage{Events: out}
	if len(out) > limit {
		last := out[limit-1]
		page.Events = out[:limit]
		page.Next = encodeCursor(position{bucket: BucketOf(last.Time), time: last.Time, id: last.ID})
	}
	return page, nil
}

type filter struct {
	since, until time.Time
	kinds        []string
}

type readResult struct {
	rows []*store.Event
	err  error
}

// prefetch starts reading n rows of one partition, after from, and delivers
// them on the returned channel, which is buffered so that the read never
// waits for a reader that decided it did not need it.
func (t *Timeline) prefetch(ctx context.Context, client uuid.UUID, bucket int, from *position, f filter, n int) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		rows, err := t.readBucket(ctx, client, bucket, from, f, n)
		ch <- readResult{rows, err}
	}()
	return ch
}

// readBucket reads up to n events of one partition, newest first, after from
// (when the page resumes in this partition) and within the filter.
func (t *Timeline) readBucket(ctx context.Context, client uuid.UUID, bucket int, from *position, f filter, n int) ([]*store.Event, error) {
	var cql strings.Builder
	cql.WriteString(`SELECT ` + eventColumns + ` FROM events WHERE client_id = ? AND bucket = ?`)
	args := []any{[16]byte(client), bucket}
	switch {
	case from != nil:
		// (time, id) < (t, id) resumes exactly after the last row, even
		// among thousands of events sharing one millisecond. The cursor's
		// time is below until already.
		cql.WriteString(` AND (time, id) < (?, ?)`)
		args = append(args, from.time, [16]byte(from.id))
	case !f.until.IsZero():
		cql.WriteString(` AND time < ?`)
		args = append(args, f.until)
	}
	if !f.since.IsZero() {
		cql.WriteString(` AND time >= ?`)
		args = append(args, f.since)
	}
	if f.kinds != nil {
		cql.WriteString(` AND kind IN ?`)
		args = append(args, f.kinds)
	}
	cql.WriteString(` LIMIT ?`)
	args = append(args, n)
	if f.kinds != nil {
		// Filtering within one partition: the replica skips other kinds
		// itself instead of shipping them to us.
		cql.WriteString(` ALLOW FILTERING`)
	}
	iter := t.read(t.session.Query(cql.String(), args...).PageSize(n)).IterContext(ctx)
	var out []*store.Event
	for {
		e, ok := scanEvent(iter, client)
		if !ok {
			break
		}
		out = append(out, e)
	}
	return out, iter.Close()
}

// Event implements store.TimelineStore: the id's claim on this client (its
// time and fingerprint), then the row itself. ENOTFOUND when either is
// missing, so another client's event is not found either.
func (t *Timeline) Event(ctx context.Context, clientID, id uuid.UUID) (*store.Event, error) {
	var (
		at          time.Time
		fingerprint string
	)
	err := t.read(t.session.Query(selectClaim, [16]byte(clientID), [16]byte(id))).ScanContext(ctx, &at, &fingerprint)
	if errors.Is(err, gocql.ErrNotFound) {
		return nil, store.Errorf(store.ENOTFOUND, "no event %s on this timeline", id)
	} else if err != nil {
		return nil, mapErr("read event", err)
	}
	iter := t.read(t.session.Query(selectEvent, [16]byte(clientID), BucketOf(at), at, [16]byte(id))).IterContext(ctx)
	e, ok := scanEvent(iter, clientID)
	if err := iter.Close(); err != nil {
		return nil, mapErr("read event", err)
	}
	if !ok {
		// Claimed by an append that has not written its rows (yet).
		return nil, store.Errorf(store.ENOTFOUND, "no event %s on this timeline", id)
	}
	e.Fingerprint = fingerprint
	return e, nil
}

// scanEvent reads the next row of iter, in eventColumns order.
func scanEvent(iter *gocql.Iter, client uuid.UUID) (*store.Event, bool) {
	var (
		e         = &store.Event{ClientID: client}
		id        [16]byte
		kind      string
		sentiment string
		attrs     string
	)
	if !iter.Scan(&e.Time, &id, &kind, &e.Source, &e.SourceID, &e.Actor, &e.Summary, &e.Body, &e.Truncated, &sentiment, &attrs) {
		return nil, false
	}
	e.ID, e.Kind, e.Time = id, store.Kind(kind), e.Time.UTC()
	// Values written by a newer version may carry fields this one does not
	// know; they are dropped, not an error.
	if sentiment != "" {
		e.Sentiment = new(store.Sentiment)
		_ = json.Unmarshal([]byte(sentiment), e.Sentiment)
	}
	if attrs != "" {
		_ = json.Unmarshal([]byte(attrs), &e.Attrs)
	}
	return e, true
}

// kindFilter checks the kinds of a query and returns them for "kind IN ?",
// or nil when they do not narrow anything.
func kindFilter(kinds []store.Kind) ([]string, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	var out []string
	for _, k := range kinds {
		pk, err := store.ParseKind(string(k))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, string(pk)) {
			out = append(out, string(pk))
		}
	}
	if len(out) == len(store.Kinds) {
		return nil, nil
	}
	return out, nil
}

func ceilMilli(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	c := t.Truncate(time.Millisecond)
	if c.Before(t) {
		c = c.Add(time.Millisecond)
	}
	return c.UTC()
}

// clampBucket is BucketOf for query bounds, which may lie outside the years
// an event can have.
func clampBucket(t time.Time) int {
	switch y := t.UTC().Year(); {
	case y < minYear:
		return minBucket
	case y > maxYear:
		return maxBucket
	}
	return BucketOf(t)
}
