package imap_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/brokersync/brokersync/store"
)

// The benchmark mailbox: 10,000 generated messages in a folder of its own,
// appended once and reused by later runs (the generator is deterministic;
// bump the folder's version when changing it).
const (
	benchMessages = 10000
	benchFolder   = "bench-10k-v1"
	benchClients  = 200
)

// BenchmarkIngest10k ingests the whole benchmark folder from Dovecot, from
// an empty checkpoint to the last UID: fetch, parse, match, score, store,
// checkpoint. Before each ingest it times a bare UID FETCH of the same
// folder and reports the ratio of the totals (x_bare_fetch: how many times
// slower than just downloading the mail), which makes figures from a busy
// machine comparable.
//
//	scripts/services.sh start && source .run/env
//	go test -run '^$' -bench 'Ingest10k|BareUIDFetch10k' -benchtime 3x ./ingest/imap
func BenchmarkIngest10k(b *testing.B) {
	d := needDovecot(b)
	user := benchUser(d)
	loadBenchFolder(b, d, user)
	run := func(b *testing.B, open func(b *testing.B) *backend) {
		var elapsed, bare time.Duration
		n := 0
		for b.Loop() {
			b.StopTimer()
			bare += bareFetch(b, d, user)
			be := open(b)
			cfg := d.mailbox(b, user, benchFolder, "email=broker0@meridian.example&broker=U0BROKER0")
			cfg.Account = fmt.Sprintf("bench-%d-%s", n, uniq()) // a fresh checkpoint each time
			in, reg := newIngester(b, be, cfg, nil)
			b.StartTimer()
			start := time.Now()
			if err := in.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			n++
			b.StopTimer()
			if got := metric(b, reg, "brokersync_imap_messages_total"); got != benchMessages {
				b.Fatalf("%v messages counted, want %d", got, benchMessages)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(benchMessages*n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(elapsed.Seconds()/bare.Seconds(), "x_bare_fetch")
	}
	b.Run("embedded", func(b *testing.B) {
		run(b, func(b *testing.B) *backend {
			be := openEmbedded(b, b.TempDir())
			ensureBenchClients(b, be.clients)
			return be
		})
	})
	b.Run("postgres+cassandra", func(b *testing.B) {
		be := openReal(b)
		ensureBenchClients(b, be.clients)
		run(b, func(*testing.B) *backend { return be })
	})
}

// BenchmarkBareUIDFetch10k downloads the benchmark folder with one
// UID FETCH 1:* (BODY.PEEK[]) and nothing else: the floor for ingesting.
func BenchmarkBareUIDFetch10k(b *testing.B) {
	d := needDovecot(b)
	user := benchUser(d)
	loadBenchFolder(b, d, user)
	var elapsed time.Duration
	for b.Loop() {
		elapsed += bareFetch(b, d, user)
	}
	b.ReportMetric(float64(benchMessages*b.N)/elapsed.Seconds(), "msgs/s")
}

// bareFetch times one UID FETCH of every body in the folder.
func bareFetch(b *testing.B, d *dovecot, user string) time.Duration {
	c := d.login(b, user)
	defer c.Logout()
	start := time.Now()
	if _, err := c.Select(benchFolder, &goimap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatal(err)
	}
	cmd := c.Fetch(goimap.UIDSet{{Start: 1, Stop: 0}}, &goimap.FetchOptions{UID: true, RFC822Size: true,
		BodySection: []*goimap.FetchItemBodySection{{Peek: true}}})
	n, size := 0, int64(0)
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok && body.Literal != nil {
				k, _ := io.Copy(io.Discard, body.Literal)
				size += k
			}
		}
		n++
	}
	if err := cmd.Close(); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	if n != benchMessages {
		b.Fatalf("fetched %d messages, want %d", n, benchMessages)
	}
	b.Logf("bare UID FETCH: %d messages, %.1f MiB in %s", n, float64(size)/(1<<20), took.Round(time.Millisecond))
	return took
}

// benchUser keeps the benchmark folder out of the way of the tests.
func benchUser(d *dovecot) string { return d.users[len(d.users)-1] }

// loadBenchFolder appends the generated messages unless the folder already
// holds them. One APPEND per message costs Dovecot a maildir scan each, which
// grows with the folder (10,000 took minutes); MULTIAPPEND (RFC 3502) with
// LITERAL+ stores 500 at a time at a steady pace. go-imap has no
// MULTIAPPEND, hence the few lines of protocol by hand.
func loadBenchFolder(b *testing.B, d *dovecot, user string) {
	loadFolder(b, d, user, benchFolder, 0, benchMessages)
}

// loadFolder makes folder hold benchMail(first) to benchMail(first+n-1).
func loadFolder(b *testing.B, d *dovecot, user, folder string, first, n int) {
	c := d.login(b, user)
	st, err := c.Status(folder, &goimap.StatusOptions{NumMessages: true}).Wait()
	if err == nil && st.NumMessages != nil && *st.NumMessages == uint32(n) {
		return
	}
	c.Delete(folder).Wait() // a partial load from an interrupted run
	if err := c.Create(folder, nil).Wait(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	conn, err := net.Dial("tcp", d.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	// await ends the command being written and reads up to its tagged reply.
	await := func(tag string) {
		w.WriteString("\r\n")
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasPrefix(line, tag+" ") {
				if !strings.HasPrefix(line, tag+" OK") {
					b.Fatalf("%s", line)
				}
				return
			}
		}
	}
	if _, err := r.ReadString('\n'); err != nil { // greeting
		b.Fatal(err)
	}
	fmt.Fprintf(w, "l LOGIN %s %s", user, d.password)
	await("l")
	for from := first; from < first+n; from += 500 {
		tag := fmt.Sprintf("a%d", from)
		fmt.Fprintf(w, "%s APPEND %s", tag, folder)
		for i := from; i < min(from+500, first+n); i++ {
			raw := benchMail(i)
			fmt.Fprintf(w, " {%d+}\r\n", len(raw))
			w.Write(raw)
		}
		await(tag)
	}
	w.WriteString("q LOGOUT")
	await("q")
	b.Logf("appended %d messages to %s in %s", n, folder, time.Since(start).Round(time.Millisecond))
}

// ensureBenchClients creates the clients the generated mail is addressed
// to, or finds them when an earlier run created them.
func ensureBenchClients(b *testing.B, cs store.ClientStore) {
	ctx := context.Background()
	for i := range benchClients {
		addr := benchClientAddr(i)
		if _, err := cs.ClientByEmail(ctx, addr); err == nil {
			continue
		}
		c := &store.Client{Handle: fmt.Sprintf("bench-client-%03d", i), Name: fmt.Sprintf("Bench Client %d", i),
			Emails: []store.Email{{Kind: store.Work, Address: addr}}}
		if err := cs.CreateClient(ctx, c, "bench"); err != nil {
			b.Fatalf("create %s: %v", addr, err)
		}
	}
}

func benchClientAddr(i int) string { return fmt.Sprintf("trader%03d@firm%02d.example", i, i%37) }

var (
	benchSubjects = []string{"Dec corn - morning levels", "Fill confirmation: 10 ZCZ5 @ 4.52", "Crude: roll the May position?",
		"Margin call notice", "Soybean spread idea", "Weekly position statement", "Hedge for the new crop",
		"Live cattle - limit up", "Coffee: stop triggered", "Call me before the close"}
	benchLines = []string{
		"Thanks, great fill on the crude this morning.",
		"Can you work a buy for 10 Dec corn at 4.52 limit, good till cancelled?",
		"I am not happy with the slippage on yesterday's stop; please explain what happened.",
		"Funds were net buyers overnight and export sales came in strong.",
		"Let's talk Thursday about rolling the May position into July.",
		"The basis is weak at the river; we should wait before pricing the rest of the crop.",
		"Please send the margin statement, our treasurer needs it by noon.",
		"The spread looks wide to me, what would it cost to put on 20 lots?",
		"We lost money on the last hedge and I want to review the strategy.",
		"Good call on the weather premium, the rally paid for the options.",
	}
)

// benchMail is message i of the benchmark folder: mostly plain replies
// with quoted history between a client and the desk, some HTML, some PDF
// attachments, a few without Message-ID, a tenth newsletters for nobody.
func benchMail(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	client := benchClientAddr(r.IntN(benchClients))
	broker := fmt.Sprintf("broker%d@meridian.example", r.IntN(4))
	l := letter{from: client, to: []string{broker}, subject: benchSubjects[r.IntN(len(benchSubjects))],
		date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Minute)}
	switch k := r.IntN(10); {
	case k < 4:
		l.from, l.to = broker, []string{client}
	case k == 9:
		l.from, l.to = "news@marketwire.example", []string{broker}
	}
	if r.IntN(4) == 0 {
		l.cc = []string{benchClientAddr(r.IntN(benchClients)), "ops@meridian.example"}
	}
	if r.IntN(30) != 0 {
		l.id = fmt.Sprintf("bench-%05d@mail.example", i)
	}
	var body strings.Builder
	for range 1 + r.IntN(4) {
		body.WriteString(benchLines[r.IntN(len(benchLines))])
		body.WriteString(" ")
	}
	body.WriteString("\r\n\r\nBest regards,\r\n-- \r\nMeridian Commodities | Chicago\r\n")
	body.WriteString("\r\nOn Mon, 3 Mar 2025 at 07:45, the desk wrote:\r\n")
	for range 5 + r.IntN(30) {
		body.WriteString("> " + benchLines[r.IntN(len(benchLines))] + "\r\n")
	}
	l.body = body.String()
	raw := l.raw()
	switch {
	case r.IntN(20) == 0: // a statement with a 40-60 KB PDF
		return withPDF(raw, 40<<10+r.IntN(20<<10), r)
	case r.IntN(5) == 0:
		return asHTML(raw, l.body)
	}
	return raw
}

// asHTML turns a plain mail into multipart/alternative with an HTML part.
func asHTML(raw []byte, text string) []byte {
	head, _, _ := strings.Cut(string(raw), "Content-Type: text/plain")
	html := "<html><body><div>" + strings.ReplaceAll(text, "\r\n", "<br>\r\n") + "</div></body></html>"
	return []byte(head + "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n" +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--alt--\r\n")
}

// withPDF turns a plain mail into multipart/mixed with a PDF of n bytes.
func withPDF(raw []byte, n int, r *rand.Rand) []byte {
	head, rest, _ := strings.Cut(string(raw), "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	pdf := make([]byte, n)
	for i := range pdf {
		pdf[i] = byte(r.UintN(256))
	}
	enc := base64.StdEncoding.EncodeToString(pdf)
	var b strings.Builder
	b.WriteString(head + "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(rest)
	b.WriteString("\r\n--mix\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"statement.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--mix--\r\n")
	return []byte(b.String())
}
