package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/command"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/session"
)

// errNotMine aborts a transaction for a message that another replica
// adopted meanwhile; it is not an error worth logging.
var errNotMine = errors.New("message was adopted by another replica")

// historyTurns is how much of the transcript the responder sees.
const historyTurns = 50

// workBatch is how many pending messages of a conversation a worker reads
// from the database at once.
const workBatch = 8

// loadPending reads up to workBatch pending messages of conv that this
// replica owns, oldest first.
func (p *Pipeline) loadPending(ctx context.Context, conv core.Conversation,
) ([]*inboundRow, error) {
	var rows []*inboundRow

	err := p.db.NewSelect().Model(&rows).
		Where("agent_id = ?", p.agentID).
		Where("channel = ?", conv.Channel).
		Where("chat_id = ?", conv.ChatID).
		Where("thread_id = ?", conv.ThreadID).
		Where("status = ?", statusReceived).
		Where("owner = ?", p.replica.ID).
		OrderExpr("id").Limit(workBatch).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read pending messages of %s: %w", conv, err)
	}

	return rows, nil
}

// process takes one stored message through access control, commands or
// the responder, and records the outcome and the answer in one
// transaction.
func (p *Pipeline) process(ctx context.Context, row *inboundRow) error {
	msg, err := row.message()
	if err != nil {
		return p.finish(ctx, row, outcomeFailed, nil, "")
	}

	if p.opts.Observe != nil {
		defer func() {
			if ctx.Err() == nil {
				p.opts.Observe(ctx, msg, row.ID)
			}
		}()
	}

	// The common case, an allowed person writing free text, needs no
	// transaction before the responder: the gate only reads.
	name, args, isCommand := command.Parse(msg.Text)
	if !isCommand {
		verdict, err := p.policy.Gate(ctx, p.db, msg)
		if err != nil {
			return fmt.Errorf("check access: %w", err)
		}

		if verdict.Outcome == access.Allow {
			return p.respond(ctx, row, msg)
		}
	}

	prepared := p.prepare(ctx, row, msg, name, args, isCommand)
	now := p.clock.Now()

	var needAgent bool

	err = p.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		verdict, err := p.policy.Check(ctx, tx, msg, now)
		if err != nil {
			return err
		}

		switch verdict.Outcome {
		case access.Ignore:
			p.log.Debug("message ignored", "inbound_id", row.ID, "reason", verdict.Reason)
			return p.markHandled(ctx, tx, row, outcomeIgnored, now)
		case access.Pair:
			p.log.Info("pairing requested", "channel", string(msg.Channel),
				"user_id", msg.UserID)

			return p.answer(ctx, tx, row, msg, outcomePairing, verdict.Reply, now)
		}

		if !isCommand {
			needAgent = true
			return nil
		}

		reply, err := p.runCommand(ctx, tx, row, msg, name, args, prepared, now)
		if err != nil {
			return err
		}

		return p.answer(ctx, tx, row, msg, outcomeCommand, reply, now)
	})
	if err != nil {
		if errors.Is(err, errNotMine) {
			return err
		}

		p.log.Error("handle message", "inbound_id", row.ID, "err", err)

		return p.finish(ctx, row, outcomeFailed, &msg, apology)
	}

	if needAgent {
		return p.respond(ctx, row, msg)
	}

	p.deliverer.Poke()

	return nil
}

// apology answers a message whose handling failed.
const apology = "Sorry, something went wrong while I handled that. Please try again."

// prepare runs a command's Prepare outside any transaction, for a sender
// the gate lets through; a failure is logged and leaves nothing prepared.
func (p *Pipeline) prepare(ctx context.Context, row *inboundRow, msg core.Inbound, name,
	args string, isCommand bool,
) string {
	if !isCommand {
		return ""
	}

	cmd, ok := p.commands.Lookup(name)
	if !ok || cmd.Prepare == nil {
		return ""
	}

	if v, err := p.policy.Gate(ctx, p.db, msg); err != nil || v.Outcome != access.Allow {
		return ""
	}

	out, err := cmd.Prepare(ctx, command.Call{Tx: p.db, Message: msg, InboundID: row.ID,
		Name: name, Args: args, Now: p.clock.Now()})
	if err != nil {
		p.log.Warn("prepare command", "inbound_id", row.ID, "command", name, "err", err)
		return ""
	}

	return out
}

