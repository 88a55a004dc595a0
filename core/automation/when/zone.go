package when

import "time"

// instant returns the instant at which the wall clock in zone shows the
// given date and time. Out-of-range fields are normalised as by time.Date
// (day 32 is the 1st of the next month).
//
// Two DST cases have no single answer, and this is where they are decided
// for the whole package:
//   - A wall time that the clock skips (the spring-forward gap) maps to the
//     end of the gap: 02:30 on 2027-03-28 in Europe/Berlin is 03:00 CEST,
//     the first instant that exists after it on that day.
//   - A wall time that the clock shows twice (the autumn overlap) maps to
//     the first of the two: 02:30 on 2027-10-31 in Europe/Berlin is 02:30
//     CEST, not CET.
//
// time.Date leaves both choices open, and its answers differ between
// zones, so they are made here.
func instant(y int, mo time.Month, d, h, mi, s int, zone *time.Location) time.Time {
	wall := time.Date(y, mo, d, h, mi, s, 0, time.UTC)

	// Real zones change offset at most once in two days, so the offsets a
	// day either side are the only ones that can apply.
	before := offsetAt(wall.Add(-24*time.Hour), zone)
	after := offsetAt(wall.Add(24*time.Hour), zone)

	var best time.Time
	for _, off := range []time.Duration{before, after} {
		t := wall.Add(-off)
		if sameWall(t.In(zone), wall) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}

	if !best.IsZero() {
		return best
	}

	// In the gap: read with the offset from before it, the wall time lands
	// after the gap, in the period that starts when the gap ends.
	start, _ := wall.Add(-before).In(zone).ZoneBounds()

	return start
}

// offsetAt returns zone's offset from UTC at t.
func offsetAt(t time.Time, zone *time.Location) time.Duration {
	_, secs := t.In(zone).Zone()

	return time.Duration(secs) * time.Second
}

// sameWall reports whether a and b show the same date and clock time,
// whatever their zones.
func sameWall(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	ah, ami, as := a.Clock()
	bh, bmi, bs := b.Clock()

	return ay == by && am == bm && ad == bd && ah == bh && ami == bmi && as == bs
}

// wallOf returns t's date and clock time in zone as a UTC time, the frame
// in which cron fields are matched.
func wallOf(t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)

	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(),
		l.Nanosecond(), time.UTC)
}

// orUTC returns zone, or UTC when zone is nil.
func orUTC(zone *time.Location) *time.Location {
	if zone == nil {
		return time.UTC
	}

	return zone
}
