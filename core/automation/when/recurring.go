package when

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olebedev/when/rules/en"
)

// recurringExample is the form shown when a schedule cannot be read.
const recurringExample = "/schedule every weekday at 8:30 send me a summary of my open tasks"

// minInterval is the shortest interval a schedule may have.
const minInterval = time.Minute

// Recurring is a recurring schedule and the task to do at each occurrence.
type Recurring struct {
	// When is a recurring Schedule: Cron, or Every and Start.
	When Schedule
	// Task is what to do each time, as typed.
	Task string
}

// ParseRecurring reads the text after /schedule or /automate: a schedule,
// then the task. The schedules it reads:
//   - every 15 minutes, every 2 hours, every hour: a fixed interval of
//     real time from now (minute precision), at least a minute;
//   - every day at 7, every weekday at 8:30, every weekend at 10, every
//     monday and thursday at 18:00, every week on friday at 16, every
//     month on the 1st at 9: a cron expression read in zone, at 09:00
//     when no time is given;
//   - at 0 9 * * 1, or "0 9 * * 1" in quotes: a 5-field cron expression.
//
// "daily", "hourly", "weekly" and "monthly" stand for "every day" and so
// on. Refused, with an *Error: no task, an interval under a minute, every
// N days or months for N over 1, a cron expression with 6 fields or that
// never matches, and anything else it cannot read.
func ParseRecurring(text string, now time.Time, zone *time.Location) (Recurring, error) {
	zone = orUTC(zone)
	now = now.In(zone)

	s := strings.TrimSpace(text)
	if s == "" {
		return Recurring{}, refuse(recurringExample, "when should it run, and what should I do?")
	}

	sched, rest, err := readRecurrence(s, now)
	if err != nil {
		return Recurring{}, err
	}

	task := cleanTask(rest)
	if task == "" {
		return Recurring{}, refuse("/schedule every day at 7 check the build",
			"what should I do %s?", sched.Describe(zone))
	}

	if _, ok := sched.Next(now, zone); !ok {
		return Recurring{}, refuse(cronExample, "%s never comes", sched.Describe(zone))
	}

	return Recurring{When: sched, Task: task}, nil
}

// readRecurrence reads the schedule at the start of s and returns the rest.
func readRecurrence(s string, now time.Time) (Schedule, string, error) {
	if strings.ContainsRune("\"'`", rune(s[0])) {
		return readQuotedCron(s)
	}

	toks := tokenize(s)
	head := toks[0]

	switch {
	case head.is("at", "cron"):
		return readCron(s, toks[1:])
	case head.is("every", "each"):
		return readEvery(s, toks[1:], now)
	case head.is("daily", "hourly", "weekly", "monthly"):
		unit := map[string]string{"daily": "day", "hourly": "hour", "weekly": "week",
			"monthly": "month"}[head.text]
		toks[0].text = unit

		return readEvery(s, toks, now)
	default:
		return Schedule{}, "", refuse(recurringExample,
			"I could not read when to run it: start with \"every\", or give a cron "+
				"expression after \"at\"")
	}
}

// readQuotedCron reads a cron expression in quotes at the start of s.
func readQuotedCron(s string) (Schedule, string, error) {
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return Schedule{}, "", refuse(`/schedule "0 9 * * 1" check the build`,
			"the quote after %c is never closed", s[0])
	}

	expr := s[1 : 1+end]
	if err := ParseCron(expr); err != nil {
		return Schedule{}, "", err
	}

	return Schedule{Cron: strings.Join(strings.Fields(expr), " ")}, s[2+end:], nil
}

// cronField matches what a cron field can be made of: numbers, *, /, ,,
// -, ? and the names of days and months.
var cronField = regexp.MustCompile(`(?i)^(?:[0-9*/,?-]|sun|mon|tue|wed|thu|fri|sat|jan|feb|` +
	`mar|apr|may|jun|jul|aug|sep|oct|nov|dec)+$`)

