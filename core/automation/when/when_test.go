package when_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"github.com/switchboardhq/switchboard/core/automation/when"
)

var (
	berlin  = mustZone("Europe/Berlin")
	newYork = mustZone("America/New_York")

	// now is the fixed clock of the tables: Thu 2026-12-03 10:15 in Berlin.
	now = time.Date(2026, 12, 3, 10, 15, 0, 0, berlin)
)

func mustZone(name string) *time.Location {
	zone, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}

	return zone
}

// utc parses an RFC 3339 time, for the expectations of the tables.
func utc(t *testing.T, s string) time.Time {
	t.Helper()

	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time %q in test: %v", s, err)
	}

	return v
}

func TestParseReminder(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		text string
		now  time.Time // the fixed clock when zero
		zone *time.Location
		at   string // UTC
		want string
	}{
		{"in minutes", "me in 20 minutes to stretch", time.Time{}, nil,
			"2026-12-03T09:35:00Z", "stretch"},
		{"tomorrow at", "me tomorrow at 9 to call Anna", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "call Anna"},
		{"weekday at", "me on Friday at 17:30 to submit the report", time.Time{}, nil,
			"2026-12-04T16:30:00Z", "submit the report"},
		{"ISO date", "me on 2027-01-15 at 10:00 to renew the passport", time.Time{}, nil,
			"2027-01-15T09:00:00Z", "renew the passport"},
		{"clock alone is the next to come", "me at 9 to call Anna", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "call Anna"},
		{"clock alone later today", "me at 11 to water the plants", time.Time{}, nil,
			"2026-12-03T10:00:00Z", "water the plants"},
		{"hours and minutes", "me in 2 hours 30 minutes to take the bread out", time.Time{},
			nil, "2026-12-03T11:45:00Z", "take the bread out"},
		{"hours and minutes with and", "me in 2 hours and 15 minutes to leave", time.Time{},
			nil, "2026-12-03T11:30:00Z", "leave"},
		{"seconds", "me in 45 seconds to check the oven", time.Time{}, nil,
			"2026-12-03T09:15:45Z", "check the oven"},
		{"an hour", "me in an hour to move the car", time.Time{}, nil,
			"2026-12-03T10:15:00Z", "move the car"},
		{"half an hour", "me in half an hour to call back", time.Time{}, nil,
			"2026-12-03T09:45:00Z", "call back"},
		{"compact duration", "me in 1h30m to go home", time.Time{}, nil,
			"2026-12-03T10:45:00Z", "go home"},
		{"days keep the clock", "me in 2 days to pay", time.Time{}, nil,
			"2026-12-05T09:15:00Z", "pay"},
		{"a week", "me in 1 week to follow up", time.Time{}, nil,
			"2026-12-10T09:15:00Z", "follow up"},
		{"days at a clock time", "me in 3 days at 9 to renew", time.Time{}, nil,
			"2026-12-06T08:00:00Z", "renew"},
		{"tonight with a bare hour", "me tonight at 8 to call mum", time.Time{}, nil,
			"2026-12-03T19:00:00Z", "call mum"},
		{"this evening", "me this evening at 7 to cook", time.Time{}, nil,
			"2026-12-03T18:00:00Z", "cook"},
		{"next weekday with am", "me next monday at 9am to book the room", time.Time{}, nil,
			"2026-12-07T08:00:00Z", "book the room"},
		{"same weekday is next week", "me on Thursday at 9 to plan", time.Time{}, nil,
			"2026-12-10T08:00:00Z", "plan"},
		{"day month rolls to next year", "me on 5 March at 14:00 to renew the insurance",
			time.Time{}, nil, "2027-03-05T13:00:00Z", "renew the insurance"},
		{"day month year", "me on 15 January 2027 at 10:00 to file taxes", time.Time{}, nil,
			"2027-01-15T09:00:00Z", "file taxes"},
		{"month day year", "me on March 5th, 2027 at 2pm to send it", time.Time{}, nil,
			"2027-03-05T13:00:00Z", "send it"},
		{"29 February is the next one", "me on 29 February to celebrate", time.Time{}, nil,
			"2028-02-29T08:00:00Z", "celebrate"},
		{"day of this month", "me on the 5th at 9 to pay", time.Time{}, nil,
			"2026-12-05T08:00:00Z", "pay"},
		{"day of next month", "me on the 1st at 9 to pay the rent", time.Time{}, nil,
			"2027-01-01T08:00:00Z", "pay the rent"},
		{"pm", "me at 9pm to lock the door", time.Time{}, nil,
			"2026-12-03T20:00:00Z", "lock the door"},
		{"pm with a space", "me at 9 pm to lock the door", time.Time{}, nil,
			"2026-12-03T20:00:00Z", "lock the door"},
		{"noon", "me at noon to eat", time.Time{}, nil, "2026-12-03T11:00:00Z", "eat"},
		{"midnight", "me at midnight to sleep", time.Time{}, nil,
			"2026-12-03T23:00:00Z", "sleep"},
		{"12am is midnight", "me at 12am to sleep", time.Time{}, nil,
			"2026-12-03T23:00:00Z", "sleep"},
		{"dotted clock", "me at 9.30 to join", time.Time{}, nil,
			"2026-12-04T08:30:00Z", "join"},
		{"extra spaces", "me  tomorrow    at  9   to call Anna", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "call Anna"},
		{"date without clock is 9:00", "me tomorrow to water the plants", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "water the plants"},
		{"today later", "me today at 18:00 to go", time.Time{}, nil,
			"2026-12-03T17:00:00Z", "go"},
		{"us", "us at 9 to stand up", time.Time{}, nil, "2026-12-04T08:00:00Z", "stand up"},
		{"no me", "in 20 minutes to stretch", time.Time{}, nil,
			"2026-12-03T09:35:00Z", "stretch"},
		{"time last", "me to stretch in 20 minutes", time.Time{}, nil,
			"2026-12-03T09:35:00Z", "stretch"},
		{"time last with a date", "me to call Anna tomorrow at 9", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "call Anna"},
		{"no to", "me tomorrow at 9 call Anna", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "call Anna"},
		{"that", "me at 9 that the meeting moved", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "the meeting moved"},
		{"capitals", "Me Tomorrow At 9 To Call Anna", time.Time{}, nil,
			"2026-12-04T08:00:00Z", "Call Anna"},

		// DST in Europe/Berlin: 2027-03-28 02:00 CET -> 03:00 CEST, and
		// 2027-10-31 03:00 CEST -> 02:00 CET.
		{"Berlin: in 2 hours across spring forward is real time", "me in 2 hours to check",
			time.Date(2027, 3, 28, 1, 30, 0, 0, berlin), nil, "2027-03-28T02:30:00Z", "check"},
		{"Berlin: in 2 hours across fall back is real time", "me in 2 hours to check",
			time.Date(2027, 10, 31, 1, 30, 0, 0, berlin), nil, "2027-10-31T01:30:00Z", "check"},
		{"Berlin: a time in the gap is the end of the gap", "me tomorrow at 2:30 to check",
			time.Date(2027, 3, 27, 12, 0, 0, 0, berlin), nil, "2027-03-28T01:00:00Z", "check"},
		{"Berlin: a time in the overlap is the first", "me on 2027-10-31 at 02:30 to check",
			time.Date(2027, 10, 30, 12, 0, 0, 0, berlin), nil, "2027-10-31T00:30:00Z", "check"},
		{"Berlin: tomorrow after spring forward is summer time", "me tomorrow at 9 to run",
			time.Date(2027, 3, 27, 12, 0, 0, 0, berlin), nil, "2027-03-28T07:00:00Z", "run"},
		{"Berlin: in 1 day across fall back keeps the clock", "me in 1 day to run",
			time.Date(2027, 10, 30, 12, 0, 0, 0, berlin), nil, "2027-10-31T11:00:00Z", "run"},

		// DST in America/New_York: 2027-03-14 02:00 EST -> 03:00 EDT, and
		// 2027-11-07 02:00 EDT -> 01:00 EST.
		{"New York: fixed clock", "me at 9pm to lock up", time.Date(2026, 12, 3, 10, 15, 0, 0,
			newYork), newYork, "2026-12-04T02:00:00Z", "lock up"},
		{"New York: a time in the gap is the end of the gap", "me tomorrow at 2:30 to check",
			time.Date(2027, 3, 13, 12, 0, 0, 0, newYork), newYork, "2027-03-14T07:00:00Z",
			"check"},
		{"New York: a time in the overlap is the first", "me tomorrow at 1:30 to check",
			time.Date(2027, 11, 6, 12, 0, 0, 0, newYork), newYork, "2027-11-07T05:30:00Z",
			"check"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			clock, zone := tt.now, tt.zone
			if clock.IsZero() {
				clock = now
			}

			if zone == nil {
				zone = berlin
			}

			r, err := when.ParseReminder(tt.text, clock, zone)
			if err != nil {
				t.Fatalf("ParseReminder(%q): %v", tt.text, err)
			}

			if want := utc(t, tt.at); !r.When.At.Equal(want) || r.When.At.Location() != time.UTC {
				t.Errorf("At = %v, want %v", r.When.At, want)
			}

			if r.Text != tt.want {
				t.Errorf("Text = %q, want %q", r.Text, tt.want)
			}

			if r.When.Recurring() || r.When.Cron != "" || r.When.Every != 0 {
				t.Errorf("a reminder is one-shot, got %+v", r.When)
			}
		})
	}
}

