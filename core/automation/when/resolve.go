package when

import (
	"strings"
	"time"
)

// maxAheadYears is how many years ahead a one-shot time may be.
const maxAheadYears = 5

// parseMoment reads a one-shot time phrase, "tomorrow at 9" or "in 20
// minutes", against now (in the person's zone), and returns it in UTC.
// It reports ok false when the phrase is not wholly a time phrase; err is
// an *Error when it is one that cannot be (in the past, 31 February).
func parseMoment(phrase string, now time.Time) (time.Time, bool, error) {
	toks := tokenize(phrase)
	if len(toks) == 0 {
		return time.Time{}, false, nil
	}

	var (
		at  time.Time
		ok  bool
		err error
	)

	if toks[0].is("in", "after") {
		at, ok, err = parseIn(phrase, toks[1:], now)
	} else {
		at, ok, err = parseCalendar(phrase, now)
	}

	if !ok || err != nil {
		return time.Time{}, ok, err
	}

	if at.After(now.AddDate(maxAheadYears, 0, 0)) {
		return time.Time{}, true, refuse("on 2027-01-15 at 10:00",
			"%s is more than %d years ahead", describeAt(at, now.Location()), maxAheadYears)
	}

	return at.UTC(), true, nil
}

// parseIn reads "in 20 minutes", "in 2 hours 30 minutes", and "in 3 days
// at 9". Real time is added as real time, across a DST change too; days
// keep the clock time.
func parseIn(phrase string, toks []token, now time.Time) (time.Time, bool, error) {
	l, used := readDuration(toks)
	if used == 0 {
		return time.Time{}, false, nil
	}

	if used == len(toks) {
		return l.addTo(now), true, nil
	}

	// "in 3 days at 9": whole days, then a clock time.
	tail := strings.TrimSpace(phrase[toks[used].start:])
	if l.real != 0 || !toks[used].is("at") {
		return time.Time{}, false, nil
	}

	f, ok, err := readFields(tail, now)
	if err != nil {
		return time.Time{}, true, err
	}

	if !ok || f.dated() || f.hour == nil {
		return time.Time{}, false, nil
	}

	h, mi := f.clock()
	y, mo, d := now.Date()

	return instant(y+l.years, mo+time.Month(l.months), d+l.days, h, mi, 0, now.Location()),
		true, nil
}

// parseCalendar reads a phrase of day and clock time and places it in time.
func parseCalendar(phrase string, now time.Time) (time.Time, bool, error) {
	f, ok, err := readFields(phrase, now)
	if !ok || err != nil {
		return time.Time{}, ok, err
	}

	at, err := f.resolve(now)

	return at, true, err
}

// resolve places the fields in time. A clock time alone is the next one to
// come; a date without a year is the next one to come; a day that was
// named (today, tomorrow, Friday, 2027-01-15) is taken as said, and
// refused when its time has passed.
func (f fields) resolve(now time.Time) (time.Time, error) {
	zone := now.Location()
	h, mi := f.clock()
	y, mo, d := now.Date()

	switch {
	case f.year != nil || f.month != nil || f.day != nil:
		return f.resolveDate(now, h, mi)
	case f.days != 0 || f.today:
		return future(instant(y, mo, d+f.days, h, mi, 0, zone), now)
	case f.hour == nil:
		return time.Time{}, refuse(momentExample, "I could not tell when you mean")
	default:
		at := instant(y, mo, d, h, mi, 0, zone)
		if !at.After(now) {
			at = instant(y, mo, d+1, h, mi, 0, zone)
		}

		return at, nil
	}
}

// resolveDate places a date that names its day, with or without month and
// year: "on 5 March", "on 15 January 2027", "on the 5th".
func (f fields) resolveDate(now time.Time, h, mi int) (time.Time, error) {
	zone := now.Location()

	switch {
	case f.day == nil && f.month != nil:
		return time.Time{}, refuse("on 5 March at 14:00", "which day of %s?",
			time.Month(*f.month))
	case f.day == nil:
		return time.Time{}, refuse(momentExample, "I could not tell which day you mean")
	case *f.day < 1 || *f.day > 31:
		return time.Time{}, refuse("on the 5th at 9", "%d is not a day of the month", *f.day)
	case f.month != nil && *f.day > daysIn(2028, time.Month(*f.month)):
		return time.Time{}, refuse("on 28 February at 9", "%d %s is not a date", *f.day,
			time.Month(*f.month))
	case f.year != nil && f.month != nil:
		mo := time.Month(*f.month)
		if *f.day > daysIn(*f.year, mo) {
			return time.Time{}, refuse("on 28 February 2027 at 9", "%d %s %d is not a date",
				*f.day, mo, *f.year)
		}

		return future(instant(*f.year, mo, *f.day, h, mi, 0, zone), now)
	}

	// No year, or no month either: the next such date to come. Thirteen
	// years find the next 29 February; thirteen months the next 31st.
	y, mo, _ := now.Date()
	for k := range 13 {
		cy, cm := y, mo+time.Month(k)
		if f.month != nil {
			cy, cm = y+k, time.Month(*f.month)
		}

		if *f.day > daysIn(cy, cm) {
			continue
		}

		if at := instant(cy, cm, *f.day, h, mi, 0, zone); at.After(now) {
			return at, nil
		}
	}

	return time.Time{}, refuse(momentExample, "I could not find that date ahead")
}

// future returns at, or a refusal when it is not after now.
func future(at, now time.Time) (time.Time, error) {
	if !at.After(now) {
		return time.Time{}, refuse("tomorrow at 9 or in 20 minutes",
			"%s has already passed", describeAt(at, now.Location()))
	}

	return at, nil
}

// daysIn returns the number of days in month mo of year y.
func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// describeAt says a one-shot time in zone: "Fri 4 Dec 2026 at 17:30".
func describeAt(t time.Time, zone *time.Location) string {
	l := t.In(zone)

	return l.Format("Mon 2 Jan 2006") + " at " + clockText(l)
}
