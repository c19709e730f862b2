package demo_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/internal/demo"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// The demo desk is a living one: two desks with brokers and a manager, 50
// clients with full profiles, a year of every kind of event with sentiment
// scored, orders on real contract codes whose fills are counted; loading it
// again changes nothing.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	db, err := embedded.Open(ctx, t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	model, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	st := demo.Stores{Catalogue: store.DefaultCatalogue(), Clients: db, Teams: db, Trades: db, Recorder: &ingest.Recorder{Timeline: db.Timeline(), Scorer: model, Sentiment: db}}
	res, err := demo.Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Desks) != 2 || len(res.Clients) != demo.Clients || res.Events < 50*150 || res.NewFills == 0 {
		t.Fatalf("loaded %d desks, %d clients, %d events, %d fills", len(res.Desks), len(res.Clients), res.Events, res.NewFills)
	}
	for _, d := range res.Desks {
		ms, err := db.Members(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		roles := map[store.Role]int{}
		for _, m := range ms {
			roles[m.Role]++
		}
		if roles[store.RoleBroker] < 2 || roles[store.RoleManager] != 1 {
			t.Errorf("%s: %v", d, roles)
		}
	}
	individuals := 0
	for _, c := range res.Clients {
		if c.Company == "" && c.Kind == store.Entity || len(c.Phones) == 0 || len(c.Emails) == 0 || len(c.Addresses) == 0 || c.TimeZone == "" ||
			len(c.Trading.Commodities) == 0 || c.Risk.Tolerance == 0 || c.Risk.ReviewOn.IsZero() || len(c.Goals) == 0 || len(c.Tags) == 0 || c.Broker == "" {
			t.Errorf("%s: profile not full: %+v", c.Handle, c)
		}
		if c.Kind == store.Individual {
			individuals++
			if c.KYC.AnnualIncome == nil || c.KYC.DateOfBirth.IsZero() {
				t.Errorf("%s: an individual without KYC facts", c.Handle)
			}
		}
	}
	if individuals == 0 {
		t.Error("no individual clients")
	}

	c := res.Clients[0]
	kinds := map[store.Kind]int{}
	scored := 0
	q := store.EventQuery{Limit: 1000}
	for {
		page, err := db.Timeline().Events(ctx, c.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			kinds[e.Kind]++
			if e.Sentiment != nil {
				scored++
			}
			if o := e.Attrs.Order; o != nil {
				if _, err := store.ParseContract(o.Contract, e.Time); err != nil {
					t.Errorf("order on %q: %v", o.Contract, err)
				}
				if _, ok := store.DefaultCatalogue().Lookup(o.Commodity); !ok {
					t.Errorf("order in %q, not in the catalogue", o.Commodity)
				}
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	for _, k := range store.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s events on %s's timeline", k, c.Handle)
		}
	}
	if scored == 0 {
		t.Error("no sentiment on the timeline")
	}
	stats, err := db.TradeStats(ctx, c.ID, c.CreatedAt)
	if err != nil || stats.Trades365d == 0 {
		t.Errorf("trade statistics %+v, %v", stats, err)
	}

	again, err := demo.Load(ctx, st)
	if err != nil {
		t.Fatalf("loading again: %v", err)
	}
	if again.NewFills != 0 || len(again.Clients) != demo.Clients || again.Clients[0].ID != c.ID {
		t.Errorf("loading again: %d new fills, %d clients", again.NewFills, len(again.Clients))
	}
}
