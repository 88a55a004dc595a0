package automation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
)

// claimFor is how long a replica holds agent work it started; a replica
// that dies lets it go to another after this.
const claimFor = 5 * time.Minute

// startPending starts the agent work of runs that are due, each in its own
// goroutine, at most cap(e.work) at once.
func (e *Engine) startPending(ctx context.Context) error {
	free := cap(e.work) - len(e.work)
	if free == 0 || e.cfg.Responder == nil {
		return nil
	}

	now := e.cfg.Clock.Now().UTC()

	var runs []Run

	err := e.cfg.DB.NewSelect().Model(&runs).
		Join("JOIN automations AS a ON a.id = run.automation_id").
		Where("a.agent_id = ?", e.cfg.AgentID).
		Where("run.status = ?", runPending).
		Where("run.next_attempt_at <= ?", now).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("run.claimed_until IS NULL").WhereOr("run.claimed_until < ?", now)
		}).
		OrderExpr("run.id").
		Limit(int64(free)).
		Scan(ctx)
	if err != nil {
		return fmt.Errorf("find agent work: %w", err)
	}

	for i := range runs {
		run := &runs[i]

		ok, err := e.claim(ctx, run, now)
		if err != nil {
			return err
		}

		if !ok {
			continue
		}

		e.work <- struct{}{}

		e.wg.Go(func() {
			defer func() { <-e.work }()

			e.doWork(ctx, run)
		})
	}

	return nil
}

// claim takes a run for this replica unless another holds it.
func (e *Engine) claim(ctx context.Context, run *Run, now time.Time) (bool, error) {
	res, err := e.cfg.DB.NewUpdate().Model((*Run)(nil)).
		Set("claimed_by = ?", e.cfg.ReplicaID).
		Set("claimed_until = ?", now.Add(claimFor)).
		Where("id = ?", run.ID).
		Where("status = ?", runPending).
		WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("claimed_until IS NULL").WhereOr("claimed_until < ?", now)
		}).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim run %d: %w", run.ID, err)
	}

	n, err := res.RowsAffected()

	return n == 1, err
}

// doWork asks the agent to do an automation's task and records the
// answer in the outbox and the run together; a failure is retried with
// backoff, then reported to the owner.
func (e *Engine) doWork(ctx context.Context, run *Run) {
	a := new(Automation)
	if err := e.cfg.DB.NewSelect().Model(a).Where("a.id = ?", run.AutomationID).
		Scan(ctx); err != nil {
		e.log.Error("read automation of run", "run_id", run.ID, "err", err)
		return
	}

	reply, err := e.cfg.Responder.Respond(ctx, e.workRequest(a, run))
	if ctx.Err() != nil {
		e.release(run) // stopping: the next start does it
		return
	}

	now := e.cfg.Clock.Now()

	err = e.cfg.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err != nil {
			return e.failed(ctx, tx, a, run, err, now)
		}

		text := reply.Text + lateNote(run.DueAt, run.FiredAt.Sub(run.DueAt), a.Zone())
		if err := e.send(ctx, tx, a.Conversation(), text, now); err != nil {
			return err
		}

		return e.finish(ctx, tx, a, run, runDone, "sent", now)
	})
	if err != nil {
		e.log.Error("record agent work", "automation_id", a.ID, "run_id", run.ID, "err", err)
		e.release(run)

		return
	}

	e.cfg.Poke()
}

// workRequest is what the agent is asked for one run.
func (e *Engine) workRequest(a *Automation, run *Run) agent.Request {
	return agent.Request{
		Message: core.Inbound{Channel: a.Channel, ChatID: a.ChatID, ThreadID: a.ThreadID,
			UserID: a.UserID, MessageID: core.MessageID(fmt.Sprintf("run-%d", run.ID)),
			Text: a.Text, Direct: true, SentAt: run.DueAt},
		// A run is counted as a message of the budget under an id of its
		// own: negative, as it is not a stored message.
		InboundID: -run.ID,
		Instructions: fmt.Sprintf("This message is automation #%d, which the person set "+
			"up to run %s. Do the task now, with your tools where they help, and "+
			"answer with the result for them.", a.ID, a.Schedule().Describe(a.Zone())),
	}
}

// failed records a failed try: a retry after a growing wait, or, after the
// last try, a failed run reported to the owner.
func (e *Engine) failed(ctx context.Context, tx bun.IDB, a *Automation, run *Run,
	cause error, now time.Time,
) error {
	run.Attempts++

	if run.Attempts < e.cfg.MaxAttempts {
		wait := e.cfg.Backoff << (run.Attempts - 1)
		run.NextAttempt = bun.NullTime{Time: now.Add(wait).UTC()}
		run.ClaimedUntil = bun.NullTime{}
		run.Result = "retrying: " + cause.Error()

		e.log.Warn("automation failed, retrying", "automation_id", a.ID, "run_id", run.ID,
			"attempt", run.Attempts, "retry_in", wait.String(), "err", cause)

		_, err := tx.NewUpdate().Model(run).
			Column("attempts", "next_attempt_at", "claimed_until", "result").
			WherePK().Exec(ctx)

		return err
	}

	e.log.Error("automation failed", "automation_id", a.ID, "run_id", run.ID,
		"attempts", run.Attempts, "err", cause)

	report := fmt.Sprintf("Automation #%d (%s) failed after %d tries: %v", a.ID,
		a.Text, run.Attempts, cause)
	if err := e.send(ctx, tx, a.Conversation(), report, now); err != nil {
		return err
	}

	return e.finish(ctx, tx, a, run, runFailed, "failed: "+cause.Error(), now)
}

// finish closes a run and notes its result on the automation.
func (e *Engine) finish(ctx context.Context, tx bun.IDB, a *Automation, run *Run, status,
	result string, now time.Time,
) error {
	run.Status, run.Result = status, result

	if _, err := tx.NewUpdate().Model(run).Column("attempts", "status", "result").
		WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("close run %d: %w", run.ID, err)
	}

	_, err := tx.NewUpdate().Model((*Automation)(nil)).
		Set("last_result = ?", result).
		Set("updated_at = ?", now).
		Where("id = ?", a.ID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("note the result of automation %d: %w", a.ID, err)
	}

	return nil
}

// release gives a claimed run back, for another try.
func (e *Engine) release(run *Run) {
	_, err := e.cfg.DB.NewUpdate().Model((*Run)(nil)).
		Set("claimed_until = NULL").
		Where("id = ?", run.ID).
		Exec(context.Background())
	if err != nil && !errors.Is(err, context.Canceled) {
		e.log.Error("release run", "run_id", run.ID, "err", err)
	}
}
