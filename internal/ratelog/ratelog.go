// Package ratelog bounds how often a flood of the same event is logged: a
// burst of unsigned requests writes one line per interval, with the number
// of lines it held back, instead of one line per request. Metrics still
// count every event; only the log is thinned.
package ratelog

import (
	"sync"
	"time"
)

// DefaultEvery is the interval of the lines about refused requests.
const DefaultEvery = 10 * time.Second

// Limiter lets one line through per interval. The zero value is not usable;
// use New. It is safe for concurrent use.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// New returns a limiter that allows one line every interval; now is the
// clock (nil for time.Now).
func New(every time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: every, now: now}
}

// Allow reports whether this event may be logged and, when it may, how many
// events were held back since the last line.
func (l *Limiter) Allow() (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	l.last, suppressed, l.suppressed = now, l.suppressed, 0
	return true, suppressed
}
