package fix_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/quickfixgo/quickfix"

	"github.com/brokersync/brokersync/ingest/fix"
	"github.com/brokersync/brokersync/store"
)

// Every life-cycle report of an order becomes its event; only trades count
// in the statistics; a report for an unknown account is logged and counted
// and the session carries on.
func TestNormalFlow(t *testing.T) {
	backends(t, func(t *testing.T, s stores) {
		c := newClient(t, s)
		acct := c.Accounts[0]
		oms, bs := compIDs(t)
		o := startOrderSystem(t, oms, bs, "", "s3cret", false)
		b := startBrokerSync(t, s, bs, oms, port(o.addr), t.TempDir(), "s3cret", 0)
		o.waitLogon(t)
		now := time.Now().UTC()
		newOrder := fill(acct, acct+"-E-NEW", 0, 0, "452.25", now)
		newOrder[150], newOrder[39] = "0", "0"
		delete(newOrder, 32)
		delete(newOrder, 31)
		o.send(t, newOrder)
		o.send(t, fill(acct, acct+"-E-PART", 40, 40, "452.25", now))
		replace := fill(acct, acct+"-E-REPL", 0, 40, "452.5", now)
		replace[150], replace[39], replace[41] = "5", "1", "CL-OLD"
		o.send(t, replace)
		o.send(t, fill(acct, acct+"-E-FILL", 60, 100, "452.5", now))
		unknown := fill("NO-SUCH-ACCOUNT", acct+"-E-UNK", 10, 10, "452", now)
		o.send(t, unknown)
		cancel := fill(acct, acct+"-E-CXL", 0, 0, "", now)
		cancel[150], cancel[39], cancel[37] = "4", "4", "ORD-2"
		delete(cancel, 31)
		delete(cancel, 6)
		delete(cancel, 44)
		o.send(t, cancel)
		reject := fill(acct, acct+"-E-REJ", 0, 0, "", now)
		reject[150], reject[39], reject[37], reject[58] = "8", "8", "ORD-3", "price outside limits"
		delete(reject, 31)
		delete(reject, 6)
		delete(reject, 44)
		o.send(t, reject)
		waitFor(t, "7 reports", func() bool { return testutil.ToFloat64(b.metrics.Reports.WithLabelValues(fix.ResultStored)) >= 6 })
		got := read(t, s, c)
		if got.events != 6 || got.trades != 2 || got.volume != 100 {
			t.Fatalf("got %d events, %d trades, %v contracts; want 6, 2, 100 (%v)", got.events, got.trades, got.volume, got.byStatus)
		}
		want := map[string]int{"placed": 2, "partially_filled": 1, "filled": 1, "cancelled": 1, "rejected": 1}
		for k, v := range want {
			if got.byStatus[k] != v {
				t.Errorf("%s: %d events, want %d (%v)", k, got.byStatus[k], v, got.byStatus)
			}
		}
		if n := testutil.ToFloat64(b.metrics.Reports.WithLabelValues(fix.ResultUnknownClient)); n != 1 {
			t.Errorf("unknown_client counted %v times, want 1", n)
		}
		if n := o.logons.Load(); n != 1 {
			t.Errorf("%d logons: the unknown account must not cost the session", n)
		}
		if s.pgURL != "" {
			// The session's numbers are kept in PostgreSQL, up to date.
			conn, err := pgx.Connect(context.Background(), s.pgURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			// The writer persists the number just after storing the batch.
			waitFor(t, "incoming sequence number 9 in PostgreSQL (logon and 7 reports)", func() bool {
				var in int
				if err := conn.QueryRow(context.Background(), "SELECT incoming_seqnum FROM sessions WHERE sendercompid = $1", bs).Scan(&in); err != nil {
					t.Fatal(err)
				}
				return in >= 9
			})
		}
		ev, err := s.timeline.Event(context.Background(), c.ID, store.EventID(store.SourceOrders, acct+"-E-FILL"))
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.Attrs.Order; a.Contract != "ZCZ26" || a.Side != "buy" || a.Filled != 100 || a.Price != 452.5 || a.OrderID != "ORD-"+acct {
			t.Errorf("fill event attrs %+v", a)
		}
	})
}

// Wrong credentials: the order system logs us out, nothing is stored.
func TestWrongPassword(t *testing.T) {
	s := embeddedStores(t)
	oms, bs := compIDs(t)
	o := startOrderSystem(t, oms, bs, "", "s3cret", false)
	startBrokerSync(t, s, bs, oms, port(o.addr), t.TempDir(), "wrong", 0)
	time.Sleep(2 * time.Second)
	if n := o.logons.Load(); n != 0 {
		t.Fatalf("%d logons with a wrong password", n)
	}
}

// A burst of fills, the connection cut in the middle and again later:
// quickfix reconnects, asks for the gap, and every fill is stored once.
func TestDisconnectMidBurst(t *testing.T) {
	backends(t, func(t *testing.T, s stores) {
		c := newClient(t, s)
		acct := c.Accounts[0]
		oms, bs := compIDs(t)
		o := startOrderSystem(t, oms, bs, "", "", false)
		p := newProxy(t, o.addr)
		b := startBrokerSync(t, s, bs, oms, p.port(), t.TempDir(), "", 0)
		o.waitLogon(t)
		const n = 300
		now := time.Now().UTC()
		stored := func() float64 {
			return testutil.ToFloat64(b.metrics.Reports.WithLabelValues(fix.ResultStored)) + testutil.ToFloat64(b.metrics.Reports.WithLabelValues(fix.ResultDuplicate))
		}
		go func() {
			for i := range n {
				f := fill(acct, fmt.Sprintf("%s-E-%d", acct, i), 0.5, 0.5, "452.25", now)
				f[38], f[39], f[14] = "1000", "1", "0.5"
				o.send(t, f)
				if i == n/3 || i == 2*n/3 {
					p.cut()
				}
			}
		}()
		waitFor(t, "every fill", func() bool { return read(t, s, c).trades >= n })
		time.Sleep(500 * time.Millisecond) // anything doubled would land now
		got := read(t, s, c)
		if got.events != n || got.trades != n || got.volume != n*0.5 {
			t.Fatalf("%d events, %d trades, %v contracts; want %d, %d, %v", got.events, got.trades, got.volume, n, n, n*0.5)
		}
		if o.logons.Load() < 2 {
			t.Errorf("only %d logons: the cut did not reconnect", o.logons.Load())
		}
		if g := testutil.ToFloat64(b.metrics.LoggedOn); g != 1 {
			t.Errorf("sessions logged on: %v, want 1", g)
		}
		_ = stored
	})
}

// A gap in the order system's numbers is filled (ResendRequest answered by
// SequenceReset-GapFill), a SequenceReset-Reset moves them on, and reports
// already stored, replayed with PossDupFlag 43=Y, are not doubled.
func TestSequenceResetAndDuplicateResends(t *testing.T) {
	backends(t, func(t *testing.T, s stores) {
		c := newClient(t, s)
		acct := c.Accounts[0]
		oms, bs := compIDs(t)
		o := startOrderSystem(t, oms, bs, "", "", false)
		b := startBrokerSync(t, s, bs, oms, port(o.addr), t.TempDir(), "", 0)
		o.waitLogon(t)
		now := time.Now().UTC()
		for i := range 10 {
			o.send(t, fill(acct, fmt.Sprintf("%s-E-%d", acct, i), 1, float64(i+1), "452", now))
		}
		waitFor(t, "10 fills", func() bool { return read(t, s, c).trades == 10 })

		// A gap: the order system skips ahead; quickfix asks for a resend
		// and gets a gap fill.
		o.storeMu.Lock()
		next := o.store.NextSenderMsgSeqNum()
		if err := o.store.SetNextSenderMsgSeqNum(next + 5); err != nil {
			t.Fatal(err)
		}
		o.storeMu.Unlock()
		o.send(t, fill(acct, acct+"-E-10", 1, 11, "452", now))
		waitFor(t, "the fill after the gap", func() bool { return read(t, s, c).trades == 11 })

		// Sequence reset (35=4, 123=N): the order system jumps its numbers;
		// then it replays reports already stored, flagged PossDupFlag 43=Y.
		o.storeMu.Lock()
		next = o.store.NextSenderMsgSeqNum()
		o.storeMu.Unlock()
		reset := quickfix.NewMessage()
		reset.Header.SetString(35, "4")
		reset.Body.SetInt(36, next+50)
		if err := quickfix.SendToTarget(reset, o.id); err != nil {
			t.Fatal(err)
		}
		o.storeMu.Lock()
		if err := o.store.SetNextSenderMsgSeqNum(next + 50); err != nil {
			t.Fatal(err)
		}
		o.storeMu.Unlock()
		for i := range 11 {
			f := fill(acct, fmt.Sprintf("%s-E-%d", acct, i), 1, float64(i+1), "452", now)
			f[43], f[122] = "Y", now.Format("20060102-15:04:05.000")
			o.send(t, f)
		}
		for i := 11; i < 15; i++ {
			o.send(t, fill(acct, fmt.Sprintf("%s-E-%d", acct, i), 1, float64(i+1), "452", now))
		}
		waitFor(t, "15 fills", func() bool { return read(t, s, c).trades >= 15 })
		time.Sleep(300 * time.Millisecond)
		if got := read(t, s, c); got.events != 15 || got.trades != 15 || got.volume != 15 {
			t.Fatalf("%d events, %d trades, %v contracts; want 15 each", got.events, got.trades, got.volume)
		}
		if d := testutil.ToFloat64(b.metrics.Reports.WithLabelValues(fix.ResultDuplicate)); d != 11 {
			t.Errorf("%v duplicates counted, want 11", d)
		}
		if n := o.logons.Load(); n != 1 {
			t.Errorf("%d logons: the gap and the reset must be handled in session", n)
		}
	})
}

// A busted trade (ExecType H) is its own event, not a fill; the statistics
// cannot take the fill back and keep counting it (documented).
func TestBustedTrade(t *testing.T) {
	backends(t, func(t *testing.T, s stores) {
		c := newClient(t, s)
		acct := c.Accounts[0]
		oms, bs := compIDs(t)
		o := startOrderSystem(t, oms, bs, "", "", false)
		startBrokerSync(t, s, bs, oms, port(o.addr), t.TempDir(), "", 0)
		o.waitLogon(t)
		now := time.Now().UTC()
		o.send(t, fill(acct, acct+"-E-TRADE", 100, 100, "452", now))
		bust := fill(acct, acct+"-E-BUST", 100, 0, "452", now)
		bust[150], bust[39], bust[19], bust[14] = "H", "0", acct+"-E-TRADE", "0"
		o.send(t, bust)
		waitFor(t, "two events", func() bool { return read(t, s, c).events == 2 })
		ev, err := s.timeline.Event(context.Background(), c.ID, store.EventID(store.SourceOrders, acct+"-E-BUST"))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Attrs.Order.Status != "cancelled" || ev.Body == "" {
			t.Errorf("bust event: status %q, body %q", ev.Attrs.Order.Status, ev.Body)
		}
		if got := read(t, s, c); got.trades != 1 {
			t.Errorf("%d trades: the bust must not count as a fill", got.trades)
		}
	})
}

// flakyTrades fails recording fills a number of times, as a store that is
// down.
type flakyTrades struct {
	store.TradeStore
	failures atomic.Int32
}

func (f *flakyTrades) RecordFill(ctx context.Context, fl store.Fill) (bool, error) {
	if f.failures.Add(-1) >= 0 {
		return false, store.Unavailable("record fill", errors.New("store down"))
	}
	return f.TradeStore.RecordFill(ctx, fl)
}

func (f *flakyTrades) RecordFills(ctx context.Context, fls []store.Fill) ([]bool, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, store.Unavailable("record fills", errors.New("store down"))
	}
	return f.TradeStore.RecordFills(ctx, fls)
}

