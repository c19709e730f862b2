package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

var _ store.ClientStore = (*DB)(nil)

const selectProfile = `SELECT profile FROM clients `

// CreateClient implements store.ClientStore.
func (d *DB) CreateClient(ctx context.Context, c *store.Client, actor string) error {
	return d.ImportClients(ctx, []*store.Client{c}, actor)
}

// ImportClients implements store.ClientStore.
func (d *DB) ImportClients(ctx context.Context, cs []*store.Client, actor string) error {
	now := d.now().UTC().Truncate(time.Microsecond)
	// An error about one client of a batch names it.
	named := func(i int, err error) error {
		if len(cs) > 1 {
			return store.InImport(err, i, cs[i].Handle)
		}
		return err
	}
	for i, c := range cs {
		if err := c.Validate(d.cat); err != nil {
			return named(i, err)
		}
	}
	created := make([]store.Client, len(cs))
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		sc := newStmtCache(tx)
		batch := map[uuid.UUID]int{} // the clients of this import written so far
		for i, c := range cs {
			nc := *c
			nc.ID = uuid.New()
			nc.CreatedAt, nc.UpdatedAt, nc.Version = now, now, 1
			if nc.StageChangedAt.IsZero() {
				nc.StageChangedAt = now
			}
			if err := writeClient(ctx, sc, &nc, true); err != nil {
				var se *store.Error
				if errors.As(err, &se) && se.Holder != nil {
					if j, ok := batch[se.Holder.ID]; ok {
						// Both clients are the importer's own rows: name both.
						return &store.Error{Code: store.ECONFLICT, Field: se.Field, Message: fmt.Sprintf(
							"%s is given to both %s (#%d) and %s (#%d) in the import", se.Holder.Value, cs[j].Handle, j+1, nc.Handle, i+1)}
					}
				}
				return named(i, err)
			}
			batch[nc.ID] = i
			if err := audit(ctx, sc, nc.ID, now, actor, store.Change{Field: "handle", New: nc.Handle}); err != nil {
				return err
			}
			created[i] = nc
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, c := range cs {
		*c = created[i]
	}
	return nil
}

func audit(ctx context.Context, sc *stmtCache, id uuid.UUID, at time.Time, actor string, changes ...store.Change) error {
	for _, ch := range changes {
		if err := sc.exec(ctx, `INSERT INTO client_audit (client_id, at, actor, field, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?)`,
			id.String(), at.UnixMicro(), actor, ch.Field, ch.Old, ch.New); err != nil {
			return err
		}
	}
	return nil
}

// stmtCache prepares each statement once per transaction: an import of many
// clients runs the same few statements thousands of times.
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newStmtCache(tx *sql.Tx) *stmtCache { return &stmtCache{tx: tx, stmts: map[string]*sql.Stmt{}} }

func (sc *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := sc.stmts[query]; ok {
		return st, nil
	}
	st, err := sc.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	sc.stmts[query] = st
	return st, nil
}

func (sc *stmtCache) exec(ctx context.Context, query string, args ...any) error {
	st, err := sc.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return mapErr(err)
}

// writeClient stores c's row and its unique contact rows. Uniqueness is
// checked first so that a conflict names the field and carries the client
// holding the value.
func writeClient(ctx context.Context, sc *stmtCache, c *store.Client, insert bool) error {
	id := c.ID.String()
	taken := func(field, what, value, query string) error {
		st, err := sc.stmt(ctx, query)
		if err != nil {
			return err
		}
		var h store.Holder
		var hid string
		switch err := st.QueryRowContext(ctx, value, id).Scan(&hid, &h.Handle, &h.Team); err {
		case nil:
			if h.ID, err = uuid.Parse(hid); err != nil {
				return store.Internal("read a client id", err)
			}
			return store.Taken(field, what, value, h)
		case sql.ErrNoRows:
			return nil
		default:
			return mapErr(err)
		}
	}
	if err := taken("handle", "handle", c.Handle, `SELECT id, handle, team FROM clients WHERE handle = ? AND id <> ?`); err != nil {
		return err
	}
	for _, e := range c.Emails {
		if err := taken("email."+string(e.Kind), "email", e.Address, `SELECT c.id, c.handle, c.team FROM client_emails e JOIN clients c ON c.id = e.client_id WHERE e.address = ? AND e.client_id <> ?`); err != nil {
			return err
		}
	}
	for _, p := range c.Phones {
		if err := taken("phone."+string(p.Kind), "phone", p.Number, `SELECT c.id, c.handle, c.team FROM client_phones p JOIN clients c ON c.id = p.client_id WHERE p.number = ? AND p.client_id <> ?`); err != nil {
			return err
		}
	}
	for _, a := range c.Accounts {
		if err := taken("accounts", "account", a, `SELECT c.id, c.handle, c.team FROM client_accounts a JOIN clients c ON c.id = a.client_id WHERE a.account = ? AND a.client_id <> ?`); err != nil {
			return err
		}
	}
	profile, err := json.Marshal(c)
	if err != nil {
		return store.Internal("encode profile", err)
	}
	search := strings.ToLower(c.Handle + "\x00" + c.Name + "\x00" + c.Company)
	commodities, err := json.Marshal(append([]string{}, c.Trading.Commodities...))
	if err != nil {
		return store.Internal("encode commodities", err)
	}
	if insert {
		err = sc.exec(ctx, `INSERT INTO clients (id, handle, name, search, broker, team, stage, risk_tolerance, horizon, commodities, profile, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, c.Handle, c.Name, search, c.Broker, c.Team, string(c.Stage), c.Risk.Tolerance, string(c.Risk.Horizon), string(commodities), string(profile),
			c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro(), c.Version)
	} else {
		err = sc.exec(ctx, `UPDATE clients SET handle = ?, name = ?, search = ?, broker = ?, team = ?, stage = ?, risk_tolerance = ?,
			horizon = ?, commodities = ?, profile = ?, updated_at = ?, version = ? WHERE id = ?`,
			c.Handle, c.Name, search, c.Broker, c.Team, string(c.Stage), c.Risk.Tolerance, string(c.Risk.Horizon), string(commodities), string(profile),
			c.UpdatedAt.UnixMicro(), c.Version, id)
		for _, table := range []string{"client_emails", "client_phones", "client_accounts", "client_tags"} {
			if err == nil {
				err = sc.exec(ctx, `DELETE FROM `+table+` WHERE client_id = ?`, id)
			}
		}
	}
	if err != nil {
		return err
	}
	for _, e := range c.Emails {
		if err := sc.exec(ctx, `INSERT INTO client_emails (address, client_id, kind) VALUES (?, ?, ?)`, e.Address, id, string(e.Kind)); err != nil {
			return err
		}
	}
	for _, p := range c.Phones {
		if err := sc.exec(ctx, `INSERT INTO client_phones (number, client_id, kind) VALUES (?, ?, ?)`, p.Number, id, string(p.Kind)); err != nil {
			return err
		}
	}
	for _, a := range c.Accounts {
		if err := sc.exec(ctx, `INSERT INTO client_accounts (account, client_id) VALUES (?, ?)`, a, id); err != nil {
			return err
		}
	}
	for _, t := range c.Tags {
		if err := sc.exec(ctx, `INSERT INTO client_tags (client_id, tag) VALUES (?, ?)`, id, t); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) getClient(ctx context.Context, what, query string, args ...any) (*store.Client, error) {
	profile, err := loadProfile(ctx, d.db, what, query, args...)
	if err != nil {
		return nil, err
	}
	return decode(profile)
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadProfile reads the stored profile of the client query selects, which
// what describes for ENOTFOUND ("with id ...").
func loadProfile(ctx context.Context, q queryer, what, query string, args ...any) (string, error) {
	var profile string
	switch err := q.QueryRowContext(ctx, query, args...).Scan(&profile); {
	case errors.Is(err, sql.ErrNoRows):
		return "", store.Errorf(store.ENOTFOUND, "no client %s", what)
	case err != nil:
		return "", mapErr(err)
	}
	return profile, nil
}

func decode(profile string) (*store.Client, error) {
	var c store.Client
	if err := json.Unmarshal([]byte(profile), &c); err != nil {
		return nil, store.Internal("decode profile", err)
	}
	return &c, nil
}

// Client implements store.ClientStore.
func (d *DB) Client(ctx context.Context, id uuid.UUID) (*store.Client, error) {
	return d.getClient(ctx, "with id "+id.String(), selectProfile+`WHERE id = ?`, id.String())
}

// ClientByHandle implements store.ClientStore.
func (d *DB) ClientByHandle(ctx context.Context, handle string) (*store.Client, error) {
	h := strings.ToLower(strings.TrimSpace(handle))
	return d.getClient(ctx, fmt.Sprintf("with handle %q", h), selectProfile+`WHERE handle = ?`, h)
}

// ClientByEmail implements store.ClientStore.
func (d *DB) ClientByEmail(ctx context.Context, email string) (*store.Client, error) {
	a, err := store.NormalizeEmail(email)
	if err != nil {
		return nil, store.Errorf(store.ENOTFOUND, "no client with email %q", email)
	}
	return d.getClient(ctx, "with email "+a, selectProfile+`WHERE id = (SELECT client_id FROM client_emails WHERE address = ?)`, a)
}

// ClientByPhone implements store.ClientStore.
func (d *DB) ClientByPhone(ctx context.Context, phone string) (*store.Client, error) {
	n, err := store.NormalizePhone(phone)
	if err != nil {
		return nil, store.Errorf(store.ENOTFOUND, "no client with phone %q", phone)
	}
	return d.getClient(ctx, "with phone "+n, selectProfile+`WHERE id = (SELECT client_id FROM client_phones WHERE number = ?)`, n)
}

// ClientByAccount implements store.ClientStore.
func (d *DB) ClientByAccount(ctx context.Context, account string) (*store.Client, error) {
	a, err := store.NormalizeAccount(account)
	if err != nil {
		return nil, store.Errorf(store.ENOTFOUND, "no client with account %q", account)
	}
	return d.getClient(ctx, "with account "+a, selectProfile+`WHERE id = (SELECT client_id FROM client_accounts WHERE account = ?)`, a)
}

// FindClients implements store.ClientStore.
func (d *DB) FindClients(ctx context.Context, f store.ClientFilter) ([]*store.Client, error) {
	var where []string
	var args []any
	if text := strings.ToLower(strings.TrimSpace(f.Text)); text != "" {
		where = append(where, `instr(search, ?) > 0`)
		args = append(args, text)
	}
	if f.Teams != nil {
		if len(f.Teams) == 0 {
			return nil, nil
		}
		where = append(where, `team IN (?`+strings.Repeat(`, ?`, len(f.Teams)-1)+`)`)
		for _, t := range f.Teams {
			args = append(args, t)
		}
	}
	if f.Broker != "" {
		where = append(where, `broker = ?`)
		args = append(args, f.Broker)
	}
	if f.Tag != "" {
		tag, err := store.NormalizeTag(f.Tag)
		if err != nil {
			return nil, err
		}
		where = append(where, `id IN (SELECT client_id FROM client_tags WHERE tag = ?)`)
		args = append(args, tag)
	}
	q := selectProfile
	if len(where) > 0 {
		q += `WHERE ` + strings.Join(where, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q += ` ORDER BY handle LIMIT ? OFFSET ?`
	args = append(args, limit, f.Offset)
	return d.profiles(ctx, q, args...)
}

// profiles runs a query whose one column is a stored profile and decodes
// each row.
func (d *DB) profiles(ctx context.Context, query string, args ...any) ([]*store.Client, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.Client
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, mapErr(err)
		}
		c, err := decode(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// AllClients implements store.ClientStore. It reads in pages so that an
// export of many clients never holds the database open for long.
func (d *DB) AllClients(ctx context.Context) iter.Seq2[*store.Client, error] {
	return func(yield func(*store.Client, error) bool) {
		after := ""
		for {
			page, err := d.profiles(ctx, selectProfile+`WHERE handle > ? ORDER BY handle LIMIT 500`, after)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			if len(page) < 500 {
				return
			}
			after = page[len(page)-1].Handle
		}
	}
}

// UpdateClient implements store.ClientStore.
func (d *DB) UpdateClient(ctx context.Context, id uuid.UUID, actor string, change func(*store.Client) error) (*store.Client, []store.Change, error) {
	var updated *store.Client
	var changes []store.Change
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		profile, err := loadProfile(ctx, tx, "with id "+id.String(), selectProfile+`WHERE id = ?`, id.String())
		if err != nil {
			return err
		}
		// Two decodings of the stored profile: the one to change and the one
		// to diff against.
		before, err := decode(profile)
		if err != nil {
			return err
		}
		after, err := decode(profile)
		if err != nil {
			return err
		}
		if err := change(after); err != nil {
			return err
		}
		if err := after.Validate(d.cat); err != nil {
			return err
		}
		after.ID, after.CreatedAt = before.ID, before.CreatedAt
		changes = store.Diff(before, after)
		if len(changes) == 0 {
			updated = before
			return nil
		}
		now := d.now().UTC().Truncate(time.Microsecond)
		if after.Stage != before.Stage {
			after.StageChangedAt = now
		}
		after.UpdatedAt, after.Version = now, before.Version+1
		sc := newStmtCache(tx)
		if err := writeClient(ctx, sc, after, false); err != nil {
			return err
		}
		if err := audit(ctx, sc, id, now, actor, changes...); err != nil {
			return err
		}
		updated = after
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return updated, changes, nil
}

// AuditTrail implements store.ClientStore.
func (d *DB) AuditTrail(ctx context.Context, id uuid.UUID, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.db.QueryContext(ctx, `SELECT at, actor, field, old_value, new_value FROM client_audit
		WHERE client_id = ? ORDER BY at DESC, id DESC LIMIT ?`, id.String(), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e := store.AuditEntry{ClientID: id}
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Field, &e.Old, &e.New); err != nil {
			return nil, mapErr(err)
		}
		e.At = timeFromMicro(at)
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}
