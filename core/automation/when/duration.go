package when

import (
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/olebedev/when/rules/en"
)

// length is an amount of time as people say it: calendar parts, which keep
// the clock time (in 2 days), and real time, which does not (in 2 hours).
type length struct {
	years, months, days int
	real                time.Duration
}

// duration returns the length as real time, days counted as 24 hours; ok
// is false for months and years, which have no fixed length.
func (l length) duration() (time.Duration, bool) {
	if l.years != 0 || l.months != 0 {
		return 0, false
	}

	return time.Duration(l.days)*24*time.Hour + l.real, true
}

// addTo returns t moved by the length: calendar parts on the wall clock in
// t's zone, then real time.
func (l length) addTo(t time.Time) time.Time {
	if l.years != 0 || l.months != 0 || l.days != 0 {
		h, mi, s := t.Clock()
		t = instant(t.Year()+l.years, t.Month()+time.Month(l.months), t.Day()+l.days, h, mi,
			s, t.Location())
	}

	return t.Add(l.real)
}

// units maps the names of units to one of each.
var units = map[string]length{}

func init() {
	add := func(l length, names ...string) {
		for _, n := range names {
			units[n] = l
		}
	}

	add(length{real: time.Second}, "s", "sec", "secs", "second", "seconds")
	add(length{real: time.Minute}, "m", "min", "mins", "minute", "minutes")
	add(length{real: time.Hour}, "h", "hr", "hrs", "hour", "hours")
	add(length{days: 1}, "d", "day", "days")
	add(length{days: 7}, "w", "wk", "wks", "week", "weeks")
	add(length{months: 1}, "month", "months")
	add(length{years: 1}, "y", "yr", "yrs", "year", "years")
}

// glued splits "20min" and "2hours" into count and unit.
var glued = regexp.MustCompile(`^(\d+(?:\.\d+)?)([a-z]+)$`)

// readDuration reads a duration from the start of toks: "20 minutes",
// "2 hours 30 minutes", "2 hours and 30 minutes", "an hour", "half an
// hour", "1.5 hours", "2h30m". It returns the length and how many tokens
// it used; 0 when toks does not start with one.
func readDuration(toks []token) (length, int) {
	var total length

	used := 0
	for i := 0; i < len(toks); {
		n, l, ok := readTerm(toks[i:])
		if !ok {
			break
		}

		total = total.plus(l)
		i += n
		used = i

		if i+1 < len(toks) && toks[i].is("and", "&", "+") {
			i++
		}
	}

	return total, used
}

// readTerm reads one count and unit, returning the tokens used.
func readTerm(toks []token) (int, length, bool) {
	t := toks[0].text

	if m := glued.FindStringSubmatch(t); m != nil {
		l, ok := scaled(m[1], m[2])
		return 1, l, ok
	}

	if d, err := time.ParseDuration(t); err == nil && d > 0 {
		return 1, length{real: d}, true
	}

	if len(toks) < 2 {
		return 0, length{}, false
	}

	if t == "half" {
		return readHalf(toks)
	}

	l, ok := scaled(t, toks[1].text)

	return 2, l, ok
}

// readHalf reads "half an hour", "half a day".
func readHalf(toks []token) (int, length, bool) {
	n := 1
	if toks[n].is("a", "an") && len(toks) > 2 {
		n++
	}

	l, ok := scaled("0.5", toks[n].text)

	return n + 1, l, ok
}

// scaled returns count times the unit. A fraction is allowed only where
// it comes to whole seconds of real time or whole days.
func scaled(count, unit string) (length, bool) {
	u, ok := units[unit]
	if !ok {
		return length{}, false
	}

	n, ok := countOf(count)
	if !ok || n <= 0 {
		return length{}, false
	}

	switch {
	case u.real > 0:
		d := time.Duration(math.Round(n * float64(u.real)))
		return length{real: d}, d > 0 && d%time.Second == 0
	case n != math.Trunc(n) && u.days > 0:
		return length{real: time.Duration(n * float64(u.days) * float64(24*time.Hour))}, true
	case n != math.Trunc(n):
		return length{}, false
	default:
		k := int(n)
		return length{years: u.years * k, months: u.months * k, days: u.days * k}, true
	}
}

// countOf reads a count: digits, "a", "an", or a word from one to twelve.
func countOf(s string) (float64, bool) {
	if s == "a" || s == "an" {
		return 1, true
	}

	if n, ok := en.INTEGER_WORDS[s]; ok {
		return float64(n), true
	}

	n, err := strconv.ParseFloat(s, 64)

	return n, err == nil && n < 1e6
}

// plus adds two lengths.
func (l length) plus(o length) length {
	return length{l.years + o.years, l.months + o.months, l.days + o.days, l.real + o.real}
}
