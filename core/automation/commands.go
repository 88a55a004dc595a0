package automation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation/when"
	"github.com/switchboardhq/switchboard/core/command"
)

// Names lists the commands Command runs.
var Names = []string{KindRemind, KindSchedule, KindAutomate, KindTrigger, "status", "timezone"}

// Origin is who gives a command and where its answers go.
type Origin struct {
	Conversation core.Conversation
	UserID       core.UserID
}

// Command runs one automation command (remind, schedule, automate,
// trigger, status, timezone) with the text after it, inside tx, and
// returns the reply in words, as the slash commands answer. Input that
// cannot be read gets a reply that says what was not understood, with an
// example, and nothing is stored.
func (e *Engine) Command(ctx context.Context, tx bun.IDB, o Origin, name, text string,
	now time.Time,
) (string, error) {
	reply, err := e.Do(ctx, tx, o, name, text, now)

	var pe *when.Error
	if errors.As(err, &pe) {
		return Refusal(pe), nil
	}

	return reply, err
}

// Refusal is the reply to input that cannot be read.
func Refusal(e *when.Error) string {
	return fmt.Sprintf("I couldn't set that up: %s. For example: %s", e.Reason, e.Example)
}

// Do is Command for callers that tell bad input apart, such as the API:
// input that cannot be read is a *when.Error, and nothing is stored.
func (e *Engine) Do(ctx context.Context, tx bun.IDB, o Origin, name, text string,
	now time.Time,
) (string, error) {
	zone, zoneName, err := e.zoneOf(ctx, tx, o)
	if err != nil {
		return "", err
	}

	a := &Automation{AgentID: e.cfg.AgentID, Kind: name, Channel: o.Conversation.Channel,
		ChatID: o.Conversation.ChatID, ThreadID: o.Conversation.ThreadID, UserID: o.UserID,
		TimeZone: zoneName, CatchUp: CatchUpOnce, Status: StatusActive, CreatedAt: now,
		UpdatedAt: now}

	var reply string

	switch name {
	case KindRemind:
		reply, err = e.remind(ctx, tx, a, text, now, zone)
	case KindSchedule, KindAutomate:
		reply, err = e.recurring(ctx, tx, a, text, now, zone)
	case KindTrigger:
		reply, err = e.trigger(ctx, tx, a, text)
	case "status":
		reply, err = e.status(ctx, tx, o, text, now, zone)
	case "timezone":
		reply, err = e.timezone(ctx, tx, o, text, now, zoneName)
	default:
		return "", fmt.Errorf("automation command %q: unknown", name)
	}

	return reply, err
}

// zoneOf returns the person's time zone and its name: the one they set,
// else the agent's default, else UTC.
func (e *Engine) zoneOf(ctx context.Context, db bun.IDB, o Origin,
) (*time.Location, string, error) {
	name, err := ZoneOf(ctx, db, e.cfg.AgentID, o.Conversation.Channel, o.UserID,
		e.cfg.DefaultZone)
	if err != nil {
		return nil, "", err
	}

	zone, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC, "UTC", nil
	}

	return zone, name, nil
}

// List returns the person's active and paused automations on the origin's
// channel, oldest first, and the time zone their times are read in.
func (e *Engine) List(ctx context.Context, db bun.IDB, o Origin,
) ([]Automation, *time.Location, error) {
	zone, _, err := e.zoneOf(ctx, db, o)
	if err != nil {
		return nil, nil, err
	}

	all, err := ListOf(ctx, db, e.cfg.AgentID, o.Conversation.Channel, o.UserID)
	if err != nil {
		return nil, nil, err
	}

	return all, zone, nil
}

// Describe says in words what a does, with times in zone: "reminder:
// call Anna", "every day at 08:00: summarise the news".
func Describe(a *Automation, zone *time.Location) string {
	switch a.Kind {
	case KindTrigger:
		return fmt.Sprintf("trigger on %q: %s", a.TriggerContains, describeAction(a))
	case KindRemind:
		return "reminder: " + a.Text
	default:
		return a.Schedule().Describe(zone) + ": " + a.Text
	}
}

