package store

import (
	"strconv"
	"strings"
	"time"
)

// uncountable nouns keep their form: "3 feedback".
var uncountable = map[string]bool{"feedback": true}

// Count writes n with its noun, plural only when n is not 1: "1 client",
// "2 clients", "0 entries", "3 feedback". noun is the singular.
func Count(n int, noun string) string {
	return strconv.Itoa(n) + " " + Plural(n, noun)
}

// Plural is noun as it reads after the number n.
func Plural(n int, noun string) string {
	if n == 1 || n == -1 || uncountable[noun] {
		return noun
	}
	switch {
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	}
	return noun + "s"
}

// FormatDuration writes a length of time as people read it: "45s",
// "12m 5s", "10m", "1h 30m", "2h". Hours drop the seconds.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = -d
	}
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	var parts []string
	switch {
	case h > 0:
		parts = append(parts, strconv.Itoa(h)+"h")
		if m > 0 {
			parts = append(parts, strconv.Itoa(m)+"m")
		}
	case m > 0:
		parts = append(parts, strconv.Itoa(m)+"m")
		if s > 0 {
			parts = append(parts, strconv.Itoa(s)+"s")
		}
	default:
		parts = append(parts, strconv.Itoa(s)+"s")
	}
	return strings.Join(parts, " ")
}
