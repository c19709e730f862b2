// Command devcli runs the sentiment scorer the way `brokersync sentiment`
// does, for developing and measuring it without the rest of BrokerSync:
//
//	go run ./ingest/sentiment/internal/devcli < texts.txt   # label<TAB>score per line
//	go run ./ingest/sentiment/internal/devcli eval FILE.csv # accuracy, macro-F1, confusion
//	go run ./ingest/sentiment/internal/devcli mem           # load time, heap and RSS
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/ingest/sentiment"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devcli:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	start := time.Now()
	m, err := sentiment.New()
	if err != nil {
		return err
	}
	loaded := time.Since(start)
	switch {
	case len(args) == 0:
		return sentiment.RunLines(os.Stdin, os.Stdout, m)
	case args[0] == "eval" && len(args) == 2:
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := sentiment.Evaluate(f, m)
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		fmt.Print(rep)
		return nil
	case args[0] == "mem" && len(args) == 1:
		return mem(m, loaded)
	}
	return fmt.Errorf("usage: devcli [eval FILE.csv | mem]")
}

// mem reports what the scorer costs a process: model load time, then live
// heap and resident set size after loading and after scoring a batch.
func mem(m *sentiment.Model, loaded time.Duration) error {
	fmt.Printf("load              %d ms\n", loaded.Milliseconds())
	report("after load", "")
	texts := []string{
		"Can you work a buy for 10 Dec corn at 4.52 limit, good till cancelled?",
		"Thanks, great fill on the crude this morning.",
		"I'm not happy with the slippage on yesterday's gold stop. Call me.",
		"Please send the contract specs for KC coffee and the margin requirements.",
	}
	start := time.Now()
	n := 0
	for time.Since(start) < time.Second {
		for _, t := range texts {
			m.Score(t)
			n++
		}
	}
	report("after scoring", fmt.Sprintf(" (%d messages, %.0f/s, GOMAXPROCS %d)", n, float64(n)/time.Since(start).Seconds(), runtime.GOMAXPROCS(0)))
	return nil
}

func report(when, extra string) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	fmt.Printf("%-17s heap %.1f MB, Go runtime total %.1f MB, %s%s\n", when,
		float64(s[0].Value.Uint64())/1e6, float64(s[1].Value.Uint64())/1e6, rss(), extra)
}

// rss reads the resident set size and its peak from /proc (Linux).
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "RSS unknown"
	}
	var cur, peak float64
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			cur = kB(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = kB(v)
		}
	}
	return fmt.Sprintf("RSS %.1f MB (peak %.1f MB)", cur/1e3, peak/1e3)
}

// kB parses a /proc/self/status value such as "  45012 kB".
func kB(v string) float64 {
	n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
	return n * 1.024
}
