// Package automation keeps and fires the automations people set up in
// chat: reminders (/remind), recurring agent tasks (/schedule,
// /automate) and triggers on messages (/trigger). They are rows in the
// database, so they survive restarts; each firing is recorded under a key
// that is unique per automation, in the same transaction that puts its
// message in the outbox, so a crash can neither lose nor repeat one.
package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation/when"
)

// The kinds of automation.
const (
	KindRemind   = "remind"
	KindSchedule = "schedule"
	KindAutomate = "automate"
	KindTrigger  = "trigger"
)

// The states of an automation.
const (
	StatusActive    = "active"
	StatusPaused    = "paused"
	StatusDone      = "done"
	StatusCancelled = "cancelled"
	StatusFailed    = "failed"
)

// The catch-up policies of a recurring automation whose occurrences fell
// due while the gateway was down.
const (
	// CatchUpOnce runs the missed work once, late, then goes on as
	// scheduled. It is the default: a summary that was missed is still
	// wanted, twelve of them are not.
	CatchUpOnce = "once"
	// CatchUpSkip drops what was missed and waits for the next time.
	CatchUpSkip = "skip"
)

// Automation is one stored automation.
type Automation struct {
	bun.BaseModel `bun:"table:automations,alias:a"`

	ID      int64  `bun:"id,pk,autoincrement"`
	AgentID string `bun:"agent_id"`
	Kind    string `bun:"kind"`
	// Channel, ChatID and ThreadID are where it was made and where its
	// messages go; UserID is who made it.
	Channel  core.Channel  `bun:"channel"`
	ChatID   core.ChatID   `bun:"chat_id"`
	ThreadID core.ThreadID `bun:"thread_id"`
	UserID   core.UserID   `bun:"user_id"`
	// TimeZone is the maker's zone, in which the schedule is read.
	TimeZone string `bun:"time_zone"`
	// Text is the reminder's text or the agent's task.
	Text string `bun:"text"`
	// AtTime, Cron, EverySeconds and StartAt are the schedule.
	AtTime       bun.NullTime `bun:"at_time"`
	Cron         string       `bun:"cron"`
	EverySeconds int64        `bun:"every_seconds"`
	StartAt      bun.NullTime `bun:"start_at"`
	// TriggerContains, TriggerSay and TriggerRemindSeconds are a trigger.
	TriggerContains      string `bun:"trigger_contains"`
	TriggerSay           string `bun:"trigger_say"`
	TriggerRemindSeconds int64  `bun:"trigger_remind_seconds"`
	CatchUp              string `bun:"catch_up"`
	Status               string `bun:"status"`
	// NextRunAt is the next occurrence; null for a trigger or when none.
	NextRunAt  bun.NullTime `bun:"next_run_at"`
	LastRunAt  bun.NullTime `bun:"last_run_at"`
	LastResult string       `bun:"last_result"`
	CreatedAt  time.Time    `bun:"created_at"`
	UpdatedAt  time.Time    `bun:"updated_at"`
}

// Schedule returns the automation's schedule.
func (a *Automation) Schedule() when.Schedule {
	return when.Schedule{At: a.AtTime.Time, Cron: a.Cron,
		Every: time.Duration(a.EverySeconds) * time.Second, Start: a.StartAt.Time}
}

// Zone returns the automation's time zone, UTC when it cannot be loaded.
func (a *Automation) Zone() *time.Location {
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return time.UTC
	}

	return loc
}

// Conversation is where the automation's messages go.
func (a *Automation) Conversation() core.Conversation {
	return core.Conversation{Channel: a.Channel, ChatID: a.ChatID, ThreadID: a.ThreadID}
}

// setSchedule stores s on the automation and computes the first run after
// now.
func (a *Automation) setSchedule(s when.Schedule, now time.Time) error {
	a.AtTime = bun.NullTime{Time: s.At}
	a.Cron = s.Cron
	a.EverySeconds = int64(s.Every / time.Second)
	a.StartAt = bun.NullTime{Time: s.Start}

	next, ok := s.Next(now, a.Zone())
	if !s.Recurring() {
		next, ok = s.At, !s.At.Before(now)
	}

	if !ok {
		return &when.Error{Reason: "that time has already passed",
			Example: "/remind me in 20 minutes to stretch"}
	}

	a.NextRunAt = bun.NullTime{Time: next.UTC()}

	return nil
}

// ErrNotFound is an automation that does not exist or is not the
// caller's.
var ErrNotFound = errors.New("automation not found")

// Get returns the automation id if it belongs to the user on the
// channel, or ErrNotFound, wrapped.
func Get(ctx context.Context, db bun.IDB, agentID string, ch core.Channel, user core.UserID,
	id int64,
) (*Automation, error) {
	a := new(Automation)

	err := db.NewSelect().Model(a).
		Where("a.id = ?", id).
		Where("a.agent_id = ?", agentID).
		Where("a.channel = ?", ch).
		Where("a.user_id = ?", user).
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("automation %d: %w", id, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("read automation %d: %w", id, err)
	}

	return a, nil
}

// ListOf returns the user's automations on the channel that are active or
// paused, oldest first.
func ListOf(ctx context.Context, db bun.IDB, agentID string, ch core.Channel,
	user core.UserID,
) ([]Automation, error) {
	var out []Automation

	err := db.NewSelect().Model(&out).
		Where("a.agent_id = ?", agentID).
		Where("a.channel = ?", ch).
		Where("a.user_id = ?", user).
		Where("a.status IN (?)", bun.List([]string{StatusActive, StatusPaused})).
		OrderExpr("a.id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list automations of %s:%s: %w", ch, user, err)
	}

	return out, nil
}

// insert stores a new automation.
func insert(ctx context.Context, db bun.IDB, a *Automation) error {
	if _, err := db.NewInsert().Model(a).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store automation: %w", err)
	}

	return nil
}

// setStatus changes an automation's status and next run.
func setStatus(ctx context.Context, db bun.IDB, a *Automation, now time.Time) error {
	a.UpdatedAt = now

	_, err := db.NewUpdate().Model(a).
		Column("status", "next_run_at", "updated_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("update automation %d: %w", a.ID, err)
	}

	return nil
}
