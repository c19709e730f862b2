package postgres

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

// importChunk is how many clients an import validates while the previous
// chunk is being copied into the database. Tests make it small.
var importChunk = 5000

// ImportClients stores all of cs or none of them, in one transaction that
// loads each table with COPY. Validation (parsing phone numbers above all) is
// a large share of the work, so the clients are validated a chunk ahead, on
// every core, while the database takes in the chunk before.
//
// An error about one client names it and its position in cs: an invalid
// field, or a handle, email, phone or account number that two clients of
// the batch share or that an existing client has. On success every client
// carries its id.
func (db *DB) ImportClients(ctx context.Context, cs []*store.Client, actor string) error {
	if len(cs) == 0 {
		return nil
	}
	now := db.clock()
	sent := 0 // clients validated and sent to the database, for explaining a conflict
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		chunks, stop := prepareChunks(db.cat, cs, actor, now)
		defer stop()
		for c := range chunks {
			if c.err != nil {
				return c.err
			}
			sent = c.end
			if err := c.w.copy(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	return db.writeError(ctx, "import clients", err, cs[:sent], store.InImport)
}

type preparedChunk struct {
	w   *writeSet
	end int // index in cs after the chunk's last client
	err error
}

// prepareChunks validates cs chunk by chunk on another goroutine, one chunk
// ahead of the reader, and checks that no two clients of the import share a
// handle, email, phone or account number. It stops after the first error,
// which it sends. stop ends the work early and returns once nothing touches
// cs any more.
func prepareChunks(cat *store.Catalogue, cs []*store.Client, actor string, now time.Time) (<-chan preparedChunk, func()) {
	out := make(chan preparedChunk) // unbuffered: exactly one chunk ahead
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(out)
		seen := batchIndex{}
		for lo := 0; lo < len(cs); lo += importChunk {
			hi := min(lo+importChunk, len(cs))
			w, err := prepareImport(cat, cs, lo, hi, actor, now)
			if err == nil {
				err = seen.add(cs, lo, hi)
			}
			select {
			case out <- preparedChunk{w, hi, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	})
	var once sync.Once
	return out, func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// prepareImport validates (against cat) and encodes cs[lo:hi] on every core. Each worker
// takes a contiguous run, so the error reported is that of the first bad
// client.
func prepareImport(cat *store.Catalogue, cs []*store.Client, lo, hi int, actor string, now time.Time) (*writeSet, error) {
	const minPerWorker = 500
	workers := max(1, min(runtime.GOMAXPROCS(0), (hi-lo)/minPerWorker))
	size := (hi - lo + workers - 1) / workers
	parts := make([]writeSet, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for p := range workers {
		wg.Go(func() {
			for i := lo + p*size; i < min(lo+(p+1)*size, hi); i++ {
				if err := parts[p].addNew(cat, cs[i], actor, now); err != nil {
					errs[p] = store.InImport(err, i, cs[i].Handle)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	w := &parts[0]
	for _, p := range parts[1:] {
		w.clients = append(w.clients, p.clients...)
		w.emails = append(w.emails, p.emails...)
		w.phones = append(w.phones, p.phones...)
		w.accounts = append(w.accounts, p.accounts...)
		w.tags = append(w.tags, p.tags...)
		w.audit = append(w.audit, p.audit...)
	}
	return w, nil
}

// batchIndex finds a handle, email, phone or account number given to two
// clients of one import, which the database would report without saying
// which two. It maps "handle", "email", "phone" or "accounts", a NUL and the
// value to the first client's index.
type batchIndex map[string]int

func (seen batchIndex) add(cs []*store.Client, lo, hi int) error {
	check := func(i int, field, value string) error {
		key := strings.SplitN(field, ".", 2)[0] + "\x00" + value
		j, dup := seen[key]
		if !dup {
			seen[key] = i
			return nil
		}
		return &store.Error{Code: store.ECONFLICT, Field: field, Message: fmt.Sprintf(
			"%s is given to both %s (#%d) and %s (#%d) in the import", value, cs[j].Handle, j+1, cs[i].Handle, i+1)}
	}
	for i := lo; i < hi; i++ {
		c := cs[i]
		if err := check(i, "handle", c.Handle); err != nil {
			return err
		}
		for _, e := range c.Emails {
			if err := check(i, "email."+string(e.Kind), e.Address); err != nil {
				return err
			}
		}
		for _, p := range c.Phones {
			if err := check(i, "phone."+string(p.Kind), p.Number); err != nil {
				return err
			}
		}
		for _, a := range c.Accounts {
			if err := check(i, "accounts", a); err != nil {
				return err
			}
		}
	}
	return nil
}
