package ingest_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/embedded"
)

// scoreText scores a text that is its own score ("-0.8 ..."), so a test
// chooses each message's score.
type scoreText struct{}

func (scoreText) Score(text string) sentiment.Result {
	f, _ := strconv.ParseFloat(strings.Fields(text)[0], 64)
	switch {
	case f > 0:
		return sentiment.Result{Label: sentiment.Positive, Score: f}
	case f < 0:
		return sentiment.Result{Label: sentiment.Negative, Score: f}
	}
	return sentiment.Result{Label: sentiment.Neutral}
}

// failAfter is a timeline that fails every append after the first n, like a
// process that dies part-way.
type failAfter struct {
	store.TimelineStore
	n int
}

func (f *failAfter) AppendEvents(ctx context.Context, events ...*store.Event) error {
	if f.n == 0 {
		return store.Unavailable("timeline", context.DeadlineExceeded)
	}
	f.n--
	return f.TimelineStore.AppendEvents(ctx, events...)
}

type dropStores struct {
	timeline  store.TimelineStore
	sentiment store.SentimentStore
}

// The same messages recorded in any order, in any batch sizes, with or
// without a crash part-way, end with the same drop marks: the same ids,
// times and figures.
func TestDropMarksAreDeterministic(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		testDropMarksAreDeterministic(t, func(t *testing.T) dropStores {
			db, err := embedded.Open(t.Context(), t.TempDir(), store.DefaultCatalogue(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return dropStores{db.Timeline(), db}
		}, 120)
	})
	t.Run("postgres+cassandra", func(t *testing.T) {
		testDropMarksAreDeterministic(t, func(t *testing.T) dropStores {
			return dropStores{backendtest.Cassandra(t), backendtest.Postgres(t)}
		}, 75) // one sour spell: each message is a few round trips
	})
}

func testDropMarksAreDeterministic(t *testing.T, open func(t *testing.T) dropStores, days int) {
	ctx := context.Background()
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	// Four months of a relationship turning sour twice: happy weeks, then
	// complaints, then happy again, then complaints; several messages a
	// day on some days, ties in time on others.
	type msg struct {
		id    string
		at    time.Time
		score float64
	}
	r := rand.New(rand.NewPCG(7, 7))
	var msgs []msg
	for d := 0; d < days; d++ {
		mood := 0.7
		if (d >= 40 && d < 60) || d >= days-25 {
			mood = -0.7
		}
		for k := range r.IntN(3) {
			at := start.Add(time.Duration(d)*24*time.Hour + time.Duration(9+r.IntN(8))*time.Hour)
			if k == 1 && d%5 == 0 {
				at = msgs[len(msgs)-1].at // the same second as the one before
			}
			s := mood + (r.Float64()-0.5)*0.4
			msgs = append(msgs, msg{fmt.Sprintf("m%d-%d", d, k), at, float64(int(s*100)) / 100})
		}
	}

	run := func(t *testing.T, order []msg, batch, crashAfter int) []string {
		st := open(t)
		client := uuid.New()
		events := func(ms []msg) []*store.Event {
			var out []*store.Event
			for _, m := range ms {
				out = append(out, &store.Event{ClientID: client, Time: m.at, Kind: store.KindChat, Source: store.SourceSlack,
					SourceID: client.String() + "/" + m.id, Summary: fmt.Sprintf("%.2f client says", m.score)})
			}
			return out
		}
		rec := &ingest.Recorder{Timeline: st.timeline, Scorer: scoreText{}, Sentiment: st.sentiment}
		if crashAfter >= 0 {
			crashing := &ingest.Recorder{Timeline: &failAfter{st.timeline, crashAfter}, Scorer: scoreText{}, Sentiment: st.sentiment}
			for i := 0; i < len(order); i += batch {
				if err := crashing.Record(ctx, events(order[i:min(i+batch, len(order))])...); err != nil {
					break // the process died; the senders deliver again below
				}
			}
		}
		for i := 0; i < len(order); i += batch {
			if err := rec.Record(ctx, events(order[i:min(i+batch, len(order))])...); err != nil {
				t.Fatal(err)
			}
		}
		var marks []string
		q := store.EventQuery{Kinds: []store.Kind{store.KindEvent}, Limit: 1000}
		page, err := st.timeline.Events(ctx, client, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.Attrs.Signal() == store.SignalSentimentDrop {
				// The id names the message that tipped it, so it is
				// shown relative to the client.
				marks = append(marks, fmt.Sprintf("%s %s", e.Time.UTC().Format(time.RFC3339), e.Summary))
			}
		}
		slices.Sort(marks)
		return marks
	}

	want := run(t, msgs, len(msgs), -1)
	if len(want) < 2 {
		t.Fatalf("the history should mark drops on at least two days, got %v", want)
	}
	reversed := slices.Clone(msgs)
	slices.Reverse(reversed)
	shuffled := slices.Clone(msgs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, tc := range []struct {
		name       string
		order      []msg
		batch      int
		crashAfter int
	}{
		{"in order, one at a time", msgs, 1, -1},
		{"newest first, one at a time", reversed, 1, -1},
		{"shuffled, batches of 7", shuffled, 7, -1},
		{"shuffled, one at a time, crash after 40 appends", shuffled, 1, 40},
		{"newest first, batches of 3, crash after 25 appends", reversed, 3, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t, tc.order, tc.batch, tc.crashAfter); !slices.Equal(got, want) {
				t.Errorf("marks\n%s\nwant (all at once, in order)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