// TestParseReminderLongText checks that a long text is read, and quickly:
// the search for where the time ends looks at the first or last few words.
func TestParseReminderLongText(t *testing.T) {
	t.Parallel()

	long := strings.TrimSpace(strings.Repeat("read this page ", 3000))

	for _, text := range []string{"me tomorrow at 9 " + long, "me to " + long + " tomorrow at 9"} {
		r, err := when.ParseReminder(text, now, berlin)
		if err != nil {
			t.Fatalf("ParseReminder of %d bytes: %v", len(text), err)
		}

		if want := utc(t, "2026-12-04T08:00:00Z"); !r.When.At.Equal(want) || r.Text != long {
			t.Errorf("got %v and %d bytes of text, want %v and %d", r.When.At, len(r.Text),
				want, len(long))
		}
	}
}

func TestParseRecurring(t *testing.T) {
	t.Parallel()

	start := utc(t, "2026-12-03T09:15:00Z")

	tests := []struct {
		name  string
		text  string
		cron  string
		every time.Duration
		task  string
	}{
		{"weekdays", "every weekday at 8:30 send me a summary of my open tasks",
			"30 8 * * 1-5", 0, "send me a summary of my open tasks"},
		{"hours", "every 2 hours check the build", "", 2 * time.Hour, "check the build"},
		{"day", "every day at 7 water the plants", "0 7 * * *", 0, "water the plants"},
		{"two weekdays", "every monday and thursday at 18:00 take out the bins",
			"0 18 * * 1,4", 0, "take out the bins"},
		{"monthly", "every month on the 1st at 9 pay the rent", "0 9 1 * *", 0,
			"pay the rent"},
		{"cron after at", "at 0 9 * * 1 plan the week", "0 9 * * 1", 0, "plan the week"},
		{"cron in quotes", `"0 9 * * 1" plan the week`, "0 9 * * 1", 0, "plan the week"},
		{"cron in single quotes", `'*/10 9-17 * * 1-5' check the queue`, "*/10 9-17 * * 1-5",
			0, "check the queue"},
		{"hour", "every hour check the queue", "", time.Hour, "check the queue"},
		{"minutes", "every 15 minutes check the queue", "", 15 * time.Minute,
			"check the queue"},
		{"minute", "every minute ping", "", time.Minute, "ping"},
		{"90 minutes", "every 90 minutes stretch", "", 90 * time.Minute, "stretch"},
		{"list of short names", "every mon, wed and fri at 9am stand up", "0 9 * * 1,3,5", 0,
			"stand up"},
		{"weekend", "every weekend at 10 call grandma", "0 10 * * 0,6", 0, "call grandma"},
		{"daily", "daily at 7:15 read the news", "15 7 * * *", 0, "read the news"},
		{"hourly", "hourly check the queue", "", time.Hour, "check the queue"},
		{"week on a day", "every week on friday at 16 write the report", "0 16 * * 5", 0,
			"write the report"},
		{"week is today's weekday", "every week review", "0 9 * * 4", 0, "review"},
		{"pm", "every day at 9 pm lock up", "0 21 * * *", 0, "lock up"},
		{"in the DST gap", "every day at 02:30 back up", "30 2 * * *", 0, "back up"},
		{"plural weekday and to", "every sundays at 10:00 to call grandma", "0 10 * * 0", 0,
			"call grandma"},
		{"no clock is 9:00", "every day check the build", "0 9 * * *", 0, "check the build"},
		{"at that is no clock", "every day at the office check the mail", "0 9 * * *", 0,
			"at the office check the mail"},

		// /automate takes the same forms; the task is a prompt.
		{"automate a feed", "every monday at 9 fetch https://example.org/feed and " +
			"summarise it for me", "0 9 * * 1", 0,
			"fetch https://example.org/feed and summarise it for me"},
		{"automate daily", "every day at 7 summarise the news for me", "0 7 * * *", 0,
			"summarise the news for me"},
		{"automate interval", "every 30 minutes: check https://example.org/status", "",
			30 * time.Minute, "check https://example.org/status"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r, err := when.ParseRecurring(tt.text, now, berlin)
			if err != nil {
				t.Fatalf("ParseRecurring(%q): %v", tt.text, err)
			}

			if r.When.Cron != tt.cron || r.When.Every != tt.every {
				t.Errorf("Cron, Every = %q, %v; want %q, %v", r.When.Cron, r.When.Every,
					tt.cron, tt.every)
			}

			if tt.every > 0 && !r.When.Start.Equal(start) {
				t.Errorf("Start = %v, want %v", r.When.Start, start)
			}

			if r.Task != tt.task {
				t.Errorf("Task = %q, want %q", r.Task, tt.task)
			}

			if !r.When.Recurring() || !r.When.At.IsZero() {
				t.Errorf("want a recurring schedule, got %+v", r.When)
			}
		})
	}
}