// A report whose store keeps failing is not acknowledged: its sequence
// number is not counted as received, the order system resends it, and it is
// stored then, once.
func TestStoreFailureIsResent(t *testing.T) {
	s := embeddedStores(t)
	flaky := &flakyTrades{TradeStore: s.trades}
	flaky.failures.Store(6)
	c := newClient(t, s)
	acct := c.Accounts[0]
	oms, bs := compIDs(t)
	o := startOrderSystem(t, oms, bs, "", "", false)
	startBrokerSync(t, stores{clients: s.clients, trades: flaky, timeline: s.timeline}, bs, oms, port(o.addr), t.TempDir(), "", 50*time.Millisecond)
	o.waitLogon(t)
	now := time.Now().UTC()
	for i := range 20 {
		o.send(t, fill(acct, fmt.Sprintf("%s-E-%d", acct, i), 1, float64(i+1), "452", now))
	}
	// The last report has no successor to reveal a gap: a heartbeat or the
	// next report would; a test request makes one now.
	waitFor(t, "20 fills", func() bool {
		if read(t, s, c).trades == 20 {
			return true
		}
		tr := quickfix.NewMessage()
		tr.Header.SetString(35, "1")
		tr.Body.SetString(112, "poke")
		quickfix.SendToTarget(tr, o.id)
		time.Sleep(200 * time.Millisecond)
		return false
	})
	if got := read(t, s, c); got.events != 20 || got.trades != 20 || got.volume != 20 {
		t.Fatalf("%d events, %d trades, %v contracts; want 20 each", got.events, got.trades, got.volume)
	}
	if flaky.failures.Load() >= 0 {
		t.Fatal("the store never failed")
	}
}