// TimeFormat is how automations' times are shown to people.
const TimeFormat = "Mon 2 Jan 15:04"

// remind sets a one-shot reminder.
func (e *Engine) remind(ctx context.Context, tx bun.IDB, a *Automation, text string,
	now time.Time, zone *time.Location,
) (string, error) {
	r, err := when.ParseReminder(text, now, zone)
	if err != nil {
		return "", err
	}

	a.Text = r.Text
	if err := a.setSchedule(r.When, now); err != nil {
		return "", err
	}

	if err := insert(ctx, tx, a); err != nil {
		return "", err
	}

	e.Wake()

	return fmt.Sprintf("I'll remind you %s (%s): %s (#%d)", r.When.Describe(zone),
		a.TimeZone, a.Text, a.ID), nil
}

// recurring sets up a schedule or an automation: work for the agent at
// each occurrence.
func (e *Engine) recurring(ctx context.Context, tx bun.IDB, a *Automation, text string,
	now time.Time, zone *time.Location,
) (string, error) {
	r, err := when.ParseRecurring(text, now, zone)
	if err != nil {
		return "", err
	}

	a.Text = r.Task
	if err := a.setSchedule(r.When, now); err != nil {
		return "", err
	}

	if err := insert(ctx, tx, a); err != nil {
		return "", err
	}

	e.Wake()

	return fmt.Sprintf("Done (#%d): %s (%s) I'll %s. First time: %s.", a.ID,
		r.When.Describe(zone), a.TimeZone, a.Text,
		a.NextRunAt.Time.In(zone).Format(TimeFormat)), nil
}

// trigger sets up a trigger on the messages of this chat.
func (e *Engine) trigger(ctx context.Context, tx bun.IDB, a *Automation, text string,
) (string, error) {
	t, err := when.ParseTrigger(text)
	if err != nil {
		return "", err
	}

	a.Text = strings.TrimSpace(text)
	a.TriggerContains = t.Contains
	a.TriggerSay = t.Action.Say
	a.TriggerRemindSeconds = int64(t.Action.RemindIn / time.Second)

	if t.Action.RemindText != "" {
		a.TriggerSay = t.Action.RemindText
	}

	if err := insert(ctx, tx, a); err != nil {
		return "", err
	}

	e.noteTrigger(a.Conversation())

	return fmt.Sprintf("Trigger #%d: when a message in this chat contains %q, %s.", a.ID,
		a.TriggerContains, describeAction(a)), nil
}

// describeAction says what a trigger does.
func describeAction(a *Automation) string {
	if a.TriggerRemindSeconds > 0 {
		return "I'll remind you in " + (time.Duration(a.TriggerRemindSeconds) *
			time.Second).String()
	}

	if a.TriggerSay != "" {
		return fmt.Sprintf("I'll say %q", a.TriggerSay)
	}

	return "I'll tell you"
}

// status lists the person's automations, or cancels, pauses or resumes
// one: "cancel ID", "pause ID", "resume ID".
func (e *Engine) status(ctx context.Context, tx bun.IDB, o Origin, text string,
	now time.Time, zone *time.Location,
) (string, error) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return e.list(ctx, tx, o, zone)
	}

	example := "/status cancel 12, /status pause 12, /status resume 12 or " +
		"/status catchup 12 skip"

	verb := strings.ToLower(fields[0])
	known := (len(fields) == 2 && (verb == "cancel" || verb == "pause" || verb == "resume")) ||
		(len(fields) == 3 && verb == "catchup" &&
			(fields[2] == CatchUpOnce || fields[2] == CatchUpSkip))
	if !known {
		return "", &when.Error{Reason: fmt.Sprintf("I know /status, and /status cancel, "+
			"pause or resume with an automation's number, or catchup with a number and "+
			"once or skip, not %q", text), Example: example}
	}

	id, err := strconv.ParseInt(strings.TrimPrefix(fields[1], "#"), 10, 64)
	if err != nil {
		return "", &when.Error{Reason: fmt.Sprintf("%q is not an automation's number",
			fields[1]), Example: example}
	}

	a, err := Get(ctx, tx, e.cfg.AgentID, o.Conversation.Channel, o.UserID, id)
	if errors.Is(err, ErrNotFound) {
		return fmt.Sprintf("You have no automation #%d. /status lists yours.", id), nil
	}

	if err != nil {
		return "", err
	}

	if verb == "catchup" {
		return e.setCatchUp(ctx, tx, a, fields[2], now)
	}

	return e.change(ctx, tx, a, verb, now, zone)
}

