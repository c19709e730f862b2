package storetest

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

func testImport(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	const n = 200
	cs := make([]*store.Client, n)
	for i := range cs {
		cs[i] = SimpleClient(i)
	}
	cs[7].Phones[0].Number = "(212) 200-0007" // normalised like CreateClient
	if err := s.ImportClients(ctx, cs, "U0IMPORTER"); err != nil {
		t.Fatalf("ImportClients: %v", err)
	}
	seen := map[uuid.UUID]bool{}
	for _, c := range cs {
		if c.ID == uuid.Nil || seen[c.ID] || c.Version != 1 {
			t.Fatalf("imported client %s has id %v, version %d; want a unique id and version 1", c.Handle, c.ID, c.Version)
		}
		seen[c.ID] = true
	}
	if got := countClients(t, s); got != n {
		t.Errorf("%d clients stored, want %d", got, n)
	}
	for _, i := range []int{0, 7, 123, n - 1} {
		want := cs[i]
		byEmail, err := s.ClientByEmail(ctx, want.Emails[0].Address)
		if err != nil {
			t.Fatalf("ClientByEmail(%s): %v", want.Emails[0].Address, err)
		}
		assertSameClient(t, "imported client by email", want, byEmail)
		byPhone, err := s.ClientByPhone(ctx, want.Phones[0].Number)
		if err != nil {
			t.Fatalf("ClientByPhone(%s): %v", want.Phones[0].Number, err)
		}
		assertSameClient(t, "imported client by phone", want, byPhone)
	}
	trail, err := s.AuditTrail(ctx, cs[5].ID, 0)
	if err != nil || len(trail) != 1 || trail[0].Actor != "U0IMPORTER" {
		t.Errorf("audit trail of an imported client = %v, %v; want its creation by U0IMPORTER", trail, err)
	}
	if err := s.ImportClients(ctx, nil, "U0IMPORTER"); err != nil {
		t.Errorf("importing nothing: %v", err)
	}
}

func testImportAllOrNothing(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	existing := FullClient("existing", 9)
	mustCreate(t, s, existing)

	tests := []struct {
		name     string
		edit     func(cs []*store.Client)
		code     store.Code
		field    string
		mentions []string
	}{
		{"one invalid phone", func(cs []*store.Client) { cs[37].Phones[0].Number = "12" },
			store.EINVALID, "phone.work", []string{"client-0037", `"12"`}},
		{"one unknown commodity", func(cs []*store.Client) { cs[99].Trading.Commodities = []string{"moon-dust"} },
			store.EINVALID, "commodities", []string{"client-0099", "moon-dust"}},
		{"email twice in the batch", func(cs []*store.Client) { cs[90].Emails[0].Address = "CLIENT10@example.com" },
			store.ECONFLICT, "email.work", []string{"client-0010", "client-0090", "client10@example.com"}},
		{"handle twice in the batch", func(cs []*store.Client) { cs[60].Handle = "client-0012" },
			store.ECONFLICT, "handle", []string{"client-0012"}},
		{"phone of an existing client", func(cs []*store.Client) { cs[50].Phones[0].Number = "312 555 0009" },
			store.ECONFLICT, "phone.work", []string{"client-0050", "+13125550009"}},
		{"email of an existing client", func(cs []*store.Client) { cs[98].Emails[0].Address = "jane9@mail.example" },
			store.ECONFLICT, "email.work", []string{"client-0098", "jane9@mail.example"}},
		{"handle of an existing client", func(cs []*store.Client) { cs[0].Handle = "Existing" },
			store.ECONFLICT, "handle", []string{"existing"}},
		{"account twice in the batch", func(cs []*store.Client) {
			cs[20].Accounts, cs[70].Accounts = []string{"ACC-20"}, []string{"acc-20"}
		}, store.ECONFLICT, "accounts", []string{"client-0020", "client-0070", "ACC-20"}},
		{"account of an existing client", func(cs []*store.Client) { cs[40].Accounts = []string{"acc-0009-h"} },
			store.ECONFLICT, "accounts", []string{"client-0040", "ACC-0009-H"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := make([]*store.Client, 100)
			for i := range cs {
				cs[i] = SimpleClient(i)
			}
			tt.edit(cs)
			err := s.ImportClients(ctx, cs, "U0IMPORTER")
			assertError(t, err, tt.code, tt.field, tt.mentions...)
			if strings.Contains(tt.name, "of an existing client") {
				assertHolder(t, err, existing, tt.mentions[len(tt.mentions)-1])
			}
			if got := countClients(t, s); got != 1 {
				t.Errorf("%d clients stored after a failed import, want only the existing one", got)
			}
			if _, err := s.ClientByEmail(ctx, "client1@example.com"); store.ErrorCode(err) != store.ENOTFOUND {
				t.Errorf("an email of the failed import was stored: %v", err)
			}
			got, err := s.Client(ctx, existing.ID)
			if err != nil {
				t.Fatal(err)
			}
			assertSameClient(t, "the existing client", existing, got)
		})
	}
}

func testAllClients(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	for c, err := range s.AllClients(ctx) {
		t.Fatalf("an empty store yielded %v, %v", c, err)
	}
	// More than a backend is likely to read in one page, in no order.
	const n = 1234
	cs := make([]*store.Client, n)
	for i, j := range rand.Perm(n) {
		cs[i] = SimpleClient(j)
	}
	if err := s.ImportClients(ctx, cs, "U0IMPORTER"); err != nil {
		t.Fatal(err)
	}
	count, last := 0, ""
	for c, err := range s.AllClients(ctx) {
		if err != nil {
			t.Fatalf("AllClients after %d: %v", count, err)
		}
		if c.Handle <= last {
			t.Fatalf("AllClients yielded %s after %s, want handle order", c.Handle, last)
		}
		last = c.Handle
		count++
	}
	if count != n {
		t.Errorf("AllClients yielded %d clients, want %d", count, n)
	}
	count = 0
	for _, err := range s.AllClients(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if count++; count == 10 {
			break
		}
	}
	if count != 10 {
		t.Errorf("stopping early: yielded %d, want 10", count)
	}
}

func countClients(t *testing.T, s store.ClientStore) int {
	t.Helper()
	n := 0
	for _, err := range s.AllClients(t.Context()) {
		if err != nil {
			t.Fatalf("AllClients: %v", err)
		}
		n++
	}
	return n
}
