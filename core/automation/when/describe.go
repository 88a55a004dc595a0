package when

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// describeCron says a cron expression in words when it has a simple
// reading, and shows it as it is otherwise.
func describeCron(expr string) string {
	f := strings.Fields(expr)
	if len(f) == 5 && f[3] == "*" {
		if words, ok := cronWords(f); ok {
			return words
		}
	}

	return "at " + expr + " (cron)"
}

// cronWords reads the shapes that ParseRecurring writes, and the like of
// them typed by hand: a fixed time every day, on some weekdays, or on one
// day of every month; a fixed minute of every hour; every N minutes.
func cronWords(f []string) (string, bool) {
	minute, dom, dow := f[0], f[2], f[4]

	if n, ok := strings.CutPrefix(minute, "*/"); ok && f[1] == "*" && dom == "*" &&
		dow == "*" {
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			return "every " + describeInterval(time.Duration(k)*time.Minute), true
		}
	}

	m, ok := number(minute, 0, 59)
	if !ok {
		return "", false
	}

	if f[1] == "*" && dom == "*" && dow == "*" {
		return fmt.Sprintf("every hour at %02d minutes past", m), true
	}

	h, ok := number(f[1], 0, 23)
	if !ok {
		return "", false
	}

	at := fmt.Sprintf(" at %02d:%02d", h, m)

	switch {
	case dom == "*":
		days, ok := weekdayWords(dow)
		return "every " + days + at, ok
	case dow == "*":
		d, ok := number(dom, 1, 31)
		return "every month on the " + ordinal(d) + at, ok
	default:
		return "", false
	}
}

// number reads s as a whole number from lo to hi.
func number(s string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}

	return n, true
}

// weekdayWords names the days of a cron day-of-week field: "day",
// "weekday", "Monday and Thursday".
func weekdayWords(dow string) (string, bool) {
	if dow == "*" {
		return "day", true
	}

	days, ok := weekdaySet(dow)
	if !ok || len(days) == 0 {
		return "", false
	}

	switch {
	case len(days) == 7:
		return "day", true
	case slices.Equal(days, []time.Weekday{1, 2, 3, 4, 5}):
		return "weekday", true
	}

	// Monday first, as people list them.
	slices.SortFunc(days, func(a, b time.Weekday) int { return (int(a)+6)%7 - (int(b)+6)%7 })

	names := make([]string, len(days))
	for i, d := range days {
		names[i] = d.String()
	}

	if len(names) == 1 {
		return names[0], true
	}

	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1], true
}

// cronDays maps the day names cron takes to their numbers.
var cronDays = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5,
	"sat": 6}

// weekdaySet reads a day-of-week field made of numbers, names and ranges
// (no steps) into its sorted days.
func weekdaySet(dow string) ([]time.Weekday, bool) {
	seen := map[time.Weekday]bool{}

	for item := range strings.SplitSeq(strings.ToLower(dow), ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		if !isRange {
			hi = lo
		}

		a, okA := cronDay(lo)
		b, okB := cronDay(hi)
		if !okA || !okB || a > b {
			return nil, false
		}

		for d := a; d <= b; d++ {
			seen[time.Weekday(d%7)] = true
		}
	}

	var days []time.Weekday
	for d := range seen {
		days = append(days, d)
	}

	slices.Sort(days)

	return days, true
}

// cronDay reads one day of a day-of-week field: 0 to 7 or a name.
func cronDay(s string) (int, bool) {
	if d, ok := cronDays[s]; ok {
		return d, true
	}

	return number(s, 0, 7)
}

// ordinal returns 1st, 2nd, 3rd, 4th, ... 21st, 22nd, 31st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}

	return strconv.Itoa(n) + suffix
}
