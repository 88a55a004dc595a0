package when

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when an automation fires. Exactly one of At, Cron and
// Every is set; the zero Schedule never fires.
type Schedule struct {
	// At is the one-shot time, in UTC; zero for a recurring schedule.
	At time.Time
	// Cron is a 5-field cron expression read in the person's zone; ""
	// otherwise.
	Cron string
	// Every is a fixed interval of real time; 0 otherwise.
	Every time.Duration
	// Start anchors Every, in UTC: the occurrences are Start + k*Every.
	Start time.Time
}

// cronExample is the form shown when a cron expression cannot be read.
const cronExample = "/schedule at 0 9 * * 1 check the build (minute, hour, day of month, " +
	"month, day of week: Mondays at 09:00)"

// cronParser reads exactly the five standard fields; descriptors such as
// @daily and a seconds field are refused.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Recurring reports whether the schedule fires more than once.
func (s Schedule) Recurring() bool {
	return s.Cron != "" || s.Every > 0
}

// Next returns the first occurrence strictly after t, in UTC, and false
// when there is none: a one-shot that has passed, a cron expression that
// never matches or cannot be read, or the zero Schedule. A cron expression
// is matched against the wall clock in zone (UTC when nil); see instant for
// the DST gap and overlap.
func (s Schedule) Next(t time.Time, zone *time.Location) (time.Time, bool) {
	switch {
	case s.Every > 0:
		return s.nextEvery(t), true
	case s.Cron != "":
		return nextCron(s.Cron, t, orUTC(zone))
	case !s.At.IsZero() && s.At.After(t):
		return s.At.UTC(), true
	default:
		return time.Time{}, false
	}
}

// nextEvery returns the first Start + k*Every, k >= 0, after t.
func (s Schedule) nextEvery(t time.Time) time.Time {
	if t.Before(s.Start) {
		return s.Start.UTC()
	}

	k := t.Sub(s.Start)/s.Every + 1

	return s.Start.Add(k * s.Every).UTC()
}

// nextCron returns the first instant after t at which expr matches the
// wall clock in zone.
//
// The library is asked in UTC, where no DST exists, for the next matching
// wall time, and that wall time is then placed in zone by instant. Asked
// in zone itself, robfig/cron skips a job whose time falls in the spring
// gap and runs it twice in the autumn overlap. Each wall time fires once:
// a time in the gap at the end of the gap, a time in the overlap at its
// first instant, and no wall time that has already fired fires again
// when the clock shows it a second time.
func nextCron(expr string, t time.Time, zone *time.Location) (time.Time, bool) {
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return time.Time{}, false
	}

	wall := wallOf(t, zone)

	// In the overlap hour every wall time up to its end may already have
	// fired; a minute-by-minute expression needs at most 60 steps to leave
	// it.
	for range 120 {
		wall = sched.Next(wall)
		if wall.IsZero() {
			return time.Time{}, false
		}

		at := instant(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0,
			zone)
		if at.After(t) {
			return at.UTC(), true
		}
	}

	return time.Time{}, false
}

// ParseCron checks a 5-field cron expression (minute, hour, day of month,
// month, day of week). Six fields, as some schedulers take with seconds
// first, are refused with a reason that says so. The error is an *Error.
func ParseCron(expr string) error {
	fields := strings.Fields(expr)

	switch {
	case len(fields) == 6:
		return refuse(cronExample, "%q has 6 fields, but seconds are not supported: "+
			"give the 5 fields minute, hour, day of month, month and day of week", expr)
	case len(fields) != 5:
		return refuse(cronExample, "a cron expression has 5 fields (minute, hour, "+
			"day of month, month, day of week), and %q has %d", expr, len(fields))
	}

	if _, err := cronParser.Parse(expr); err != nil {
		return refuse(cronExample, "I can't read the cron expression %q: %v", expr, err)
	}

	return nil
}

// Describe says the schedule in words, with times in zone (UTC when nil):
// "on Fri 4 Dec 2026 at 17:30", "every 2 hours", "every weekday at 08:30",
// "every Monday and Thursday at 18:00", "every month on the 1st at 09:00".
// A cron expression with no simple reading is shown as it is, as
// "at */5 9-17 * * 1-5 (cron)".
func (s Schedule) Describe(zone *time.Location) string {
	zone = orUTC(zone)

	switch {
	case s.Every > 0:
		return "every " + describeInterval(s.Every)
	case s.Cron != "":
		return describeCron(s.Cron)
	case !s.At.IsZero():
		return "on " + s.At.In(zone).Format("Mon 2 Jan 2006") + " at " + clockText(s.At.In(zone))
	default:
		return "never"
	}
}

// clockText returns t's clock time as 15:04, with seconds when there are
// any.
func clockText(t time.Time) string {
	if t.Second() != 0 {
		return t.Format("15:04:05")
	}

	return t.Format("15:04")
}

// describeInterval says d as people would: "hour", "2 hours", "90
// minutes", "1 day 2 hours".
func describeInterval(d time.Duration) string {
	for _, u := range []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"},
		{time.Second, "second"}} {
		switch {
		case d == u.size:
			return u.name
		case d%u.size == 0:
			return plural(int(d/u.size), u.name)
		}
	}

	return d.String()
}

// plural returns "1 hour" or "2 hours".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}

	return fmt.Sprintf("%d %ss", n, unit)
}