// setCatchUp sets what a recurring automation does about occurrences
// missed while the gateway was down: run once late, or skip them.
func (e *Engine) setCatchUp(ctx context.Context, tx bun.IDB, a *Automation, policy string,
	now time.Time,
) (string, error) {
	_, err := tx.NewUpdate().Model((*Automation)(nil)).
		Set("catch_up = ?", policy).
		Set("updated_at = ?", now).
		Where("id = ?", a.ID).
		Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("set catch-up of automation %d: %w", a.ID, err)
	}

	if policy == CatchUpSkip {
		return fmt.Sprintf("#%d will skip what falls due while I am not running.", a.ID), nil
	}

	return fmt.Sprintf("#%d will run once, late, for what falls due while I am not "+
		"running.", a.ID), nil
}

// change cancels, pauses or resumes one automation.
func (e *Engine) change(ctx context.Context, tx bun.IDB, a *Automation, verb string,
	now time.Time, zone *time.Location,
) (string, error) {
	switch {
	case a.Status != StatusActive && a.Status != StatusPaused:
		return fmt.Sprintf("#%d is already %s.", a.ID, a.Status), nil
	case verb == "cancel":
		a.Status, a.NextRunAt = StatusCancelled, bun.NullTime{}
	case verb == "pause" && a.Status == StatusPaused, verb == "resume" && a.Status == StatusActive:
		return fmt.Sprintf("#%d is already %s.", a.ID, a.Status), nil
	case verb == "pause":
		a.Status = StatusPaused
	case verb == "resume":
		a.Status = StatusActive
		e.resumeAt(a, now)
	}

	if err := setStatus(ctx, tx, a, now); err != nil {
		return "", err
	}

	if a.Kind == KindTrigger {
		e.forgetTriggers()
	}

	e.Wake()

	switch verb {
	case "cancel":
		return fmt.Sprintf("Cancelled #%d.", a.ID), nil
	case "pause":
		return fmt.Sprintf("Paused #%d. /status resume %d starts it again.", a.ID, a.ID), nil
	}

	next := ""
	if !a.NextRunAt.IsZero() {
		next = " Next: " + a.NextRunAt.Time.In(zone).Format(TimeFormat) + "."
	}

	return fmt.Sprintf("Resumed #%d.%s", a.ID, next), nil
}

// resumeAt sets the next run of a resumed automation: a recurring one
// goes on from now, skipping what fell due while it was paused; a
// reminder whose time passed meanwhile fires at once.
func (e *Engine) resumeAt(a *Automation, now time.Time) {
	sched := a.Schedule()

	switch {
	case a.Kind == KindTrigger:
	case sched.Recurring():
		if next, ok := sched.Next(now, a.Zone()); ok {
			a.NextRunAt = bun.NullTime{Time: next.UTC()}
		}
	case a.NextRunAt.Time.Before(now):
		a.NextRunAt = bun.NullTime{Time: now.UTC()}
	}
}

