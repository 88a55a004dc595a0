package automation

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/store"
)

// Run is one firing of an automation. Its key is unique per automation:
// the occurrence's time for a schedule, the message for a trigger.
type Run struct {
	bun.BaseModel `bun:"table:automation_runs,alias:run"`

	ID           int64        `bun:"id,pk,autoincrement"`
	AutomationID int64        `bun:"automation_id"`
	Key          string       `bun:"run_key"`
	DueAt        time.Time    `bun:"due_at"`
	FiredAt      time.Time    `bun:"fired_at"`
	Status       string       `bun:"status"`
	Attempts     int          `bun:"attempts"`
	NextAttempt  bun.NullTime `bun:"next_attempt_at"`
	ClaimedBy    string       `bun:"claimed_by"`
	ClaimedUntil bun.NullTime `bun:"claimed_until"`
	Result       string       `bun:"result"`
}

// The states of a run.
const (
	runDone    = "done"
	runPending = "pending" // agent work to do
	runFailed  = "failed"
	runSkipped = "skipped"
)

// Config configures an Engine.
type Config struct {
	DB      *store.DB
	AgentID string
	// DefaultZone is the zone of people who have not set one.
	DefaultZone string
	// Responder does the agent work of /schedule and /automate.
	Responder agent.Responder
	// Rewrite, when not nil, reads with a model what the parser cannot.
	Rewrite Rewriter
	// Limit bounds one message of a channel; Poke wakes the outbox.
	Limit func(ch core.Channel) outbox.Limit
	Poke  func()
	// ReplicaID names this process in claims of agent work.
	ReplicaID string
	// Poll is the longest wait between two looks for due work. Default
	// 250 ms: the bound on lateness when another replica made the
	// automation.
	Poll time.Duration
	// MaxAttempts bounds tries of agent work before it is reported as
	// failed. Default 3.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled each time.
	// Default 30 s.
	Backoff time.Duration
	Clock   clock.Clock
	Logger  *slog.Logger
}

// Engine fires due automations and triggers. It is safe for concurrent
// use; Run drives it.
type Engine struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}

	mu       sync.Mutex
	triggers map[core.Conversation]bool // chats with active triggers
	loaded   time.Time                  // when triggers was read

	work chan struct{} // slots for agent work at once
	wg   sync.WaitGroup
}

// NewEngine returns an engine.
func NewEngine(cfg Config) *Engine {
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}

	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}

	if cfg.Backoff <= 0 {
		cfg.Backoff = 30 * time.Second
	}

	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}

	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	if cfg.DefaultZone == "" {
		cfg.DefaultZone = "UTC"
	}

	if cfg.Poke == nil {
		cfg.Poke = func() {}
	}

	return &Engine{cfg: cfg, log: cfg.Logger.With("component", "automation"),
		wake: make(chan struct{}, 1), work: make(chan struct{}, 4)}
}

// Wake makes the engine look for due work now.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run fires due automations until ctx ends, then waits for agent work in
// progress to stop.
func (e *Engine) Run(ctx context.Context) error {
	defer e.wg.Wait()

	for {
		next, err := e.FireDue(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("fire automations", "err", err)
		}

		if err := e.startPending(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("run agent work", "err", err)
		}

		// A next time in the past belongs to a row another replica
		// holds: wait a poll rather than ask again at once.
		wait := e.cfg.Poll
		if !next.IsZero() && next.After(e.cfg.Clock.Now()) {
			wait = min(wait, next.Sub(e.cfg.Clock.Now()))
		}

		t := time.NewTimer(wait)

		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.wake:
		case <-t.C:
		}

		t.Stop()
	}
}

// dueBatch bounds the automations fired in one pass.
const dueBatch = 200

// FireDue fires every active automation that is due and returns when the
// next one falls due after those (zero when none is known).
func (e *Engine) FireDue(ctx context.Context) (time.Time, error) {
	for {
		now := e.cfg.Clock.Now()

		var due []Automation

		err := e.cfg.DB.NewSelect().Model(&due).
			Where("a.agent_id = ?", e.cfg.AgentID).
			Where("a.status = ?", StatusActive).
			Where("a.next_run_at <= ?", now.UTC()).
			OrderExpr("a.next_run_at").
			Limit(dueBatch).
			Scan(ctx)
		if err != nil {
			return time.Time{}, fmt.Errorf("find due automations: %w", err)
		}

		fired := 0

		for i := range due {
			// Each firing reads the clock: after a downtime a pass can
			// be long, and the run records when it really fired.
			if err := e.fire(ctx, &due[i], e.cfg.Clock.Now()); err != nil {
				if ctx.Err() != nil {
					return time.Time{}, ctx.Err()
				}

				// One automation that cannot fire must not hold up
				// the others; it is tried again on the next pass.
				e.log.Error("fire automation", "automation_id", due[i].ID, "err", err)

				continue
			}

			fired++
		}

		if len(due) > 0 && fired == 0 {
			return time.Time{}, nil // all failed or held elsewhere: wait a poll
		}

		if fired > 0 {
			e.cfg.Poke()
		}

		if len(due) < dueBatch {
			return e.nextDue(ctx)
		}
	}
}

