package when

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	nlwhen "github.com/olebedev/when"
	"github.com/olebedev/when/rules"
	"github.com/olebedev/when/rules/en"
)

// momentExample is the form shown when a one-shot time cannot be read.
const momentExample = "tomorrow at 9, on Friday at 17:30, on 2027-01-15 at 10:00 " +
	"or in 20 minutes"

// namedRule is a rule of the date library with a name for the recorder.
type namedRule struct {
	name string
	rule rules.Rule
}

// momentRules are the library's English rules that read a calendar date
// and a clock time, and ours for the phrases it lacks. Later rules
// override earlier ones: "at 9 pm" is read by the bare hour rule as 09:00
// and then by the library's as 21:00. The library's rules for "in 2
// hours" and "2 hours ago" are left out: readDuration reads durations,
// several units at once.
var momentRules = []namedRule{
	{"weekday", en.Weekday(rules.Override)},
	{"casual date", en.CasualDate(rules.Override)},
	{"casual time", en.CasualTime(rules.Override)},
	{"bare hour", bareHourRule},
	{"midnight", midnightRule},
	{"hour", en.Hour(rules.Override)},
	{"hour minute", en.HourMinute(rules.Override)},
	{"month date", en.ExactMonthDate(rules.Override)},
	{"year", yearRule},
	{"day of month", dayOfMonthRule},
}

// yearRule reads a date with a month name and a year, "15 January 2027"
// or "March 5th, 2027": the library's month rule reads the year as a day
// and gives up.
var yearRule = &rules.F{
	RegExp: regexp.MustCompile(`(?i)(?:\W|^)(?:(\d{1,2}|` + ordinals + `)(?:\s+of)?\s+)?(` +
		en.MONTH_OFFSET_PATTERN + `)(?:\s+(\d{1,2}|` + ordinals + `))?,?\s+(\d{4})(?:\W|$)`),
	Applier: func(m *rules.Match, c *rules.Context, _ *rules.Options, _ time.Time) (bool, error) {
		day, ok := dayNumber(m.Captures[0] + m.Captures[2])
		month, okMonth := en.MONTH_OFFSET[strings.ToLower(m.Captures[1])]
		year, err := strconv.Atoi(m.Captures[3])
		if !ok || !okMonth || err != nil {
			return false, nil
		}

		c.Year, c.Month, c.Day = &year, &month, &day

		return true, nil
	},
}

// ordinals matches the ordinal words the library knows, "5th", "fifth".
var ordinals = en.ORDINAL_WORDS_PATTERN

// dayNumber reads a day of the month given as "5" or "5th".
func dayNumber(s string) (int, bool) {
	s = strings.ToLower(s)
	if d, ok := en.ORDINAL_WORDS[s]; ok {
		return d, true
	}

	return number(s, 1, 99)
}

// dayOfMonthRule reads "the 5th" without a month.
var dayOfMonthRule = &rules.F{
	RegExp: regexp.MustCompile(`(?i)(?:\W|^)the\s+(` + en.ORDINAL_WORDS_PATTERN + `)(?:\W|$)`),
	Applier: func(m *rules.Match, c *rules.Context, _ *rules.Options, _ time.Time) (bool, error) {
		d, ok := en.ORDINAL_WORDS[strings.ToLower(m.Captures[0])]
		if !ok {
			return false, nil
		}

		c.Day = &d

		return true, nil
	},
}

// bareHourRule reads a 24-hour clock hour without minutes, "at 9" or "at
// 17", which the library reads only with am or pm. It also matches the
// hour of "at 9 pm", which the library's rule after it then corrects.
var bareHourRule = &rules.F{
	RegExp: regexp.MustCompile(`(?i)(?:\W|^)at\s+(\d{1,2})(\s*o'?clock)?(?:[^\w:.]|$)`),
	Applier: func(m *rules.Match, c *rules.Context, _ *rules.Options, _ time.Time) (bool, error) {
		h, ok := number(m.Captures[0], 0, 23)
		if !ok {
			return false, nil
		}

		zero := 0
		c.Hour, c.Minute, c.Second = &h, &zero, &zero

		return true, nil
	},
}