func TestParseTrigger(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		text string
		want when.Trigger
	}{
		{"remind later", `when a message contains "invoice" then remind me in 1 hour`,
			when.Trigger{Contains: "invoice", Action: when.Action{RemindIn: time.Hour}}},
		{"tell me", "when someone mentions deploy in this chat then tell me",
			when.Trigger{Contains: "deploy"}},
		{"say", `when a message contains 'outage' then say "Paging the on-call"`,
			when.Trigger{Contains: "outage", Action: when.Action{Say: "Paging the on-call"}}},
		{"remind with text", `when a message contains "invoice" then remind me in 2 hours ` +
			"to pay it", when.Trigger{Contains: "invoice",
			Action: when.Action{RemindIn: 2 * time.Hour, RemindText: "pay it"}}},
		{"phrase and reply", `when someone says good morning, then reply with "Morning!"`,
			when.Trigger{Contains: "good morning", Action: when.Action{Say: "Morning!"}}},
		{"here and let me know", "if anyone mentions Release here then let me know",
			when.Trigger{Contains: "release"}},
		{"curly quotes", "when a message contains “Rechnung” then notify me",
			when.Trigger{Contains: "rechnung"}},
		{"no subject", "when contains deploy then tell me", when.Trigger{Contains: "deploy"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := when.ParseTrigger(tt.text)
			if err != nil {
				t.Fatalf("ParseTrigger(%q): %v", tt.text, err)
			}

			if got != tt.want {
				t.Errorf("ParseTrigger(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

// TestRefusals checks that each phrase is refused with an *Error whose
// reason says what was wrong and whose example, when it is a command,
// can itself be read.
func TestRefusals(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		kind   string // remind, schedule, trigger, cron
		text   string
		reason string // a part of Reason
	}{
		{"past date", "remind", "me on 2020-01-01 at 10:00 to x", "has already passed"},
		{"today has passed", "remind", "me today at 8 to stretch", "has already passed"},
		{"yesterday", "remind", "me yesterday at 9 to stretch", "has already passed"},
		{"31 February", "remind", "me on 31 February at 10:00 to x", "31 February is not a date"},
		{"29 February 2027", "remind", "me on 29 February 2027 to x", "is not a date"},
		{"25:00", "remind", "me at 25:00 to x", "25:00 is not a time of day"},
		{"dotted 9.75", "remind", "me at 9.75 to x", "9:75 is not a time of day"},
		{"hour 25", "remind", "me at 25 to x", "25 is not an hour"},
		{"month 13", "remind", "me on 2027-13-01 at 10:00 to x", "2027-13-01 is not a date"},
		{"no text", "remind", "me in 5 minutes", "what should I remind you of?"},
		{"nothing", "remind", "  ", "when should I remind you"},
		{"too far ahead", "remind", "me on 2032-01-01 at 9 to x", "more than 5 years ahead"},
		{"no time", "remind", "me sometime soon to x", "could not read a time"},
		{"month without day", "remind", "me on March at 9 to x", "which day of March?"},
		{"under a minute", "schedule", "every 30 seconds ping", "too often"},
		{"six fields", "schedule", "at 0 0 9 * * 1 plan", "seconds are not supported"},
		{"six fields quoted", "schedule", `"0 0 9 * * 1" plan`, "seconds are not supported"},
		{"no task", "schedule", "every day at 7", "what should I do every day at 07:00?"},
		{"no every", "schedule", "at 9 check the build", "a schedule repeats"},
		{"every 2 days", "schedule", "every 2 days at 9 water", "not every 2 days"},
		{"bad cron field", "schedule", "at 61 9 * * * plan", "can't read the cron expression"},
		{"never", "schedule", `"0 9 30 2 *" plan`, "never comes"},
		{"bad clock", "schedule", "every day at 25:00 plan", "25:00 is not a time of day"},
		{"unknown", "schedule", "sometimes check the build", "could not read when"},
		{"empty schedule", "schedule", "", "when should it run"},
		{"empty trigger", "trigger", "", "what should I watch for"},
		{"no then", "trigger", "when a message contains invoice", `needs "then"`},
		{"empty word", "trigger", `when a message contains "" then tell me`,
			"what word or phrase"},
		{"unknown action", "trigger", `when a message contains "x" then dance`,
			"I can say something"},
		{"remind without delay", "trigger", `when a message contains "x" then remind me ` +
			"tomorrow", "remind you when?"},
		{"no watched word", "trigger", "when it rains then tell me", "what word to watch for"},
		{"cron with six fields", "cron", "0 0 9 * * 1", "seconds are not supported"},
		{"cron with four fields", "cron", "0 9 * *", "has 4"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := parse(tt.kind, tt.text)

			var pe *when.Error
			if !errors.As(err, &pe) {
				t.Fatalf("%s %q: got %v, want an *Error", tt.kind, tt.text, err)
			}

			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to say %q", pe.Reason, tt.reason)
			}

			if pe.Example == "" {
				t.Fatal("no Example")
			}

			if !strings.Contains(pe.Error(), pe.Reason) || !strings.Contains(pe.Error(),
				pe.Example) {
				t.Errorf("Error() = %q, want reason and example", pe.Error())
			}

			checkExample(t, pe.Example)
		})
	}
}

// parse runs the parser of a kind of refusal test.
func parse(kind, text string) error {
	var err error

	switch kind {
	case "remind":
		_, err = when.ParseReminder(text, now, berlin)
	case "schedule":
		_, err = when.ParseRecurring(text, now, berlin)
	case "trigger":
		_, err = when.ParseTrigger(text)
	case "cron":
		err = when.ParseCron(text)
	}

	return err
}

// checkExample reads an example that is a whole command, and fails when
// it is refused too.
func checkExample(t *testing.T, example string) {
	t.Helper()

	cmd, rest, _ := strings.Cut(example, " ")

	var err error

	switch cmd {
	case "/remind":
		_, err = when.ParseReminder(rest, now, berlin)
	case "/schedule", "/automate":
		_, err = when.ParseRecurring(rest, now, berlin)
	case "/trigger":
		_, err = when.ParseTrigger(rest)
	}

	if err != nil {
		t.Errorf("example %q is refused: %v", example, err)
	}
}

// occurrences returns n occurrences of s after from, in RFC 3339 UTC.
func occurrences(s when.Schedule, from time.Time, zone *time.Location, n int) []string {
	var got []string

	for range n {
		next, ok := s.Next(from, zone)
		if !ok {
			break
		}

		got = append(got, next.Format(time.RFC3339))
		from = next
	}

	return got
}

func TestNextCronAcrossDST(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		cron string
		zone *time.Location
		from time.Time
		want []string
	}{
		{"Berlin spring: 02:30 fires at 03:00 CEST, once", "30 2 * * *", berlin,
			time.Date(2027, 3, 26, 12, 0, 0, 0, berlin),
			[]string{"2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"}},
		{"Berlin autumn: 02:30 fires once, at CEST", "30 2 * * *", berlin,
			time.Date(2027, 10, 29, 12, 0, 0, 0, berlin),
			[]string{"2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"}},
		{"Berlin autumn: not again at the second 02:30", "30 2 * * *", berlin,
			time.Date(2027, 10, 31, 1, 10, 0, 0, time.UTC), // 02:10 CET, the second time
			[]string{"2027-11-01T01:30:00Z"}},
		{"Berlin: 09:00 keeps the wall clock", "0 9 * * *", berlin,
			time.Date(2027, 3, 27, 12, 0, 0, 0, berlin),
			[]string{"2027-03-28T07:00:00Z", "2027-03-29T07:00:00Z"}},
		{"Berlin autumn: hourly fires once per wall hour", "0 * * * *", berlin,
			time.Date(2027, 10, 31, 0, 30, 0, 0, berlin),
			[]string{"2027-10-30T23:00:00Z", "2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z"}},
		{"New York spring: 02:30 fires at 03:00 EDT", "30 2 * * *", newYork,
			time.Date(2027, 3, 12, 12, 0, 0, 0, newYork),
			[]string{"2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"}},
		{"New York autumn: 01:30 fires once, at EDT", "30 1 * * *", newYork,
			time.Date(2027, 11, 5, 12, 0, 0, 0, newYork),
			[]string{"2027-11-06T05:30:00Z", "2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"}},
		{"weekdays skip the weekend", "30 8 * * 1-5", berlin,
			time.Date(2026, 12, 4, 9, 0, 0, 0, berlin),
			[]string{"2026-12-07T07:30:00Z", "2026-12-08T07:30:00Z"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := occurrences(when.Schedule{Cron: tt.cron}, tt.from, tt.zone, len(tt.want))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("occurrences =\n%v, want\n%v", got, tt.want)
			}
		})
	}
}