// nextDue returns when the next active automation falls due.
func (e *Engine) nextDue(ctx context.Context) (time.Time, error) {
	var next []time.Time

	err := e.cfg.DB.NewSelect().Model((*Automation)(nil)).
		Column("a.next_run_at").
		Where("a.agent_id = ?", e.cfg.AgentID).
		Where("a.status = ?", StatusActive).
		Where("a.next_run_at IS NOT NULL").
		OrderExpr("a.next_run_at").
		Limit(1).
		Scan(ctx, &next)
	if err != nil {
		return time.Time{}, fmt.Errorf("find the next automation: %w", err)
	}

	if len(next) == 0 {
		return time.Time{}, nil
	}

	return next[0], nil
}

// lateAfter is how late a firing may be before its message says so.
const lateAfter = time.Minute

// fire records one occurrence of a, puts its message in the outbox or
// queues its agent work, and moves a to its next occurrence, all in one
// transaction. On PostgreSQL the row is locked, skipping rows another
// replica holds; the run's unique key stops a second firing of the same
// occurrence in any case.
func (e *Engine) fire(ctx context.Context, a *Automation, now time.Time) error {
	return e.cfg.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if e.cfg.DB.Kind == store.Postgres {
			var ids []int64

			err := tx.NewSelect().Model((*Automation)(nil)).
				Column("a.id").
				Where("a.id = ?", a.ID).
				Where("a.status = ?", StatusActive).
				Where("a.next_run_at = ?", a.NextRunAt.Time).
				For("UPDATE SKIP LOCKED").
				Scan(ctx, &ids)
			if err != nil {
				return fmt.Errorf("lock automation %d: %w", a.ID, err)
			}

			if len(ids) == 0 {
				return nil // another replica has it, or has fired it
			}
		}

		due := a.NextRunAt.Time.UTC()
		late := now.Sub(due)
		sched := a.Schedule()
		zone := a.Zone()

		run := &Run{AutomationID: a.ID, Key: due.Format(time.RFC3339Nano), DueAt: due,
			FiredAt: now.UTC(), Status: runDone}

		skip := sched.Recurring() && a.CatchUp == CatchUpSkip && late > lateAfter
		if skip {
			run.Status, run.Result = runSkipped, "skipped: the gateway was down when it fell due"
		}

		fresh, err := recordRun(ctx, tx, run)
		if err != nil {
			return err
		}

		if fresh && !skip {
			if err := e.perform(ctx, tx, a, run, late, now); err != nil {
				return err
			}
		}

		a.LastRunAt = bun.NullTime{Time: now.UTC()}
		a.LastResult = run.Result

		// After a downtime, go on from now: the missed occurrences are
		// not fired one by one.
		from := due
		if late > lateAfter {
			from = now
		}

		if next, ok := sched.Next(from, zone); ok && sched.Recurring() {
			a.NextRunAt = bun.NullTime{Time: next.UTC()}
		} else {
			a.NextRunAt = bun.NullTime{}
			a.Status = StatusDone
		}

		a.UpdatedAt = now

		_, err = tx.NewUpdate().Model(a).
			Column("status", "next_run_at", "last_run_at", "last_result", "updated_at").
			WherePK().
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("move automation %d on: %w", a.ID, err)
		}

		return nil
	})
}

// recordRun inserts the run unless its key was fired already, and says
// whether it was new: only a new row returns its id.
func recordRun(ctx context.Context, tx bun.IDB, run *Run) (bool, error) {
	_, err := tx.NewInsert().Model(run).
		On("CONFLICT (automation_id, run_key) DO NOTHING").
		Returning("id").
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record run of automation %d: %w", run.AutomationID, err)
	}

	return run.ID != 0, nil
}

// perform does what a firing does inside its transaction: a reminder's
// message goes to the outbox; agent work is queued for startPending.
func (e *Engine) perform(ctx context.Context, tx bun.IDB, a *Automation, run *Run,
	late time.Duration, now time.Time,
) error {
	if a.Kind != KindRemind {
		run.Status, run.Result = runPending, "queued"
		run.NextAttempt = bun.NullTime{Time: now.UTC()}

		_, err := tx.NewUpdate().Model(run).Column("status", "result", "next_attempt_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("queue the work of automation %d: %w", a.ID, err)
		}

		return nil
	}

	text := "⏰ Reminder: " + a.Text + lateNote(run.DueAt, late, a.Zone())
	run.Result = "sent"

	return e.send(ctx, tx, a.Conversation(), text, now)
}

// lateNote says that a message comes late, and when it was due.
func lateNote(due time.Time, late time.Duration, zone *time.Location) string {
	if late <= lateAfter {
		return ""
	}

	return fmt.Sprintf("\n(This was due %s and is %s late: I was not running then.)",
		due.In(zone).Format(TimeFormat), late.Round(time.Minute))
}

// send puts a message for a conversation in the outbox.
func (e *Engine) send(ctx context.Context, tx bun.IDB, to core.Conversation, text string,
	now time.Time,
) error {
	lim := outbox.Limit{Max: core.DefaultTextLimit, Count: outbox.CountRunes}
	if e.cfg.Limit != nil {
		lim = e.cfg.Limit(to.Channel)
	}

	_, err := outbox.Enqueue(ctx, tx, e.cfg.AgentID, outbox.Answer{To: to, Text: text,
		OriginAt: now}, lim, now)

	return err
}
