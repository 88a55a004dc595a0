package when

import (
	"strings"
	"time"
)

// reminderExample is the form shown when a reminder cannot be read.
const reminderExample = "/remind me tomorrow at 9 to call Anna"

// maxTimeWords is the most words a time phrase has, "on Friday 5 March
// 2027 at 5:30 pm" among the longest; it bounds the search for where the
// time ends and the text begins.
const maxTimeWords = 12

// Reminder is a one-shot reminder: what to say, and when.
type Reminder struct {
	// When is a one-shot Schedule: only At is set.
	When Schedule
	// Text is what to remind of, as typed.
	Text string
}

// ParseReminder reads the text after /remind: "me in 20 minutes to
// stretch", "me tomorrow at 9 to call Anna", "me on Friday at 17:30 to
// submit the report", "us at 9 to ...". "me" or "us" is optional, and the
// time may also come last: "me to stretch in 20 minutes".
//
// Times are read in zone (UTC when nil) as it is at now; the time returned
// is in UTC. A clock time alone ("at 9") is the next one to come; a date
// without a year is the next such date. Refused, with an *Error: a time
// that has passed ("today at 8" at 9), a date or time that does not exist
// (31 February, 25:00), no text, and a time more than 5 years ahead.
func ParseReminder(text string, now time.Time, zone *time.Location) (Reminder, error) {
	now = now.In(orUTC(zone))

	rest := strings.TrimSpace(text)
	if toks := tokenize(rest); len(toks) > 0 && toks[0].is("me", "us", "myself") {
		rest = after(rest, toks[0])
	}

	if rest == "" {
		return Reminder{}, refuse(reminderExample, "when should I remind you, and of what?")
	}

	at, task, err := splitReminder(rest, now)
	if err != nil {
		return Reminder{}, err
	}

	if task == "" {
		return Reminder{}, refuse("/remind me in 5 minutes to stretch",
			"what should I remind you of?")
	}

	return Reminder{When: Schedule{At: at}, Text: task}, nil
}

// splitReminder finds the time phrase and the text in a reminder, and
// reads the time.
func splitReminder(rest string, now time.Time) (time.Time, string, error) {
	toks := tokenize(rest)

	// "to stretch in 20 minutes": the longest tail that is a time phrase.
	if toks[0].is("to", "that") {
		for _, t := range toks[max(1, len(toks)-maxTimeWords):] {
			at, ok, err := parseMoment(rest[t.start:], now)
			if ok {
				return at, strings.TrimSpace(rest[toks[0].end:t.start]), err
			}
		}

		return time.Time{}, "", unreadTime(rest)
	}

	// "tomorrow at 9 to call Anna": the time phrase ends at "to".
	for i, t := range toks {
		if i > 0 && t.is("to", "that") {
			at, ok, err := parseMoment(rest[:t.start], now)
			if !ok && err == nil {
				err = unreadTime(rest[:t.start])
			}

			return at, strings.TrimSpace(rest[t.end:]), err
		}
	}

	// No "to": the longest head that is a time phrase.
	for i := min(len(toks), maxTimeWords) - 1; i >= 0; i-- {
		at, ok, err := parseMoment(rest[:toks[i].end], now)
		if ok {
			return at, cleanTask(rest[toks[i].end:]), err
		}
	}

	return time.Time{}, "", unreadTime(rest)
}

// unreadTime is the refusal for a phrase with no time that can be read.
func unreadTime(phrase string) *Error {
	return refuse(momentExample, "I could not read a time in %q", strings.TrimSpace(phrase))
}