func TestNextEveryDayAt0230(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		zone *time.Location
		now  time.Time
		want []string
	}{
		{"Berlin spring", berlin, time.Date(2027, 3, 26, 12, 0, 0, 0, berlin),
			[]string{"2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"}},
		{"Berlin autumn", berlin, time.Date(2027, 10, 29, 12, 0, 0, 0, berlin),
			[]string{"2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"}},
		{"New York spring", newYork, time.Date(2027, 3, 12, 12, 0, 0, 0, newYork),
			[]string{"2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r, err := when.ParseRecurring("every day at 02:30 back up the disk", tt.now, tt.zone)
			if err != nil {
				t.Fatal(err)
			}

			got := occurrences(r.When, tt.now, tt.zone, len(tt.want))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("occurrences =\n%v, want\n%v", got, tt.want)
			}
		})
	}
}

func TestNextEveryAndAt(t *testing.T) {
	t.Parallel()

	start := utc(t, "2027-03-28T00:15:00Z")
	every := when.Schedule{Every: 2 * time.Hour, Start: start}
	at := when.Schedule{At: start}

	tests := []struct {
		name string
		s    when.Schedule
		t    time.Time
		want string // "" for none
	}{
		{"before Start is Start", every, start.Add(-time.Hour), "2027-03-28T00:15:00Z"},
		{"at Start is the next", every, start, "2027-03-28T02:15:00Z"},
		{"between", every, start.Add(3 * time.Hour), "2027-03-28T04:15:00Z"},
		{"on an occurrence is the next", every, start.Add(4 * time.Hour),
			"2027-03-28T06:15:00Z"},
		{"real time across DST", every, start.Add(time.Minute), "2027-03-28T02:15:00Z"},
		{"one-shot ahead", at, start.Add(-time.Second), "2027-03-28T00:15:00Z"},
		{"one-shot at its time has passed", at, start, ""},
		{"one-shot passed", at, start.Add(time.Hour), ""},
		{"zero never fires", when.Schedule{}, start, ""},
		{"unreadable cron never fires", when.Schedule{Cron: "bad"}, start, ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			next, ok := tt.s.Next(tt.t, berlin)

			got := ""
			if ok {
				got = next.Format(time.RFC3339)
			}

			if got != tt.want {
				t.Errorf("Next = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		s    when.Schedule
		zone *time.Location
		want string
	}{
		{"one-shot", when.Schedule{At: utc(t, "2026-12-04T16:30:00Z")}, berlin,
			"on Fri 4 Dec 2026 at 17:30"},
		{"one-shot in New York", when.Schedule{At: utc(t, "2026-12-04T16:30:00Z")}, newYork,
			"on Fri 4 Dec 2026 at 11:30"},
		{"one-shot with seconds", when.Schedule{At: utc(t, "2026-12-03T09:15:45Z")}, berlin,
			"on Thu 3 Dec 2026 at 10:15:45"},
		{"hours", when.Schedule{Every: 2 * time.Hour}, berlin, "every 2 hours"},
		{"hour", when.Schedule{Every: time.Hour}, berlin, "every hour"},
		{"minutes", when.Schedule{Every: 15 * time.Minute}, berlin, "every 15 minutes"},
		{"90 minutes", when.Schedule{Every: 90 * time.Minute}, berlin, "every 90 minutes"},
		{"minute", when.Schedule{Every: time.Minute}, berlin, "every minute"},
		{"weekday", when.Schedule{Cron: "30 8 * * 1-5"}, berlin, "every weekday at 08:30"},
		{"day", when.Schedule{Cron: "0 7 * * *"}, berlin, "every day at 07:00"},
		{"two days", when.Schedule{Cron: "0 18 * * 1,4"}, berlin,
			"every Monday and Thursday at 18:00"},
		{"three days", when.Schedule{Cron: "0 9 * * fri,mon,wed"}, berlin,
			"every Monday, Wednesday and Friday at 09:00"},
		{"Sunday as 7", when.Schedule{Cron: "0 10 * * 7"}, berlin, "every Sunday at 10:00"},
		{"weekend", when.Schedule{Cron: "0 10 * * 0,6"}, berlin,
			"every Saturday and Sunday at 10:00"},
		{"names range", when.Schedule{Cron: "0 9 * * MON-FRI"}, berlin,
			"every weekday at 09:00"},
		{"monthly", when.Schedule{Cron: "0 9 1 * *"}, berlin, "every month on the 1st at 09:00"},
		{"monthly 22nd", when.Schedule{Cron: "0 9 22 * *"}, berlin,
			"every month on the 22nd at 09:00"},
		{"cron steps", when.Schedule{Cron: "*/15 * * * *"}, berlin, "every 15 minutes"},
		{"minute past the hour", when.Schedule{Cron: "5 * * * *"}, berlin,
			"every hour at 05 minutes past"},
		{"other cron as it is", when.Schedule{Cron: "*/10 9-17 * * 1-5"}, berlin,
			"at */10 9-17 * * 1-5 (cron)"},
		{"yearly cron as it is", when.Schedule{Cron: "0 9 1 1 *"}, berlin,
			"at 0 9 1 1 * (cron)"},
		{"zero", when.Schedule{}, berlin, "never"},
		{"nil zone is UTC", when.Schedule{At: utc(t, "2026-12-04T16:30:00Z")}, nil,
			"on Fri 4 Dec 2026 at 16:30"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if got := tt.s.Describe(tt.zone); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()

	tests := []struct {
		contains string
		message  string
		want     bool
	}{
		{"deploy", "Deploy now!", true},
		{"deploy", "done, deploy.", true},
		{"deploy", "we deploy at 5", true},
		{"deploy", "DEPLOY", true},
		{"deploy", "pre-deploy checks", true},
		{"deploy", "redeploy", false},
		{"deploy", "deploys", false},
		{"deploy", "deployment at 5", false},
		{"deploy", "redeploy, then deploy", true},
		{"deploy", "", false},
		{"invoice", "Invoice #42 attached", true},
		{"invoice", "two invoices", false},
		{"good morning", "Good   morning, all", true},
		{"good morning", "goodmorning", false},
		{"good morning", "good mornings", false},
		{"c++", "I like C++!", true},
		{"c++", "abc++", false},
		{"grüße", "Grüße aus Berlin", true},
		{"", "anything", false},
	}

	for _, tt := range tests {
		t.Run(tt.contains+" in "+tt.message, func(t *testing.T) {
			t.Parallel()

			got := when.Trigger{Contains: tt.contains}.Matches(tt.message)
			if got != tt.want {
				t.Errorf("Matches(%q) for %q = %v, want %v", tt.message, tt.contains, got,
					tt.want)
			}
		})
	}
}

func TestParseCron(t *testing.T) {
	t.Parallel()

	for _, expr := range []string{"0 9 * * 1", "*/5 * * * *", "30 8 * * 1-5", "0 9 1 * *",
		"0 9 * * MON,THU", "0 0 29 2 *"} {
		if err := when.ParseCron(expr); err != nil {
			t.Errorf("ParseCron(%q) = %v, want nil", expr, err)
		}
	}
}
