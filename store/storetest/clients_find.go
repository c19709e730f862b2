package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/store"
)

// findFixture stores a small book of clients across two desks and three
// brokers, with names a European desk really has.
func findFixture(t *testing.T, s store.ClientStore) {
	t.Helper()
	book := []*store.Client{
		{Handle: "socgen", Name: "Société Générale", Company: "Société Générale SA", Team: "energy-desk", Broker: "U1", Tags: []string{"high-value"}},
		{Handle: "mueller-agrar", Name: "Jürgen Müller", Company: "Müller Agrar GmbH", Team: "grains-desk", Broker: "U2"},
		{Handle: "acme-grain", Name: "Acme Grain", Company: "Acme Holdings", Team: "grains-desk", Broker: "U1", Tags: []string{"frequent-trader"}},
		{Handle: "zeta-energy", Name: "Zeta Power", Team: "energy-desk", Broker: "U2", Tags: []string{"high-value", "frequent-trader"}},
		{Handle: "gen-trading", Name: "Omega Traders", Company: "Generic Trading Co", Team: "energy-desk", Broker: "U3"},
	}
	for _, c := range book {
		mustCreate(t, s, c)
	}
}

func testFind(t *testing.T, s store.ClientStore) {
	findFixture(t, s)
	tests := []struct {
		text string
		want []string
	}{
		{"", []string{"acme-grain", "gen-trading", "mueller-agrar", "socgen", "zeta-energy"}},
		{"société", []string{"socgen"}},
		{"SOCIÉTÉ GÉN", []string{"socgen"}},
		{"  générale  ", []string{"socgen"}},
		{"müller", []string{"mueller-agrar"}},
		{"MÜLLER AGRAR", []string{"mueller-agrar"}},
		{"jürgen", []string{"mueller-agrar"}},
		{"agrar", []string{"mueller-agrar"}},                        // handle and company
		{"holdings", []string{"acme-grain"}},                        // company only
		{"ZETA-EN", []string{"zeta-energy"}},                        // handle only
		{"gen", []string{"gen-trading", "mueller-agrar", "socgen"}}, // handles, a company, Jürgen; "gén" is another letter
		{"grain", []string{"acme-grain"}},                           // name and handle: listed once
		{"power", []string{"zeta-energy"}},                          // name only
		{"%", nil},                                                  // LIKE wildcards match literally
		{"_", nil},                                                  //
		{`\`, nil},                                                  //
		{"nothing like it", nil},                                    //
		{"grain acme", nil},                                         // a match may not span name and company
	}
	for _, tt := range tests {
		assertFound(t, s, store.ClientFilter{Text: tt.text}, tt.want)
	}
}

func testFindScope(t *testing.T, s store.ClientStore) {
	findFixture(t, s)
	tests := []struct {
		f    store.ClientFilter
		want []string
	}{
		{store.ClientFilter{Teams: []string{"energy-desk"}}, []string{"gen-trading", "socgen", "zeta-energy"}},
		{store.ClientFilter{Teams: []string{"grains-desk", "energy-desk"}}, []string{"acme-grain", "gen-trading", "mueller-agrar", "socgen", "zeta-energy"}},
		{store.ClientFilter{Teams: []string{"energy-desk"}, Text: "zeta"}, []string{"zeta-energy"}},
		{store.ClientFilter{Teams: []string{"grains-desk"}, Text: "société"}, nil},
		{store.ClientFilter{Teams: []string{}}, nil}, // on no desk: sees nobody
		{store.ClientFilter{Teams: []string{"metals-desk"}}, nil},
		{store.ClientFilter{Broker: "U1"}, []string{"acme-grain", "socgen"}},
		{store.ClientFilter{Broker: "U2", Teams: []string{"grains-desk"}}, []string{"mueller-agrar"}},
		{store.ClientFilter{Tag: "high-value"}, []string{"socgen", "zeta-energy"}},
		{store.ClientFilter{Tag: "#High-Value"}, []string{"socgen", "zeta-energy"}},
		{store.ClientFilter{Tag: "frequent-trader", Broker: "U2"}, []string{"zeta-energy"}},
		{store.ClientFilter{Tag: "high-value", Teams: []string{"grains-desk"}}, nil},
		{store.ClientFilter{Tag: "dormant-since-2020"}, nil},
	}
	for _, tt := range tests {
		assertFound(t, s, tt.f, tt.want)
	}
}

func testFindPaging(t *testing.T, s store.ClientStore) {
	cs := make([]*store.Client, 60)
	var all []string
	for i := range cs {
		cs[i] = SimpleClient(i)
		all = append(all, cs[i].Handle)
	}
	if err := s.ImportClients(t.Context(), cs, "U0IMPORTER"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    store.ClientFilter
		want []string
	}{
		{store.ClientFilter{}, all[:50]}, // the default limit
		{store.ClientFilter{Limit: 100}, all},
		{store.ClientFilter{Limit: 2}, all[:2]},
		{store.ClientFilter{Limit: 2, Offset: 2}, all[2:4]},
		{store.ClientFilter{Limit: 25, Offset: 50}, all[50:]},
		{store.ClientFilter{Limit: 10, Offset: 60}, nil},
		{store.ClientFilter{Text: "client 5", Limit: 3}, []string{"client-0005", "client-0050", "client-0051"}},
	}
	for _, tt := range tests {
		assertFound(t, s, tt.f, tt.want)
	}
}

func assertFound(t *testing.T, s store.ClientStore, f store.ClientFilter, want []string) {
	t.Helper()
	cs, err := s.FindClients(t.Context(), f)
	if err != nil {
		t.Errorf("FindClients(%+v): %v", f, err)
		return
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Handle)
	}
	if !slices.Equal(got, want) {
		t.Errorf("FindClients(%+v) = [%s], want [%s]", f, strings.Join(got, " "), strings.Join(want, " "))
	}
}