// runCommand runs a slash command; an unknown one gets the list of known
// ones.
func (p *Pipeline) runCommand(ctx context.Context, tx bun.Tx, row *inboundRow,
	msg core.Inbound, name, args, prepared string, now time.Time,
) (string, error) {
	cmd, ok := p.commands.Lookup(name)
	if !ok {
		return fmt.Sprintf("I don't know /%s. I know: %s.", name, p.commandList()), nil
	}

	reply, err := cmd.Handle(ctx, command.Call{
		Tx:        tx,
		Message:   msg,
		InboundID: row.ID,
		Name:      name,
		Args:      args,
		Now:       now,
		Prepared:  prepared,
	})
	if err != nil {
		return "", fmt.Errorf("run /%s: %w", name, err)
	}

	return reply, nil
}

// respond asks the responder for an answer outside any transaction, then
// records both turns and the answer together.
func (p *Pipeline) respond(ctx context.Context, row *inboundRow, msg core.Inbound) error {
	conv := msg.Conversation()
	now := p.clock.Now()

	sess, err := session.Current(ctx, p.db, p.agentID, conv, now)
	if err != nil {
		return err
	}

	history := func(ctx context.Context) ([]session.Turn, error) {
		return session.Transcript(ctx, p.db, sess.ID, historyTurns)
	}

	var onText func(string)
	if s, ok := p.adapters[msg.Channel].(core.TextStreamer); ok {
		onText = s.StreamText(msg)
	}

	stopTyping := p.showTyping(ctx, conv)
	reply, err := p.responder.Respond(ctx, agent.Request{
		Message: msg, InboundID: row.ID, Session: sess, History: history, OnText: onText,
	})
	stopTyping()

	if ctx.Err() != nil {
		return ctx.Err() // stopping: the message stays pending for the next start
	}

	if err != nil {
		p.log.Error("responder failed", "inbound_id", row.ID, "responder", p.responder.Name(),
			"err", err)

		return p.finish(ctx, row, outcomeFailed, &msg, apology)
	}

	if err := p.answers.Do(&answer{row: row, msg: msg, sess: sess, reply: reply}); err != nil {
		if errors.Is(err, errNotMine) {
			return errNotMine
		}

		return fmt.Errorf("record answer: %w", err)
	}

	p.metrics.Answered.WithLabelValues(string(msg.Channel)).Inc()
	p.deliverer.Poke()

	return nil
}

// answer is a responder's answer waiting to be recorded.
type answer struct {
	row   *inboundRow
	msg   core.Inbound
	sess  *session.Session
	reply agent.Reply
}

// recordAnswers records a batch of answers in one transaction: the
// messages marked handled, both turns of each in its session's transcript,
// and the answers in the outbox. It fails as a whole when any message was
// adopted by another replica meanwhile; the batcher then records each
// alone.
func (p *Pipeline) recordAnswers(ctx context.Context, tx bun.Tx, batch []*answer) error {
	now := p.clock.Now()
	ids := make([]int64, len(batch))
	entries := make([]session.Entry, len(batch))
	answers := make([]outbox.Answer, len(batch))
	limits := make([]outbox.Limit, len(batch))

	for i, a := range batch {
		ids[i] = a.row.ID
		entries[i] = session.Entry{Session: a.sess, Turns: []*session.Turn{
			{InboundID: a.row.ID, Role: session.RoleUser, Text: a.msg.Text,
				CreatedAt: a.row.ReceivedAt},
			{InboundID: a.row.ID, Role: session.RoleAssistant, Text: a.reply.Text,
				Model: a.reply.Model, Tools: strings.Join(a.reply.Tools, ","),
				InputTokens:  int64(a.reply.Usage.InputTokens),
				OutputTokens: int64(a.reply.Usage.OutputTokens), CreatedAt: now},
		}}
		answers[i] = p.answerTo(a.row, a.msg, a.reply.Text)
		limits[i] = outbox.LimitOf(p.adapters[a.msg.Channel])
	}

	if err := p.markAllHandled(ctx, tx, ids, outcomeAnswered, now); err != nil {
		return err
	}

	if err := session.Append(ctx, tx, now, entries...); err != nil {
		return err
	}

	_, err := outbox.EnqueueAll(ctx, tx, p.agentID, answers, limits, now)

	return err
}

