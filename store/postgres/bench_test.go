package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/postgres"
	"github.com/brokersync/brokersync/store/storetest"
)

// A desk-sized book: the lookups and searches are timed against 100,000
// clients with full profiles, loaded once per run.
const benchClients = 100_000

var book struct {
	once    sync.Once
	url     string
	handles []string
	emails  []string
	err     error
}

// bookURL returns the URL of the database holding the 100,000-client book.
func bookURL(b *testing.B) string {
	b.Helper()
	tmpl := migratedTemplate(b) // skips without a server
	book.once.Do(func() {
		ctx := context.Background()
		name := uniqueName("bs_pgbench")
		if book.url, book.err = backendtest.CreateDatabase(ctx, template.baseURL, name, tmpl); book.err != nil {
			return
		}
		afterAll = append(afterAll, func() { backendtest.DropDatabase(context.Background(), template.baseURL, name) })
		db, err := postgres.Open(ctx, book.url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
		if err != nil {
			book.err = err
			return
		}
		defer db.Close()
		cs := benchBook()
		if book.err = db.ImportClients(ctx, cs, "U0BENCH"); book.err != nil {
			return
		}
		// Fresh statistics, as autovacuum would have them on a live desk.
		if _, book.err = db.Pool().Exec(ctx, "VACUUM ANALYZE"); book.err != nil {
			return
		}
		for _, c := range cs {
			book.handles = append(book.handles, c.Handle)
			book.emails = append(book.emails, c.Emails[0].Address)
		}
	})
	if book.err != nil {
		b.Fatalf("loading the benchmark book: %v", book.err)
	}
	return book.url
}

func openBook(b *testing.B, url string) *postgres.DB {
	db, err := postgres.Open(b.Context(), url, store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

var (
	firstNames = []string{"Jane", "Jürgen", "Amélie", "Oluwaseun", "Mei", "Carlos", "Ingrid", "Rahul", "Siobhán", "Tomasz", "Aiko", "Pierre"}
	lastNames  = []string{"Doe", "Müller", "Dubois", "Adeyemi", "Chen", "García", "Larsen", "Patel", "O'Brien", "Nowak", "Tanaka", "Lefèvre", "Smith"}
	firms      = []string{"Grain", "Agrar", "Energy", "Metals", "Trading", "Farms", "Commodities", "Capital", "Cooperative"}
	desks      = []string{"grains-desk", "energy-desk", "metals-desk", "softs-desk"}
)

// benchClient is client i of the book: a full profile with contact details
// unique to i.
func benchClient(i int) *store.Client {
	c := storetest.FullClient(fmt.Sprintf("bench-%06d", i), 0)
	c.Name = firstNames[i%len(firstNames)] + " " + lastNames[(i/len(firstNames))%len(lastNames)]
	c.Company = fmt.Sprintf("%s %s %d", lastNames[i%len(lastNames)], firms[i%len(firms)], i%1000)
	c.Team = desks[i%len(desks)]
	c.Broker = fmt.Sprintf("U%04d", i%40)
	c.Accounts = []string{fmt.Sprintf("ACC-%06d", i)}
	c.Phones = []store.Phone{
		{Kind: store.Work, Number: fmt.Sprintf("+1212%03d%04d", 200+i/10000, i%10000)},
		{Kind: store.Mobile, Number: fmt.Sprintf("+1646%03d%04d", 200+i/10000, i%10000)},
	}
	c.Emails = []store.Email{
		{Kind: store.Work, Address: fmt.Sprintf("trader%d@firm%d.example", i, i%997)},
		{Kind: store.Personal, Address: fmt.Sprintf("p%d@mail.example", i)},
	}
	c.Tags = []string{"high-value", fmt.Sprintf("cohort-%d", i%50)}
	return c
}

func benchBook() []*store.Client {
	cs := make([]*store.Client, benchClients)
	for i := range cs {
		cs[i] = benchClient(i)
	}
	return cs
}

// Lookups walk the book with a stride, so that consecutive iterations hit
// different parts of the indexes.
func pick(keys []string, i int) string { return keys[(i*7919)%len(keys)] }

func BenchmarkClientByHandle(b *testing.B) {
	db := openBook(b, bookURL(b))
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := db.ClientByHandle(ctx, pick(book.handles, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkClientByEmail(b *testing.B) {
	db := openBook(b, bookURL(b))
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := db.ClientByEmail(ctx, pick(book.emails, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// rawRow is what one client row is when read with pgx and nothing else.
type rawRow struct {
	id                                         uuid.UUID
	handle, name, company, broker, team, stage string
	stageAt, createdAt, updatedAt              time.Time
	risk                                       int
	horizon                                    string
	profile                                    []byte
	version                                    int64
}

func rawLookup(b *testing.B, url, query string, keys []string) {
	db := openBook(b, url)
	ctx, pool := b.Context(), db.Pool()
	i := 0
	var r rawRow
	for b.Loop() {
		err := pool.QueryRow(ctx, query, pick(keys, i)).Scan(&r.id, &r.handle, &r.name, &r.company, &r.broker, &r.team,
			&r.stage, &r.stageAt, &r.risk, &r.horizon, &r.profile, &r.createdAt, &r.updatedAt, &r.version)
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRawHandle and BenchmarkRawEmail are the floor for the lookups
// above: the same statement, issued with pgx and scanned into plain values.
func BenchmarkRawHandle(b *testing.B) {
	url := bookURL(b)
	rawLookup(b, url, postgres.ClientByHandleSQL, book.handles)
}

func BenchmarkRawEmail(b *testing.B) {
	url := bookURL(b)
	rawLookup(b, url, postgres.ClientByEmailSQL, book.emails)
}

// BenchmarkLookupVsRaw alternates our lookup and the raw query in one loop
// and reports both and their ratio, so that load from elsewhere on the
// machine, which drifts over seconds, weighs on both alike.
func BenchmarkLookupVsRaw(b *testing.B) {
	url := bookURL(b)
	db := openBook(b, url)
	pool := db.Pool()
	lookups := []struct {
		name  string
		query string
		keys  []string
		ours  func(context.Context, string) (*store.Client, error)
	}{
		{"handle", postgres.ClientByHandleSQL, book.handles, db.ClientByHandle},
		{"email", postgres.ClientByEmailSQL, book.emails, db.ClientByEmail},
	}
	for _, l := range lookups {
		b.Run(l.name, func(b *testing.B) {
			ctx := b.Context()
			var r rawRow
			lookUp := [2]func(key string) error{
				func(key string) error { _, err := l.ours(ctx, key); return err },
				func(key string) error {
					return pool.QueryRow(ctx, l.query, key).Scan(&r.id, &r.handle, &r.name, &r.company, &r.broker, &r.team,
						&r.stage, &r.stageAt, &r.risk, &r.horizon, &r.profile, &r.createdAt, &r.updatedAt, &r.version)
				},
			}
			var took [2]time.Duration // ours, raw
			i := 0
			for b.Loop() {
				// The two look up different clients: the second lookup of
				// one client finds its pages in every cache the first warmed
				// and takes 20 µs less, a fifth of a lookup. They also take
				// turns at going first.
				for _, which := range [2]int{i % 2, 1 - i%2} {
					start := time.Now()
					if err := lookUp[which](pick(l.keys, 2*i+which)); err != nil {
						b.Fatal(err)
					}
					took[which] += time.Since(start)
				}
				i++
			}
			ours, raw := took[0], took[1]
			b.ReportMetric(float64(ours.Nanoseconds())/float64(i), "ours-ns/lookup")
			b.ReportMetric(float64(raw.Nanoseconds())/float64(i), "raw-ns/lookup")
			b.ReportMetric(float64(ours)/float64(raw), "ours/raw")
		})
	}
}

// BenchmarkFindClients times the search box as planned with every index,
// and without the trigram index (GIN is only used through bitmap scans, so
// turning those off leaves the walk of the covering handle index).
func BenchmarkFindClients(b *testing.B) {
	url := bookURL(b)
	noTrigram, err := neturl.Parse(url)
	if err != nil {
		b.Fatal(err)
	}
	q := noTrigram.Query()
	q.Set("options", "-c enable_bitmapscan=off")
	noTrigram.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgconn reads + literally
	plans := []struct{ name, url string }{
		{"all-indexes", url},
		{"no-trigram", noTrigram.String()},
	}
	searches := []struct{ name, text string }{
		{"rare", "bench-004217"},      // one client
		{"unicode", "amélie lefèvre"}, // 641 clients, first 50 returned
		{"common", "trading"},         // ~11,000 clients, first 50 returned
		{"short", "ab"},               // too short for trigrams
	}
	for _, p := range plans {
		db := openBook(b, p.url)
		for _, s := range searches {
			b.Run(p.name+"/"+s.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := db.FindClients(b.Context(), store.ClientFilter{Text: s.text}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkImportClients100k loads the whole book into an empty database in
// one ImportClients call, validation included.
func BenchmarkImportClients100k(b *testing.B) {
	migratedTemplate(b) // skips without a server
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := openBook(b, newDatabaseURL(b))
		cs := benchBook()
		b.StartTimer()
		start := time.Now()
		if err := db.ImportClients(b.Context(), cs, "U0BENCH"); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(benchClients*b.N)/total.Seconds(), "rows/s")
}
