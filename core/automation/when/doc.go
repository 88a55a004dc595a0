// Package when reads the times of chat automations and does their
// scheduling arithmetic: /remind (ParseReminder), /schedule and /automate
// (ParseRecurring), /trigger (ParseTrigger), and the next occurrence and
// description of a Schedule. It is deterministic: every function takes the
// current time and the person's *time.Location, reads times in that zone,
// and returns times in UTC. It keeps no state and is safe for concurrent
// use.
//
// A phrase that cannot be read, or that asks for something refused (a time
// in the past, 31 February, an interval under a minute, a reminder more
// than 5 years ahead), gives an *Error with a Reason and an Example to show
// the person.
//
// # Time zones and DST
//
// A one-shot time is read on the person's wall clock ("tomorrow at 9");
// a duration ("in 2 hours") is real time, even across a DST change, and
// days in a duration ("in 2 days") keep the clock time. A cron expression
// is matched against the person's wall clock. Where the wall clock skips a
// time (the spring gap), that time fires when the gap ends: 02:30 on
// 2027-03-28 in Europe/Berlin fires at 03:00 CEST. Where it shows a time
// twice (the autumn overlap), it fires once, at the first: 02:30 on
// 2027-10-31 in Europe/Berlin fires at 02:30 CEST. So a daily schedule
// neither skips nor doubles a day. An interval (Every) is real time from
// Start and ignores the wall clock.
//
// # Libraries
//
// Natural-language dates: github.com/olebedev/when v1.1.0 (rule-based,
// about 4,400 lines with two tiny dependencies, released 2024; it reads
// times in the location of the reference time it is given). Its English
// rules read weekdays (next monday), casual dates and times (tomorrow,
// tonight, noon), am/pm hours, hh:mm and month-name dates; this package
// adds, through the library's own Rule interface, a bare 24-hour "at 9",
// a year after a month-name date, "the 5th" and "midnight", and reads the
// fields the rules set rather than the library's finished time, so that it
// can refuse 31 February (the library rolls it into March), roll a date
// without a year forward to the next one, and count days ahead as calendar
// days. ISO dates (2027-01-15) are read with time.Parse, and durations
// ("2 hours 30 minutes", which the library reads as 2 hours) by
// readDuration. Passed over: github.com/tj/go-naturaldate (no release since
// 2020, misreads "5 March" and "15 January 2027", steps days by 24 hours of
// real time), and github.com/markusmobius/go-dateparser (about 175,000
// lines with a WebAssembly regexp engine, and it still drops "at 9" from
// "tomorrow at 9").
//
// Cron: github.com/robfig/cron/v3 v3.0.1 (about 1,500 lines, no
// dependencies, the expression parser most Go schedulers use; no release
// since 2020, but the parser and Next are complete). Its parser is set to
// exactly five fields without descriptors. Asked in a zone with DST, its
// Next skips a job in the spring gap and runs one twice in the autumn
// overlap, so Next asks it in UTC for the next wall time and places that
// time in the zone here (see instant). Passed over:
// github.com/netresearch/go-cron v0.9.1 (a maintained fork, four times the
// code, and its parser refused "0 9 * * MON,THU"), and
// github.com/adhocore/gronx v1.20.4 (maintained and small, but it parses
// the expression again on each call, accepts 6 and 7 fields, and in DST
// skips the spring job and fires the autumn one at the second 02:30).
//
// Neither library calls reflect's MethodByName or uses text/template, which
// would turn off the linker's dead-code elimination. Linked into bin/bot,
// this package and the two add 446,438 bytes (73,283,648 to 73,730,086
// bytes, measured at the commit before this package).
package when