// midnightRule reads "midnight" as 00:00.
var midnightRule = &rules.F{
	RegExp: regexp.MustCompile(`(?i)(?:\W|^)(midnight)(?:\W|$)`),
	Applier: func(_ *rules.Match, c *rules.Context, _ *rules.Options, _ time.Time) (bool, error) {
		zero := 0
		c.Hour, c.Minute, c.Second = &zero, &zero, &zero

		return true, nil
	},
}

// span is a part of a phrase that a rule read.
type span struct {
	rule        string
	left, right int
	text        string
}

// recording keeps what the rules read during one parse: the library hands
// back only a finished time, and we need the fields behind it to check
// them (31 February) and to roll a date forward (5 March means the next
// one).
type recording struct {
	ctx   *rules.Context
	spans []span
}

// recordedRule passes a rule through and records its match when applied.
type recordedRule struct {
	namedRule
	rec *recording
}

// Find finds the rule's match and wraps its applier to record it.
func (r recordedRule) Find(text string) *rules.Match {
	m := r.rule.Find(text)
	if m == nil {
		return nil
	}

	apply := m.Applier
	m.Applier = func(m *rules.Match, c *rules.Context, o *rules.Options,
		ref time.Time,
	) (bool, error) {
		ok, err := apply(m, c, o, ref)
		if ok && err == nil {
			r.rec.ctx = c
			r.rec.spans = append(r.rec.spans, span{r.name, m.Left, m.Right, m.Text})
		}

		return ok, err
	}

	return m
}

// fields is what a calendar phrase says, before it is placed in time.
type fields struct {
	year, month, day *int
	hour, minute     *int
	days             int  // days ahead: tomorrow, next Monday
	today            bool // today or tonight was said: no rolling forward
	evening          bool // tonight, this evening: "at 8" is 20:00
	iso              bool // an ISO date gave year, month and day
}

// dated reports whether the phrase names a day.
func (f fields) dated() bool {
	return f.year != nil || f.month != nil || f.day != nil || f.days != 0 || f.today
}

// isoDate finds a date written as 2027-01-15.
var isoDate = regexp.MustCompile(`(?:^|\s)(\d{4})-(\d{1,2})-(\d{1,2})(?:\s|,|$)`)

// badClock finds clock times that may be out of range: "25:00", and bare
// hours such as "at 25".
var badClock = regexp.MustCompile(`(?i)(?:^|[^\d:])(\d{1,2}):(\d{2})(?:[^\d:]|$)|` +
	`(?:^|\W)at\s+(\d{2,})(?:[^\w:]|$)`)

// dottedClock finds a clock time written with a dot, "at 9.30".
var dottedClock = regexp.MustCompile(`(?i)(\bat\s+\d{1,2})\.(\d{2})\b`)

// filler are the words that may stand between the parts of a time phrase.
var filler = map[string]bool{"on": true, "at": true, "the": true, "of": true, ",": true,
	"@": true}