// showTyping shows the typing indicator if the responder takes longer than
// the typing delay, and repeats it until the returned stop is called.
func (p *Pipeline) showTyping(ctx context.Context, conv core.Conversation) (stop func()) {
	typer, ok := p.adapters[conv.Channel].(core.Typer)
	if !ok {
		return func() {}
	}

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})

	go func() {
		defer close(done)

		wait := p.opts.TypingDelay
		for {
			sleep(ctx, wait)
			if ctx.Err() != nil {
				return
			}

			if err := typer.ShowTyping(ctx, conv); err != nil && ctx.Err() == nil {
				p.log.Debug("show typing", "conversation", conv.String(), "err", err)
			}

			wait = 4 * time.Second
		}
	}()

	return func() {
		cancel()
		<-done
	}
}

// answer marks the message handled and puts the reply in the outbox.
func (p *Pipeline) answer(ctx context.Context, tx bun.IDB, row *inboundRow, msg core.Inbound,
	outcome, reply string, now time.Time,
) error {
	if err := p.markHandled(ctx, tx, row, outcome, now); err != nil {
		return err
	}

	return p.enqueue(ctx, tx, row, msg, reply, now)
}

func (p *Pipeline) enqueue(ctx context.Context, tx bun.IDB, row *inboundRow, msg core.Inbound,
	reply string, now time.Time,
) error {
	if reply == "" {
		return nil
	}

	_, err := outbox.Enqueue(ctx, tx, p.agentID, p.answerTo(row, msg, reply),
		outbox.LimitOf(p.adapters[msg.Channel]), now)
	if err != nil {
		return err
	}

	p.metrics.Answered.WithLabelValues(string(msg.Channel)).Inc()

	return nil
}

// answerTo addresses an answer to the conversation of a stored message.
func (p *Pipeline) answerTo(row *inboundRow, msg core.Inbound, text string) outbox.Answer {
	return outbox.Answer{
		To:        msg.Conversation(),
		Text:      text,
		ReplyTo:   msg.MessageID,
		InboundID: row.ID,
		OriginAt:  row.ReceivedAt,
	}
}

// markHandled closes a pending message, provided this replica still owns
// it.
func (p *Pipeline) markHandled(ctx context.Context, tx bun.IDB, row *inboundRow,
	outcome string, now time.Time,
) error {
	return p.markAllHandled(ctx, tx, []int64{row.ID}, outcome, now)
}

// markAllHandled closes pending messages, provided this replica still owns
// every one of them; otherwise it returns errNotMine.
func (p *Pipeline) markAllHandled(ctx context.Context, tx bun.IDB, ids []int64,
	outcome string, now time.Time,
) error {
	res, err := tx.NewUpdate().Model((*inboundRow)(nil)).
		Set("status = ?", statusHandled).
		Set("outcome = ?", outcome).
		Set("handled_at = ?", now).
		Where("id IN (?)", bun.List(ids)).
		Where("status = ?", statusReceived).
		Where("owner = ?", p.replica.ID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark %d inbound messages handled: %w", len(ids), err)
	}

	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		return errNotMine
	}

	return nil
}

// finish closes a message whose handling failed, with an apology when msg
// is known.
func (p *Pipeline) finish(ctx context.Context, row *inboundRow, outcome string,
	msg *core.Inbound, reply string,
) error {
	now := p.clock.Now()

	err := p.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if msg == nil {
			return p.markHandled(ctx, tx, row, outcome, now)
		}

		return p.answer(ctx, tx, row, *msg, outcome, reply, now)
	})
	if err != nil {
		return fmt.Errorf("record failed message: %w", err)
	}

	p.deliverer.Poke()

	return nil
}
