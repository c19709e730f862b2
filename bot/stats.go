package bot

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// activity is what a broker wants to know before a call: trading, notional,
// what the client actually trades, the last contacts each way and how the
// client has sounded lately.
func (b *Bot) activity(ctx context.Context, cl *store.Client, a *Actor) (Fields, error) {
	if b.stats == nil {
		return nil, nil
	}
	now := b.now()
	tr, err := b.stats.TradeStats(ctx, cl.ID, now)
	if err != nil {
		return nil, err
	}
	co, err := b.stats.ContactStats(ctx, cl.ID, now)
	if err != nil {
		return nil, err
	}
	se, err := b.stats.SentimentStats(ctx, cl.ID, now)
	if err != nil {
		return nil, err
	}
	var fs Fields
	if tr.Trades365d == 0 {
		fs = append(fs, Field{"Fills", "none in 365 days"})
	} else {
		fs = append(fs, Field{"Fills", fmt.Sprintf("%s · %s · %s",
			windowText(tr.Trades30d, tr.Volume30d, "30d"), windowText(tr.Trades90d, tr.Volume90d, "90d"), windowText(tr.Trades365d, tr.Volume365d, "365d"))})
		fs = append(fs, Field{"Notional (" + store.NotionalCurrency + ")", fmt.Sprintf("%s 30d · %s 90d · %s 365d",
			Money(tr.Notional30d), Money(tr.Notional90d), Money(tr.Notional365d))})
		traded := strings.Join(tr.Commodities, ", ")
		if cs := b.cat.ClassesOf(tr.Commodities); len(cs) > 0 {
			names := make([]string, len(cs))
			for i, c := range cs {
				names[i] = string(c)
			}
			traded += " (" + strings.Join(names, ", ") + ")"
		}
		if traded != "" {
			fs = append(fs, Field{"Traded", traded})
		}
	}
	if !tr.LastFill.IsZero() {
		fs = append(fs, Field{"Last fill", sinceText(tr.LastFill, now, a.Location)})
	}
	contact := func(at time.Time, kind store.Kind) string {
		if at.IsZero() {
			return "none"
		}
		return string(kind) + " " + sinceText(at, now, a.Location)
	}
	fs = append(fs, Field{"Last contact in", contact(co.LastInbound, co.InboundKind)})
	fs = append(fs, Field{"Last contact out", contact(co.LastOutbound, co.OutboundKind)})
	if se.Count30d > 0 {
		s := fmt.Sprintf("%+.2f over %s in 30 days", se.Mean30d, store.Count(se.Count30d, "message"))
		if se.Trend != 0 {
			s += fmt.Sprintf(", trend %+.2f", se.Trend)
		}
		fs = append(fs, Field{"Sentiment", s})
	}
	re, err := b.stats.Responsiveness(ctx, cl.ID)
	if err != nil {
		return nil, err
	}
	if re.Recommendations > 0 || re.Pending > 0 {
		s := responsiveFact(re)
		if re.Recommendations == 0 {
			s = "none decided yet"
		}
		if re.Pending > 0 {
			s += fmt.Sprintf("; %d still within %d business days", re.Pending, store.FollowBusinessDays)
		}
		fs = append(fs, Field{"Recommendations", s})
	}
	if re.Replies > 0 {
		fs = append(fs, Field{"Replies", replyFact(re)})
	}
	return fs, nil
}

func windowText(n int, volume float64, window string) string {
	return fmt.Sprintf("%s (%s contracts) %s", store.Count(n, "fill"), num(math.Round(volume*100)/100), window)
}

// sinceText is a time with how long ago it was: "2026-12-01 09:30 CST, 6 days ago".
func sinceText(t, now time.Time, loc *time.Location) string {
	d := now.Sub(t)
	var ago string
	switch {
	case d < 0:
		ago = "ahead"
	case d < time.Hour:
		ago = "within the hour"
	case d < 48*time.Hour:
		ago = store.Count(int(d/time.Hour), "hour") + " ago"
	default:
		ago = store.Count(int(d/(24*time.Hour)), "day") + " ago"
	}
	return formatTime(t, loc) + ", " + ago
}

// Money shows an amount the way a desk says it: 950, 12.5k, 3.2m, 1.1bn.
func Money(v float64) string {
	abs := math.Abs(v)
	f := func(x float64, suffix string) string {
		s := fmt.Sprintf("%.1f", x)
		s = strings.TrimSuffix(s, ".0")
		return s + suffix
	}
	switch {
	case abs >= 1e9:
		return f(v/1e9, "bn")
	case abs >= 1e6:
		return f(v/1e6, "m")
	case abs >= 1e4:
		return f(v/1e3, "k")
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
