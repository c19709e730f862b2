package store

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// ActivityWindows are the windows of trades, volume and notional: a
// window of length W at now is (now-W, now].
var ActivityWindows = [3]time.Duration{30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour}

// SentimentWindow is the window of the mean sentiment a filter compares.
const SentimentWindow = 30 * 24 * time.Hour

// Activity is a client's statistics as the stores keep them in columns
// (table client_stats), so that segment filters compare a column instead
// of aggregating fills, contacts and scores per client per query.
//
// The values are exactly what the aggregates over the fill, contact and
// sentiment tables give at every instant now with From <= now < Until (a
// zero Until: until something is recorded). Until is the first instant
// after the row was counted at which time alone changes a value: a fill or
// score leaving a window, or an event dated later entering. Recording an
// event updates the row in the same transaction (Recorded.Apply), or
// recounts it when it no longer holds; a periodic pass recounts the rows
// whose Until has passed; and a filter asked about an instant a row does
// not hold at falls back to the aggregate. So a filter's answer is always
// the aggregate's.
type Activity struct {
	ClientID     uuid.UUID
	From, Until  time.Time
	Trades       [3]int     // fills in ActivityWindows
	Volume       [3]float64 // contracts
	Notional     [3]float64 // in NotionalCurrency
	Commodities  []string   // traded in the last window, sorted
	LastFill     time.Time  // zero: none
	LastInbound  time.Time  // a "both" contact counts in each direction
	LastOutbound time.Time
	// SentimentSum and SentimentCount are over SentimentWindow.
	SentimentSum   float64
	SentimentCount int
}

// StaleActivity is the From and Until of a row that holds at no instant:
// it is recounted before it is used.
var StaleActivity = time.Unix(0, 0).UTC()

// Holds reports whether the row's values are those of now.
func (a *Activity) Holds(now time.Time) bool {
	return !a.From.After(now) && (a.Until.IsZero() || now.Before(a.Until))
}

// until lowers Until to t.
func (a *Activity) until(t time.Time) {
	if a.Until.IsZero() || t.Before(a.Until) {
		a.Until = t
	}
}

// from raises From to t.
func (a *Activity) from(t time.Time) {
	if t.After(a.From) {
		a.From = t
	}
}

// item accounts for an event at t, counted in windows of length ws, with
// the row taken as of now: an event after now only shortens Until (it
// enters then); one in a window at now is counted there (add(i)) and
// shortens Until to when it leaves; one that has left a window by now
// raises From to when it left, since before that the window held it.
// It reports whether t is at or before now.
func (a *Activity) item(t, now time.Time, ws []time.Duration, add func(i int)) bool {
	t = t.Truncate(time.Microsecond)
	if t.After(now) {
		a.until(t)
		return false
	}
	a.from(t)
	for i, w := range ws {
		if end := t.Add(w); end.After(now) {
			add(i)
			a.until(end)
		} else {
			a.from(end)
		}
	}
	return true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// AddFill counts a newly recorded fill in a row that holds at now.
func (a *Activity) AddFill(f Fill, cat *Catalogue, now time.Time) {
	notional, currency := f.Value(cat)
	in365 := false
	if a.item(f.At, now, ActivityWindows[:], func(i int) {
		a.Trades[i]++
		a.Volume[i] += f.Quantity
		if currency == NotionalCurrency {
			a.Notional[i] += notional
		}
		in365 = in365 || i == len(ActivityWindows)-1
	}) {
		a.LastFill = later(a.LastFill, f.At.Truncate(time.Microsecond))
	}
	if in365 && f.Commodity != "" && !slices.Contains(a.Commodities, f.Commodity) {
		a.Commodities = append(a.Commodities, f.Commodity)
		slices.Sort(a.Commodities)
	}
}

// AddContact counts a newly recorded contact in a row that holds at now.
func (a *Activity) AddContact(c Contact, now time.Time) {
	if !a.item(c.At, now, nil, nil) {
		return
	}
	at := c.At.Truncate(time.Microsecond)
	if c.Direction == Inbound || c.Direction == Both {
		a.LastInbound = later(a.LastInbound, at)
	}
	if c.Direction == Outbound || c.Direction == Both {
		a.LastOutbound = later(a.LastOutbound, at)
	}
}

// AddScore counts a newly recorded score in a row that holds at now.
func (a *Activity) AddScore(s Score, now time.Time) {
	a.item(s.At, now, []time.Duration{SentimentWindow}, func(int) {
		a.SentimentSum += s.Score
		a.SentimentCount++
	})
}

// Recorded is what one write newly recorded (redeliveries left out), to be
// counted in the clients' activity rows in the same transaction.
type Recorded struct {
	Fills    []Fill
	Contacts []Contact
	Scores   []Score
	ScoresOf uuid.UUID // the client of Scores
}

// Clients are the clients of what was recorded, sorted, each once: the
// order the stores lock their rows in.
func (r Recorded) Clients() []uuid.UUID {
	var ids []uuid.UUID
	for _, f := range r.Fills {
		ids = append(ids, f.ClientID)
	}
	for _, c := range r.Contacts {
		ids = append(ids, c.ClientID)
	}
	if len(r.Scores) > 0 {
		ids = append(ids, r.ScoresOf)
	}
	return SortedIDs(ids)
}

// SortedIDs sorts ids and drops repeats.
func SortedIDs(ids []uuid.UUID) []uuid.UUID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(ids)
}

// Apply counts what was recorded in the rows of its clients (rows[id];
// nil for a client without one), as of now; fills are valued with cat. It returns the rows it
// changed, and the clients whose row does not hold at now: those must be
// recounted from the tables, which already hold what was recorded.
//
// Times count to the microsecond, as the stores keep them.
func (r Recorded) Apply(rows map[uuid.UUID]*Activity, cat *Catalogue, now time.Time) (changed []*Activity, recount []uuid.UUID) {
	now = now.Truncate(time.Microsecond)
	for _, id := range r.Clients() {
		a := rows[id]
		if a == nil || !a.Holds(now) {
			recount = append(recount, id)
			continue
		}
		for _, f := range r.Fills {
			if f.ClientID == id {
				a.AddFill(f, cat, now)
			}
		}
		for _, c := range r.Contacts {
			if c.ClientID == id {
				a.AddContact(c, now)
			}
		}
		if id == r.ScoresOf {
			for _, s := range r.Scores {
				a.AddScore(s, now)
			}
		}
		changed = append(changed, a)
	}
	return changed, recount
}

// ActivityStore keeps the activity rows current as time passes.
type ActivityStore interface {
	// RefreshActivity recounts, as of now, the rows that no longer hold
	// at now (a window's content changed, or the row was never counted),
	// and returns how many it recounted.
	RefreshActivity(ctx context.Context, now time.Time) (int, error)
}