// readFields reads a calendar phrase such as "tomorrow at 9" or "on
// 2027-01-15 at 10:00". It reports ok false when the phrase is not wholly
// a time phrase; err is set when it is one that cannot be (25:00).
func readFields(phrase string, now time.Time) (f fields, ok bool, err error) {
	// One space between words: the library joins the parts of a phrase
	// only when they are at most 5 bytes apart. And "at 9.30" as "at 9:30",
	// which it reads.
	text := strings.Join(strings.Fields(phrase), " ")
	text = dottedClock.ReplaceAllString(text, "$1:$2")

	if m := isoDate.FindStringSubmatchIndex(text); m != nil {
		if err := f.readISO(text[m[2]:m[7]]); err != nil {
			return f, true, err
		}

		text = text[:m[2]] + strings.Repeat(" ", m[7]-m[2]) + text[m[7]:]
	}

	if err := checkClocks(text); err != nil {
		return f, true, err
	}

	rec := &recording{}
	p := nlwhen.New(&rules.Options{Distance: 5, MatchByOrder: true})
	for _, r := range momentRules {
		p.Add(recordedRule{r, rec})
	}

	if _, err := p.Parse(text, now); err != nil {
		return f, false, fmt.Errorf("parse time phrase %q: %w", phrase, err)
	}

	if !covered(text, rec.spans) || (rec.ctx == nil && !f.iso) {
		return f, false, nil
	}

	if rec.ctx != nil {
		if err := f.take(rec); err != nil {
			return f, true, err
		}
	}

	return f, true, nil
}

// readISO sets the date from "2027-01-15", refusing dates that do not exist.
func (f *fields) readISO(s string) error {
	d, err := time.Parse("2006-1-2", s)
	if err != nil {
		return refuse("on 2027-01-15 at 10:00", "%s is not a date", s)
	}

	y, m, day := d.Year(), int(d.Month()), d.Day()
	f.year, f.month, f.day, f.iso = &y, &m, &day, true

	return nil
}

// checkClocks refuses clock times that no day has.
func checkClocks(text string) error {
	for _, m := range badClock.FindAllStringSubmatch(text, -1) {
		if m[3] != "" {
			if _, ok := number(m[3], 0, 23); !ok {
				return refuse("at 17 or at 17:30", "%s is not an hour of the day", m[3])
			}

			continue
		}

		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		if h > 23 || mi > 59 {
			return refuse("at 17:30", "%s:%s is not a time of day", m[1], m[2])
		}
	}

	return nil
}

// covered reports whether every word of text outside the spans is filler.
func covered(text string, spans []span) bool {
	mask := []byte(text)
	for _, s := range spans {
		for i := max(s.left, 0); i < s.right && i < len(mask); i++ {
			mask[i] = ' '
		}
	}

	rest := strings.NewReplacer(",", " , ", ".", " ").Replace(string(mask))
	for _, w := range strings.Fields(rest) {
		if !filler[strings.ToLower(w)] {
			return false
		}
	}

	return true
}

// take copies the recorded fields, with the corrections the library needs:
// days ahead as a count of calendar days, 12am as midnight, and evening
// hours after "tonight".
func (f *fields) take(rec *recording) error {
	c := rec.ctx
	if c.Duration%(24*time.Hour) != 0 {
		return fmt.Errorf("read time phrase: offset %v is not whole days", c.Duration)
	}

	f.days = int(c.Duration / (24 * time.Hour))
	f.hour, f.minute = c.Hour, c.Minute

	if !f.iso {
		f.year, f.month, f.day = c.Year, c.Month, c.Day
	}

	for _, s := range rec.spans {
		text := strings.ToLower(s.text)

		switch {
		case s.rule == "casual date" && strings.Contains(text, "today"):
			f.today = true
		case s.rule == "casual date" && strings.Contains(text, "tonight"):
			f.today, f.evening = true, true
		case s.rule == "casual time" && !strings.Contains(text, "morning"):
			f.evening = true
		case (s.rule == "hour" || s.rule == "hour minute") && twelveAM.MatchString(text):
			zero := 0
			f.hour = &zero
		}
	}

	return nil
}

// twelveAM matches 12am and 12:30 am, which the library reads as noon.
var twelveAM = regexp.MustCompile(`^12(?::\d\d)?\s*a`)

// clock returns the hour and minute said, 09:00 when none was.
func (f fields) clock() (int, int) {
	h, m := 9, 0
	if f.hour != nil {
		h = *f.hour
	}

	if f.minute != nil {
		m = *f.minute
	}

	if f.evening && h >= 1 && h < 12 {
		h += 12
	}

	return h, m
}
