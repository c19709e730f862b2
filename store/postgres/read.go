package postgres

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

// Each lookup is one statement and one round trip: the row carries the whole
// profile, so nothing is fetched from the email, phone or tag tables.
const (
	clientByIDSQL      = `SELECT ` + clientColumns + ` FROM clients c WHERE c.id = $1`
	clientByHandleSQL  = `SELECT ` + clientColumns + ` FROM clients c WHERE c.handle = $1`
	clientByEmailSQL   = `SELECT ` + clientColumns + ` FROM client_emails e JOIN clients c ON c.id = e.client_id WHERE e.address = $1`
	clientByPhoneSQL   = `SELECT ` + clientColumns + ` FROM client_phones p JOIN clients c ON c.id = p.client_id WHERE p.number = $1`
	clientByAccountSQL = `SELECT ` + clientColumns + ` FROM client_accounts a JOIN clients c ON c.id = a.client_id WHERE a.account = $1`
)

// Client returns the client with the given id (ENOTFOUND if none).
func (db *DB) Client(ctx context.Context, id uuid.UUID) (*store.Client, error) {
	return db.one(ctx, clientByIDSQL, pgUUID(id), "id", id.String())
}

// ClientByHandle returns the client with the given handle, in any case.
func (db *DB) ClientByHandle(ctx context.Context, handle string) (*store.Client, error) {
	h := strings.ToLower(strings.TrimSpace(handle))
	return db.one(ctx, clientByHandleSQL, h, "handle", h)
}

// ClientByEmail returns the client with the given address, written in any
// case and with or without a display name ("Jane <jane@acme.com>").
func (db *DB) ClientByEmail(ctx context.Context, addr string) (*store.Client, error) {
	a, err := store.NormalizeEmail(addr)
	if err != nil {
		// A malformed address belongs to nobody; say so rather than EINVALID,
		// because "who is this?" is the question being asked.
		return nil, notFound("email", strings.TrimSpace(addr))
	}
	return db.one(ctx, clientByEmailSQL, a, "email", a)
}

// ClientByPhone returns the client with the given number, in any format that
// normalises to the same E.164 number.
func (db *DB) ClientByPhone(ctx context.Context, number string) (*store.Client, error) {
	n, err := store.NormalizePhone(number)
	if err != nil {
		return nil, notFound("phone", strings.TrimSpace(number))
	}
	return db.one(ctx, clientByPhoneSQL, n, "phone", n)
}

// ClientByAccount returns the client with the given order-system account
// number, in any case.
func (db *DB) ClientByAccount(ctx context.Context, account string) (*store.Client, error) {
	a, err := store.NormalizeAccount(account)
	if err != nil {
		return nil, notFound("account", strings.TrimSpace(account))
	}
	return db.one(ctx, clientByAccountSQL, a, "account", a)
}

func (db *DB) one(ctx context.Context, query string, arg any, what, value string) (*store.Client, error) {
	c, err := scanClient(db.pool.QueryRow(ctx, query, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(what, value)
	}
	if err != nil {
		return nil, mapError("read client", err)
	}
	return c, nil
}

const (
	defaultFindLimit  = 50
	maxFindLimit      = 1000
	defaultAuditLimit = 100
	allClientsPage    = 500
)

// FindClients returns the clients whose handle, name or company contains
// f.Text (ignoring case) within f's scope, ordered by handle, at most 1,000 at
// a time. A non-nil but empty f.Teams matches no desk, so someone on no desk
// sees nobody. EINVALID for a malformed f.Tag.
func (db *DB) FindClients(ctx context.Context, f store.ClientFilter) ([]*store.Client, error) {
	if f.Teams != nil && len(f.Teams) == 0 {
		return nil, nil
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if text := strings.ToLower(strings.TrimSpace(f.Text)); text != "" {
		where = append(where, `c.search LIKE `+arg("%"+escapeLike(text)+"%"))
	}
	if f.Teams != nil {
		where = append(where, `c.team = ANY(`+arg(f.Teams)+`)`)
	}
	if f.Broker != "" {
		where = append(where, `c.broker = `+arg(f.Broker))
	}
	if f.Tag != "" {
		tag, err := store.NormalizeTag(f.Tag)
		if err != nil {
			return nil, err
		}
		where = append(where, `EXISTS (SELECT 1 FROM client_tags t WHERE t.client_id = c.id AND t.tag = `+arg(tag)+`)`)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultFindLimit
	}
	limit = min(limit, maxFindLimit)
	// Pick the page from the indexes alone (the handle index carries every
	// column filtered on), then read the full rows of that page only.
	q := `SELECT c.id, c.handle FROM clients c`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY c.handle LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(f.Offset, 0))
	q = `SELECT ` + clientColumns + ` FROM (` + q + `) hit JOIN clients c ON c.id = hit.id ORDER BY c.handle`
	// Planned for the actual text every time: which index serves a search
	// depends on it (a short or common text walks the handle index, a
	// selective one uses the trigram index), and a cached generic plan
	// would choose once for all of them.
	return db.many(ctx, "find clients", q, append([]any{pgx.QueryExecModeExec}, args...)...)
}

// escapeLike makes s match literally inside a LIKE pattern, whose default
// escape character is the backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (db *DB) many(ctx context.Context, what, query string, args ...any) ([]*store.Client, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, mapError(what, err)
	}
	defer rows.Close()
	var out []*store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, mapError(what, err)
		}
		out = append(out, c)
	}
	return out, mapError(what, rows.Err())
}

// AllClients yields every client ordered by handle. It reads in pages keyed
// on the last handle seen rather than holding one cursor open, so a slow
// consumer (an export streamed to a broker) ties up no connection or
// transaction in between; a client renamed during the export may be missed
// or seen twice.
func (db *DB) AllClients(ctx context.Context) iter.Seq2[*store.Client, error] {
	const q = `SELECT ` + clientColumns + ` FROM clients c WHERE c.handle > $1 ORDER BY c.handle LIMIT $2`
	return func(yield func(*store.Client, error) bool) {
		after := ""
		for {
			page, err := db.many(ctx, "list clients", q, after, allClientsPage)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			if len(page) < allClientsPage {
				return
			}
			after = page[len(page)-1].Handle
		}
	}
}

// AuditTrail returns the client's changes, newest first (at most limit, 100
// when limit is 0). A client with no trail, or no such client, gives none.
func (db *DB) AuditTrail(ctx context.Context, id uuid.UUID, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	rows, err := db.pool.Query(ctx, `SELECT client_id, at, actor, field, old_value, new_value
		FROM client_audit WHERE client_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, pgUUID(id), limit)
	if err != nil {
		return nil, mapError("read audit trail", err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := row.Scan((*[16]byte)(&e.ClientID), &e.At, &e.Actor, &e.Field, &e.Old, &e.New)
		e.At = e.At.UTC()
		return e, err
	})
	return entries, mapError("read audit trail", err)
}
