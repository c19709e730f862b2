package sentiment_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	cdipaolo "github.com/cdipaolo/sentiment"

	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/moviebayes"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/train"
)

// The embedded models are exactly what go generate produces from the
// checked-in data: nobody hand-edited them, and the generator is
// deterministic. Regenerating takes under 10 s without -race and over a
// minute with it, so it is skipped under -race and -short.
func TestEmbeddedModelIsReproducible(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("slow; run: go test -run TestEmbeddedModelIsReproducible ./ingest/sentiment/")
	}
	lib, err := cdipaolo.Restore()
	if err != nil {
		t.Fatal(err)
	}
	nb := lib[cdipaolo.English]
	words, err := moviebayes.Words(nb)
	if err != nil {
		t.Fatal(err)
	}
	movieData, err := moviebayes.Export(nb, words)
	if err != nil {
		t.Fatal(err)
	}
	if embedded, _ := os.ReadFile("cdipaolo.model"); !bytes.Equal(movieData, embedded) {
		t.Error("cdipaolo.model differs from a fresh export of cdipaolo/sentiment; run go generate ./ingest/sentiment/")
	}
	movie, err := moviebayes.Load(movieData)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/twitter-financial-news/train.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := dataset.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	got := train.Generate(rows, movie, train.DefaultConfig())
	if embedded, _ := os.ReadFile("finance.model"); !bytes.Equal(got, embedded) {
		t.Error("finance.model differs from a fresh training run; run go generate ./ingest/sentiment/")
	}
}

// The product budget is 150 ms to load. The CPU time New uses is checked,
// not the wall time, which on a busy shared machine mostly measures other
// processes; the best of three runs is taken. BenchmarkNew gives the wall
// time on an idle machine.
func TestLoadTimeBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("timing is meaningless under -race")
	}
	best, bestWall := time.Hour, time.Hour
	for range 3 {
		runtime.GC()
		cpu0, ok := cpuTime()
		start := time.Now()
		if _, err := sentiment.New(); err != nil {
			t.Fatal(err)
		}
		wall := time.Since(start)
		cpu1, _ := cpuTime()
		if !ok {
			cpu0, cpu1 = 0, wall
		}
		best, bestWall = min(best, cpu1-cpu0), min(bestWall, wall)
	}
	t.Logf("New: %v CPU, %v wall (best of 3)", best.Round(time.Millisecond), bestWall.Round(time.Millisecond))
	if best > 150*time.Millisecond {
		t.Errorf("New used %v of CPU, budget 150ms", best)
	}
}

// The product budget is 100 MB resident for the scorer. The live heap
// that New adds is measured here; RSS is measured in a fresh copy of this
// test binary that does nothing but load the model and score, because this
// process also holds whatever other tests loaded (cdipaolo.Restore alone
// leaves tens of MB). RSS is Linux-only and not checked under -race, which
// inflates it.
func TestMemoryBudget(t *testing.T) {
	if os.Getenv("SENTIMENT_RSS_CHILD") == "1" {
		m, err := sentiment.New()
		if err != nil {
			t.Fatal(err)
		}
		// Score enough to reach the garbage collector's steady state.
		rows := validRows(t)
		for range 10 {
			for _, r := range rows {
				m.Score(r.text)
			}
		}
		rss, _ := residentBytes("VmHWM:") // the peak, not the current size
		fmt.Printf("rss=%d\n", rss)
		return
	}
	before := heapBytes()
	m, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	heap := heapBytes() - before
	runtime.KeepAlive(m)
	t.Logf("heap added by New: %.1f MB", float64(heap)/1e6)
	if heap > 100e6 {
		t.Errorf("model heap %.1f MB, budget 100 MB", float64(heap)/1e6)
	}
	if raceEnabled || runtime.GOOS != "linux" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestMemoryBudget$")
	cmd.Env = append(os.Environ(), "SENTIMENT_RSS_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var rss int64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "rss="); ok {
			rss, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	t.Logf("peak resident set of a process that loaded the model and scored valid.csv ten times: %.1f MB", float64(rss)/1e6)
	if rss <= 0 || rss > 100e6 {
		t.Errorf("RSS %.1f MB, budget 100 MB", float64(rss)/1e6)
	}
}

func heapBytes() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// residentBytes reads a size field (VmRSS:, VmHWM:) of /proc/self/status.
func residentBytes(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// BenchmarkScoreShort measures short client messages and finance
// headlines, one goroutine, reported as messages per second:
//
//	go test -run '^$' -bench ScoreShort -cpu 1 ./ingest/sentiment/
func BenchmarkScoreShort(b *testing.B) {
	m := load(b)
	var texts []string
	for _, tc := range clientMessages {
		texts = append(texts, tc.text)
	}
	for _, r := range validRows(b)[:200] {
		texts = append(texts, r.text)
	}
	b.ReportAllocs()
	cpu0, ok := cpuTime()
	i := 0
	for b.Loop() {
		m.Score(texts[i%len(texts)])
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
	// msgs/cpu-s counts only this process's CPU time (garbage collection
	// included), which is what one core delivers when nothing else runs.
	if cpu1, _ := cpuTime(); ok && cpu1 > cpu0 {
		b.ReportMetric(float64(i)/(cpu1-cpu0).Seconds(), "msgs/cpu-s")
	}
}

// BenchmarkNew measures loading both embedded models.
//
//	go test -run '^$' -bench New -cpu 1 ./ingest/sentiment/
func BenchmarkNew(b *testing.B) {
	cpu0, ok := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := sentiment.New(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(n), "ms/load")
	if cpu1, _ := cpuTime(); ok {
		b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(n), "cpu-ms/load")
	}
}
