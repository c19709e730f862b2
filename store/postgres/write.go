package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/brokersync/brokersync/store"
)

// CreateClient validates c, gives it an id and stores it with one audit entry
// recording who created it (field "handle", (none) -> the handle).
// EINVALID for a bad field; ECONFLICT naming the field, the value and the
// client that has it for a taken handle, email, phone or account number.
func (db *DB) CreateClient(ctx context.Context, c *store.Client, actor string) error {
	var w writeSet
	if err := w.addNew(db.cat, c, actor, db.clock()); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		w.queue(b)
		return tx.SendBatch(ctx, b).Close()
	})
	return db.writeError(ctx, "create client", err, []*store.Client{c}, nil)
}

// UpdateClient locks the client's row, applies change to a copy, validates
// it and writes the new profile, the contact rows that changed and one audit
// entry per changed field, all in one transaction; concurrent updates of the
// same client queue on the lock, so none is lost. An error from change is
// returned as is and nothing is written; so is an update that changes nothing.
func (db *DB) UpdateClient(ctx context.Context, id uuid.UUID, actor string, change func(*store.Client) error) (*store.Client, []store.Change, error) {
	var (
		after     *store.Client
		changes   []store.Change
		changeErr error
	)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var row clientRow
		if err := row.scan(tx.QueryRow(ctx, clientByIDSQL+` FOR UPDATE`, pgUUID(id))); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("id", id.String())
			}
			return err
		}
		before, err := row.decode()
		if err != nil {
			return err
		}
		if after, err = row.decode(); err != nil {
			return err
		}
		if err := change(after); err != nil {
			changeErr = err
			return err
		}
		// Identity and bookkeeping belong to the store, whatever change did.
		after.ID, after.CreatedAt = before.ID, before.CreatedAt
		after.UpdatedAt, after.Version, after.StageChangedAt = before.UpdatedAt, before.Version, before.StageChangedAt
		if err := after.Validate(db.cat); err != nil {
			return err
		}
		if changes = store.Diff(before, after); len(changes) == 0 {
			after = before
			return nil
		}
		now := db.clock()
		if after.Stage != before.Stage {
			after.StageChangedAt = now
		}
		after.UpdatedAt, after.Version = now, before.Version+1
		b := &pgx.Batch{}
		if err := queueUpdate(b, before, after, actor, changes); err != nil {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if changeErr != nil {
		return nil, nil, changeErr
	}
	if err != nil {
		var cs []*store.Client
		if after != nil {
			cs = []*store.Client{after}
		}
		return nil, nil, db.writeError(ctx, "update client", err, cs, nil)
	}
	return after, changes, nil
}

// clock returns the time to record, at the microsecond precision PostgreSQL
// keeps, so that what a write returns equals what a later read returns.
func (db *DB) clock() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// writeError maps the error of a write. A unique violation aborts the
// transaction before we learn whose value it was, so it is explained
// afterwards by looking up the owners of the values being written.
func (db *DB) writeError(ctx context.Context, what string, err error, cs []*store.Client, wrap func(err error, i int, handle string) error) error {
	if err == nil || !isUniqueViolation(err) {
		return mapError(what, err)
	}
	i, e := db.explainConflict(ctx, cs)
	if e == nil {
		// The owner went away in between; report the conflict without a name.
		return mapError(what, err)
	}
	if wrap != nil {
		return wrap(e, i, cs[i].Handle)
	}
	return e
}