// readCron reads a cron expression written without quotes after "at": the
// longest run of words that can be cron fields, which must be 5.
func readCron(s string, toks []token) (Schedule, string, error) {
	n := 0
	for n < len(toks) && n < 6 && cronField.MatchString(s[toks[n].start:toks[n].end]) {
		n++
	}

	if n < 5 {
		return Schedule{}, "", refuse(recurringExample,
			"a schedule repeats: say \"every day at 9\", or give a 5-field cron expression "+
				"such as \"at 0 9 * * 1\"")
	}

	expr := s[toks[0].start:toks[n-1].end]
	if err := ParseCron(expr); err != nil {
		return Schedule{}, "", err
	}

	return Schedule{Cron: strings.Join(strings.Fields(expr), " ")}, s[toks[n-1].end:], nil
}

// period is what "every ..." names: an interval, or days at a clock time.
type period struct {
	every        time.Duration
	dom          string // day of month, "*" for any
	dow          string // days of week, "*" for any
	hour, minute int
	used         int // tokens read
}

// readEvery reads what follows "every": an interval, or days with an
// optional clock time, and makes the Schedule.
func readEvery(s string, toks []token, now time.Time) (Schedule, string, error) {
	if len(toks) == 0 {
		return Schedule{}, "", refuse(recurringExample, "every what?")
	}

	p, err := readPeriod(toks, now)
	if err != nil {
		return Schedule{}, "", err
	}

	toks = toks[p.used:]
	rest := func() string {
		if len(toks) == 0 {
			return ""
		}

		return s[toks[0].start:]
	}

	if p.every > 0 {
		if len(toks) > 0 && toks[0].is("at") {
			return Schedule{}, "", refuse("/schedule at 15 * * * * check the build",
				"an interval has no clock time; for a time each hour, give a cron expression")
		}

		start := now.Truncate(time.Minute).UTC()

		return Schedule{Every: p.every, Start: start}, rest(), nil
	}

	p.hour = 9
	for len(toks) > 1 {
		n, err := readOption(s, toks, &p)
		if err != nil {
			return Schedule{}, "", err
		}

		if n == 0 {
			break
		}

		toks = toks[n:]
	}

	return Schedule{Cron: fmt.Sprintf("%d %d %s * %s", p.minute, p.hour, p.dom, p.dow)},
		rest(), nil
}

// readOption reads what may follow the days: "at 8:30", "on the 1st" for
// a month, "on friday" for a week. It returns the tokens used, 0 when
// toks start with none of them.
func readOption(s string, toks []token, p *period) (int, error) {
	switch {
	case toks[0].is("at"):
		h, m, n, err := readClock(s, toks)
		if n > 0 {
			p.hour, p.minute = h, m
		}

		return n, err
	case toks[0].is("on") && p.dom != "*":
		return readMonthDay(toks, p)
	case toks[0].is("on") && p.dow != "*":
		return readWeekdayOption(toks, p)
	default:
		return 0, nil
	}
}

// readPeriod reads the interval or the days after "every".
func readPeriod(toks []token, now time.Time) (period, error) {
	if days, n := readWeekdays(toks); n > 0 {
		return period{dom: "*", dow: days, used: n}, nil
	}

	first := toks[0]

	switch {
	case first.is("day", "night"):
		return period{dom: "*", dow: "*", used: 1}, nil
	case first.is("weekday", "weekdays", "workday", "workdays"):
		return period{dom: "*", dow: "1-5", used: 1}, nil
	case first.is("weekend", "weekends"):
		n := 1
		if len(toks) > 1 && toks[1].is("day", "days") {
			n++
		}

		return period{dom: "*", dow: "0,6", used: n}, nil
	case first.is("other"):
		return period{}, refuse("/schedule every monday and thursday at 9 water the plants",
			"I can't do every other day or week yet: name the weekdays instead")
	}

	n, l, ok := readTerm(toks)
	if u, isUnit := units[first.text]; isUnit && !ok {
		n, l, ok = 1, u, true
	}

	if !ok {
		return period{}, refuse(recurringExample, "I could not read \"every %s\"", first.text)
	}

	return periodOf(l, n, now)
}

