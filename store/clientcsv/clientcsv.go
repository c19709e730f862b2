// Package clientcsv reads and writes client profiles as CSV.
//
// The header names profile fields exactly as `/client set` does (see
// store.FieldHelp): handle, name, company, phone.work, email.work,
// address.work.city, risk, goal.1.description, tags, ... Only handle and name
// are required as columns; columns may come in any order and unknown columns
// are an error, so a typo never silently drops data. Every client needs a
// desk (team) and a broker, from its row or from the Defaults: a client on no
// desk is seen by no broker. A file is accepted whole or not at all: the
// first bad row is reported with its line, field and value.
package clientcsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"regexp"
	"slices"
	"strings"

	"github.com/brokersync/brokersync/store"
)

// Defaults fill the team and broker of rows that leave them empty
// (brokersync import clients --team, --broker).
type Defaults struct {
	Team   string // a desk name
	Broker string // a Slack user id
}

var userIDRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,23}$`)

// Check normalises the defaults and checks their form.
func (d *Defaults) Check() error {
	if d.Team != "" {
		t, err := store.NormalizeHandle(d.Team)
		if err != nil {
			return store.Invalid("team", "%q is not a desk name: use lower-case letters, digits and dashes", d.Team)
		}
		d.Team = t
	}
	if d.Broker != "" && !userIDRE.MatchString(d.Broker) {
		return store.Invalid("broker", "%q is not a Slack user id (U0123ABCD)", d.Broker)
	}
	return nil
}

// Read parses a CSV of clients and validates every row (commodities
// against cat). Values that must be unique (handle, emails, phones) are
// also checked across the file. A row with no team or no broker takes d's,
// and is refused if d has none.
func Read(r io.Reader, d Defaults, cat *store.Catalogue) ([]*store.Client, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err == io.EOF {
		return nil, store.Invalid("csv", "the file is empty; the first line must be a header such as handle,name,email.work")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	for i, h := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !store.IsField(header[i]) {
			return nil, store.Invalid("csv", "line 1: unknown column %q", h)
		}
	}
	if !slices.Contains(header, "handle") || !slices.Contains(header, "name") {
		return nil, store.Invalid("csv", "line 1: the header needs handle and name columns")
	}
	// A goal exists once its description is set, so descriptions go first
	// whatever the column order.
	order := make([]int, len(header))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		da, db := strings.HasSuffix(header[a], ".description"), strings.HasSuffix(header[b], ".description")
		switch {
		case da && !db:
			return -1
		case db && !da:
			return 1
		}
		return 0
	})
	var clients []*store.Client
	seen := map[string]int{} // unique value -> line
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		c := &store.Client{}
		for _, i := range order {
			v := rec[i]
			if v == "" {
				continue
			}
			if err := store.SetField(c, header[i], v); err != nil {
				return nil, lineErr(line, err)
			}
		}
		if err := deskAndBroker(c, d); err != nil {
			return nil, lineErr(line, err)
		}
		if err := c.Validate(cat); err != nil {
			return nil, lineErr(line, err)
		}
		unique := []struct{ field, value string }{{"handle", c.Handle}}
		for _, e := range c.Emails {
			unique = append(unique, struct{ field, value string }{"email." + string(e.Kind), e.Address})
		}
		for _, p := range c.Phones {
			unique = append(unique, struct{ field, value string }{"phone." + string(p.Kind), p.Number})
		}
		for _, u := range unique {
			if prev, ok := seen[u.value]; ok {
				return nil, lineErr(line, store.Conflict(u.field, "%s is also on line %d", u.value, prev))
			}
			seen[u.value] = line
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// deskAndBroker gives c the defaults' team and broker where it has none,
// and checks both.
func deskAndBroker(c *store.Client, d Defaults) error {
	if c.Team == "" {
		if d.Team == "" {
			return store.Invalid("team", "the row has no desk: fill the team column, or give --team DESK for rows without one (a client on no desk is seen by no broker)")
		}
		c.Team = d.Team
	}
	t, err := store.NormalizeHandle(c.Team)
	if err != nil {
		return store.Invalid("team", "%q is not a desk name: use lower-case letters, digits and dashes", c.Team)
	}
	c.Team = t
	if c.Broker == "" {
		if d.Broker == "" {
			return store.Invalid("broker", "the row has no broker: fill the broker column with a Slack user id, or give --broker U0123ABCD for rows without one")
		}
		c.Broker = d.Broker
	}
	if !userIDRE.MatchString(c.Broker) {
		return store.Invalid("broker", "%q is not a Slack user id (U0123ABCD)", c.Broker)
	}
	return nil
}

func lineErr(line int, err error) error {
	var se *store.Error
	if errors.As(err, &se) {
		e := *se
		e.Message = fmt.Sprintf("line %d: %s", line, prefixField(se))
		e.Field = ""
		return &e
	}
	return fmt.Errorf("line %d: %w", line, err)
}

func prefixField(e *store.Error) string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return store.Invalid("csv", "line %d: %v", pe.Line, pe.Err)
	}
	return store.Invalid("csv", "%v", err)
}

// Header returns the columns Write uses for clients with up to goals goals.
func Header(goals int) []string {
	var h []string
	for _, f := range store.FieldHelp() {
		if strings.HasPrefix(f[0], "goal.N.") {
			continue
		}
		h = append(h, f[0])
	}
	for n := 1; n <= goals; n++ {
		for _, f := range store.FieldHelp() {
			if rest, ok := strings.CutPrefix(f[0], "goal.N."); ok {
				h = append(h, fmt.Sprintf("goal.%d.%s", n, rest))
			}
		}
	}
	return h
}

// MaxGoals is how many goal columns Write emits; profiles with more goals
// are rejected rather than exported incompletely.
const MaxGoals = 5

// Write writes clients as CSV that Read accepts.
func Write(w io.Writer, clients iter.Seq2[*store.Client, error]) error {
	header := Header(MaxGoals)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(header))
	for c, err := range clients {
		if err != nil {
			return err
		}
		if len(c.Goals) > MaxGoals {
			return store.Invalid("goals", "client %s has %d goals; export writes at most %d", c.Handle, len(c.Goals), MaxGoals)
		}
		fields := store.Fields(c)
		for i, h := range header {
			row[i] = fields[h]
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