// explainConflict finds the first of cs whose handle, email, phone or
// account number another client holds, and returns its index and an
// ECONFLICT naming the field and the value, carrying the holder. It returns a nil
// error if it finds none.
func (db *DB) explainConflict(ctx context.Context, cs []*store.Client) (int, *store.Error) {
	var handles, emails, phones, accounts []string
	for _, c := range cs {
		handles = append(handles, c.Handle)
		accounts = append(accounts, c.Accounts...)
		for _, e := range c.Emails {
			emails = append(emails, e.Address)
		}
		for _, p := range c.Phones {
			phones = append(phones, p.Number)
		}
	}
	rows, err := db.pool.Query(ctx, `
		SELECT 'handle', c.handle, c.id, c.handle, c.team FROM clients c WHERE c.handle = ANY($1)
		UNION ALL
		SELECT 'email', e.address, c.id, c.handle, c.team FROM client_emails e JOIN clients c ON c.id = e.client_id WHERE e.address = ANY($2)
		UNION ALL
		SELECT 'phone', p.number, c.id, c.handle, c.team FROM client_phones p JOIN clients c ON c.id = p.client_id WHERE p.number = ANY($3)
		UNION ALL
		SELECT 'account', a.account, c.id, c.handle, c.team FROM client_accounts a JOIN clients c ON c.id = a.client_id WHERE a.account = ANY($4)`,
		handles, emails, phones, accounts)
	if err != nil {
		return 0, nil
	}
	held := map[string]store.Holder{}
	for rows.Next() {
		var kind, value string
		var h store.Holder
		if rows.Scan(&kind, &value, (*[16]byte)(&h.ID), &h.Handle, &h.Team) == nil {
			held[kind+"\x00"+value] = h
		}
	}
	rows.Close()
	taken := func(c *store.Client, kind, value string) (store.Holder, bool) {
		h, ok := held[kind+"\x00"+value]
		return h, ok && h.ID != c.ID
	}
	for i, c := range cs {
		if h, ok := taken(c, "handle", c.Handle); ok {
			return i, store.Taken("handle", "handle", c.Handle, h)
		}
		for _, e := range c.Emails {
			if h, ok := taken(c, "email", e.Address); ok {
				return i, store.Taken("email."+string(e.Kind), "email", e.Address, h)
			}
		}
		for _, p := range c.Phones {
			if h, ok := taken(c, "phone", p.Number); ok {
				return i, store.Taken("phone."+string(p.Kind), "phone", p.Number, h)
			}
		}
		for _, a := range c.Accounts {
			if h, ok := taken(c, "account", a); ok {
				return i, store.Taken("accounts", "account", a, h)
			}
		}
	}
	return 0, nil
}

// The tables a write touches, with their columns in the order writeSet's
// rows hold them.
var (
	clientsTable = table{"clients", []string{"id", "handle", "name", "company", "broker", "team", "stage",
		"stage_changed_at", "risk_tolerance", "horizon", "search", "profile", "created_at", "updated_at", "version", "commodities"}}
	emailsTable   = table{"client_emails", []string{"address", "client_id", "kind"}}
	phonesTable   = table{"client_phones", []string{"number", "client_id", "kind"}}
	accountsTable = table{"client_accounts", []string{"account", "client_id"}}
	tagsTable     = table{"client_tags", []string{"client_id", "tag"}}
	auditTable    = table{"client_audit", []string{"client_id", "at", "actor", "field", "old_value", "new_value"}}
)

type table struct {
	name    string
	columns []string
}