// periodOf turns "every <length>" into a period.
func periodOf(l length, n int, now time.Time) (period, error) {
	switch {
	case l.real > 0 && l.years == 0 && l.months == 0 && l.days == 0:
		if l.real < minInterval {
			return period{}, refuse("/schedule every 15 minutes check the queue",
				"every %s is too often: the shortest interval is a minute",
				describeInterval(l.real))
		}

		return period{every: l.real, used: n}, nil
	case l == length{days: 1}:
		return period{dom: "*", dow: "*", used: n}, nil
	case l == length{days: 7}:
		return period{dom: "*", dow: strconv.Itoa(int(now.Weekday())), used: n}, nil
	case l == length{months: 1}:
		return period{dom: strconv.Itoa(now.Day()), dow: "*", used: n}, nil
	default:
		return period{}, refuse("/schedule every monday and thursday at 9 water the plants",
			"I can repeat every N minutes or hours, or every day, week or month, "+
				"but not every %s", describeLength(l))
	}
}

// describeLength says a calendar length: "2 days", "3 months".
func describeLength(l length) string {
	switch {
	case l.years > 0:
		return plural(l.years, "year")
	case l.months > 0:
		return plural(l.months, "month")
	case l.days%7 == 0:
		return plural(l.days/7, "week")
	default:
		return plural(l.days, "day")
	}
}

// readWeekdays reads a list of weekday names, "monday and thursday",
// "mon, wed, fri", into a cron day-of-week field.
func readWeekdays(toks []token) (string, int) {
	var days []int

	used := 0
	for i := 0; i < len(toks); i++ {
		d, ok := weekdayOf(toks[i].text)
		if !ok {
			break
		}

		days = append(days, d)
		used = i + 1

		if i+2 < len(toks) && toks[i+1].is("and", "&", "or") {
			i++
		}
	}

	if len(days) == 0 {
		return "", 0
	}

	slices.Sort(days)
	days = slices.Compact(days)

	names := make([]string, len(days))
	for i, d := range days {
		names[i] = strconv.Itoa(d)
	}

	return strings.Join(names, ","), used
}

// weekdayOf reads a weekday name, "monday", "mondays" or "mon".
func weekdayOf(s string) (int, bool) {
	if d, ok := en.WEEKDAY_OFFSET[s]; ok {
		return d, true
	}

	d, ok := en.WEEKDAY_OFFSET[strings.TrimSuffix(s, "s")]

	return d, ok && strings.HasSuffix(s, "s")
}

// readClock reads "at 8:30", "at 9 am", "at noon" from the start of toks
// and returns the hour, minute and tokens used; 0 tokens when what
// follows "at" is no clock time.
func readClock(s string, toks []token) (int, int, int, error) {
	for n := min(3, len(toks)); n >= 2; n-- {
		f, ok, err := readFields(s[toks[0].start:toks[n-1].end], time.Unix(0, 0))
		if err != nil {
			return 0, 0, 0, err
		}

		if ok && !f.dated() && f.hour != nil {
			h, m := f.clock()
			return h, m, n, nil
		}
	}

	return 0, 0, 0, nil
}

// readMonthDay reads "on the 1st" for a monthly schedule.
func readMonthDay(toks []token, p *period) (int, error) {
	n := 1
	if toks[n].is("the") && len(toks) > 2 {
		n++
	}

	d, ok := dayNumber(toks[n].text)
	if !ok {
		return 0, nil
	}

	if d < 1 || d > 31 {
		return 0, refuse("/schedule every month on the 1st at 9 pay the rent",
			"%d is not a day of the month", d)
	}

	p.dom = strconv.Itoa(d)

	return n + 1, nil
}

// readWeekdayOption reads "on friday" for a weekly schedule.
func readWeekdayOption(toks []token, p *period) (int, error) {
	days, n := readWeekdays(toks[1:])
	if n == 0 {
		return 0, nil
	}

	p.dow = days

	return n + 1, nil
}