// list describes the person's active and paused automations.
func (e *Engine) list(ctx context.Context, tx bun.IDB, o Origin, zone *time.Location,
) (string, error) {
	all, err := ListOf(ctx, tx, e.cfg.AgentID, o.Conversation.Channel, o.UserID)
	if err != nil {
		return "", err
	}

	if len(all) == 0 {
		return "You have no automations. Try /remind me in 20 minutes to stretch.", nil
	}

	var b strings.Builder

	fmt.Fprintf(&b, "Your automations (times in %s):", zone)

	for i := range all {
		a := &all[i]

		b.WriteString("\n#" + strconv.FormatInt(a.ID, 10) + " " + Describe(a, zone))

		if a.Status == StatusPaused {
			b.WriteString(" (paused)")
		} else if !a.NextRunAt.IsZero() {
			b.WriteString(" · next " + a.NextRunAt.Time.In(zone).Format(TimeFormat))
		}

		if !a.LastRunAt.IsZero() {
			fmt.Fprintf(&b, " · last %s: %s", a.LastRunAt.Time.In(zone).Format(TimeFormat),
				a.LastResult)
		}
	}

	b.WriteString("\n/status cancel|pause|resume ID changes one.")

	return b.String(), nil
}

// timezone shows or sets the person's time zone.
func (e *Engine) timezone(ctx context.Context, tx bun.IDB, o Origin, text string,
	now time.Time, current string,
) (string, error) {
	name := strings.TrimSpace(text)
	if name == "" {
		return fmt.Sprintf("Your time zone is %s. Change it with /timezone Europe/Berlin, "+
			"for example.", current), nil
	}

	err := SetZone(ctx, tx, e.cfg.AgentID, o.Conversation.Channel, o.UserID, name, now)

	var ie *core.InputError
	if errors.As(err, &ie) {
		return "", &when.Error{Reason: fmt.Sprintf("I don't know the time zone %q", name),
			Example: "/timezone Europe/Berlin or /timezone America/New_York"}
	}

	if err != nil {
		return "", err
	}

	loc, _ := time.LoadLocation(name)

	return fmt.Sprintf("Your time zone is now %s; it is %s there.", name,
		now.In(loc).Format(TimeFormat)), nil
}

// Commands returns the slash commands; status also shows what the
// pipeline's own /status said, given as agentStatus.
func (e *Engine) Commands(agentStatus command.Handler) []command.Command {
	handle := func(name string) command.Handler {
		return func(ctx context.Context, call command.Call) (string, error) {
			o := Origin{Conversation: call.Message.Conversation(), UserID: call.Message.UserID}

			text := call.Args
			if call.Prepared != "" {
				text = call.Prepared
			}

			reply, err := e.Command(ctx, call.Tx, o, name, text, call.Now)
			if err != nil || name != "status" || call.Args != "" || agentStatus == nil {
				return reply, err
			}

			agentLine, err := agentStatus(ctx, call)

			return reply + "\n\n" + agentLine, err
		}
	}

	prepare := func(name string) command.Handler {
		return func(ctx context.Context, call command.Call) (string, error) {
			o := Origin{Conversation: call.Message.Conversation(), UserID: call.Message.UserID}

			return e.Rewrite(ctx, o, name, call.Args, call.Now), nil
		}
	}

	return []command.Command{
		{Name: KindRemind, Description: "Set a reminder: /remind me tomorrow at 9 to call Anna",
			Handle: handle(KindRemind), Prepare: prepare(KindRemind)},
		{Name: KindSchedule, Description: "Repeat a task: /schedule every weekday at 8:30 " +
			"send me my open tasks", Handle: handle(KindSchedule), Prepare: prepare(KindSchedule)},
		{Name: KindAutomate, Description: "Let the agent work on a schedule: /automate " +
			"every monday at 9 summarise https://example.org/feed", Handle: handle(KindAutomate),
			Prepare: prepare(KindAutomate)},
		{Name: KindTrigger, Description: "React to messages: /trigger when a message " +
			"contains \"invoice\" then remind me in 1 hour", Handle: handle(KindTrigger),
			Prepare: prepare(KindTrigger)},
		{Name: "status", Description: "Your automations and the agent; /status cancel|pause|" +
			"resume ID", Handle: handle("status")},
		{Name: "timezone", Description: "Show or set your time zone: /timezone Europe/Berlin",
			Handle: handle("timezone")},
	}
}