// updateSQL sets every column but the first, the key, from the same
// parameters as insertSQL's.
func (t table) updateSQL() string {
	set := make([]string, len(t.columns)-1)
	for i, c := range t.columns[1:] {
		set[i] = fmt.Sprintf("%s = $%d", c, i+2)
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE %s = $1", t.name, strings.Join(set, ", "), t.columns[0])
}

func (t table) insertSQL() string {
	params := make([]string, len(t.columns))
	for i := range params {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", t.name, strings.Join(t.columns, ", "), strings.Join(params, ", "))
}

// writeSet collects the rows that storing new clients adds, table by table,
// so that one client is written with a batch of INSERTs in one round trip and
// an import with one COPY per table.
type writeSet struct {
	clients, emails, phones, accounts, tags, audit [][]any
}

// addNew validates c against cat, completes it as a new client and adds its rows.
func (w *writeSet) addNew(cat *store.Catalogue, c *store.Client, actor string, now time.Time) error {
	if err := c.Validate(cat); err != nil {
		return err
	}
	id, err := uuid.NewV7() // time-ordered, so new rows land at the end of the primary key index
	if err != nil {
		return store.Internal("make client id", err)
	}
	c.ID, c.CreatedAt, c.UpdatedAt, c.Version = id, now, now, 1
	if c.StageChangedAt.IsZero() {
		c.StageChangedAt = now
	}
	c.StageChangedAt = c.StageChangedAt.UTC().Truncate(time.Microsecond)
	row, err := clientValues(c)
	if err != nil {
		return err
	}
	w.clients = append(w.clients, row)
	w.addContacts(c)
	w.audit = append(w.audit, []any{pgUUID(c.ID), now, actor, "handle", "", c.Handle})
	return nil
}

func (w *writeSet) addContacts(c *store.Client) {
	for _, e := range c.Emails {
		w.emails = append(w.emails, []any{e.Address, pgUUID(c.ID), string(e.Kind)})
	}
	for _, p := range c.Phones {
		w.phones = append(w.phones, []any{p.Number, pgUUID(c.ID), string(p.Kind)})
	}
	for _, a := range c.Accounts {
		w.accounts = append(w.accounts, []any{a, pgUUID(c.ID)})
	}
	for _, t := range c.Tags {
		w.tags = append(w.tags, []any{pgUUID(c.ID), t})
	}
}

func clientValues(c *store.Client) ([]any, error) {
	doc, err := json.Marshal(profileOf(c))
	if err != nil {
		return nil, store.Internal("encode profile", err)
	}
	return []any{pgUUID(c.ID), c.Handle, c.Name, c.Company, c.Broker, c.Team, string(c.Stage),
		c.StageChangedAt, c.Risk.Tolerance, string(c.Risk.Horizon), searchText(c), doc,
		c.CreatedAt, c.UpdatedAt, c.Version, append([]string{}, c.Trading.Commodities...)}, nil
}

type tableRows struct {
	table
	rows [][]any
}

// tables lists the rows by table, clients first so that the foreign keys of
// the rest hold.
func (w *writeSet) tables() []tableRows {
	return []tableRows{{clientsTable, w.clients}, {emailsTable, w.emails}, {phonesTable, w.phones},
		{accountsTable, w.accounts}, {tagsTable, w.tags}, {auditTable, w.audit}}
}

// queue adds an INSERT per row to b.
func (w *writeSet) queue(b *pgx.Batch) {
	for _, t := range w.tables() {
		queueRows(b, t.table, t.rows)
	}
}

// copy loads every table with COPY, the fastest way in for many rows.
func (w *writeSet) copy(ctx context.Context, tx pgx.Tx) error {
	for _, t := range w.tables() {
		if len(t.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromRows(t.rows)); err != nil {
			return err
		}
	}
	return nil
}

// queueUpdate adds to b the statements that turn before into after: the
// client row, the contact, account and tag rows only when they changed, and
// the audit entries.
func queueUpdate(b *pgx.Batch, before, after *store.Client, actor string, changes []store.Change) error {
	row, err := clientValues(after)
	if err != nil {
		return err
	}
	b.Queue(clientsTable.updateSQL(), row...)
	var w writeSet
	w.addContacts(after)
	for _, t := range []struct {
		changed bool
		tableRows
	}{
		{!slices.Equal(before.Emails, after.Emails), tableRows{emailsTable, w.emails}},
		{!slices.Equal(before.Phones, after.Phones), tableRows{phonesTable, w.phones}},
		{!slices.Equal(before.Accounts, after.Accounts), tableRows{accountsTable, w.accounts}},
		{!slices.Equal(before.Tags, after.Tags), tableRows{tagsTable, w.tags}},
	} {
		if t.changed {
			b.Queue(`DELETE FROM `+t.name+` WHERE client_id = $1`, pgUUID(after.ID))
			queueRows(b, t.table, t.rows)
		}
	}
	// The trail is read newest first and by id within one instant; queueing
	// the changes backwards lists one update's fields in name order.
	for _, ch := range slices.Backward(changes) {
		b.Queue(auditTable.insertSQL(), pgUUID(after.ID), after.UpdatedAt, actor, ch.Field, ch.Old, ch.New)
	}
	return nil
}

func queueRows(b *pgx.Batch, t table, rows [][]any) {
	q := t.insertSQL()
	for _, r := range rows {
		b.Queue(q, r...)
	}
}
