package automation

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation/when"
)

// triggerRefresh is how often the engine reads which chats have triggers,
// for triggers made on another replica.
const triggerRefresh = 5 * time.Second

// noteTrigger records that a chat has a trigger, so that its messages are
// checked from now on.
func (e *Engine) noteTrigger(c core.Conversation) {
	e.mu.Lock()
	defer e.mu.Unlock()

	if e.triggers == nil {
		e.triggers = make(map[core.Conversation]bool)
	}

	e.triggers[chatOf(c)] = true
}

// forgetTriggers makes the next message read the chats with triggers
// again.
func (e *Engine) forgetTriggers() {
	e.mu.Lock()
	defer e.mu.Unlock()

	e.loaded = time.Time{}
}

// chatOf is a conversation without its thread: triggers watch a chat.
func chatOf(c core.Conversation) core.Conversation {
	return core.Conversation{Channel: c.Channel, ChatID: c.ChatID}
}

// watched reports whether the chat has active triggers, reading the list
// again when it is older than triggerRefresh.
func (e *Engine) watched(ctx context.Context, c core.Conversation) (bool, error) {
	now := e.cfg.Clock.Now()

	e.mu.Lock()
	fresh := now.Sub(e.loaded) < triggerRefresh
	has := e.triggers[chatOf(c)]
	e.mu.Unlock()

	if fresh {
		return has, nil
	}

	var chats []struct {
		Channel core.Channel `bun:"channel"`
		ChatID  core.ChatID  `bun:"chat_id"`
	}

	err := e.cfg.DB.NewSelect().Model((*Automation)(nil)).
		Distinct().Column("a.channel", "a.chat_id").
		Where("a.agent_id = ?", e.cfg.AgentID).
		Where("a.kind = ?", KindTrigger).
		Where("a.status = ?", StatusActive).
		Scan(ctx, &chats)
	if err != nil {
		return false, fmt.Errorf("read the chats with triggers: %w", err)
	}

	set := make(map[core.Conversation]bool, len(chats))
	for _, ch := range chats {
		set[core.Conversation{Channel: ch.Channel, ChatID: ch.ChatID}] = true
	}

	e.mu.Lock()
	e.triggers, e.loaded = set, now
	e.mu.Unlock()

	return set[chatOf(c)], nil
}

// Observe checks a stored message against the triggers of its chat and
// fires those that match, once per message however often it is observed.
// Commands do not fire triggers, so the /trigger message itself does not.
// The pipeline calls it for every message it has handled, answered or
// not.
func (e *Engine) Observe(ctx context.Context, msg core.Inbound, inboundID int64) {
	if len(msg.Text) > 0 && msg.Text[0] == '/' {
		return
	}

	has, err := e.watched(ctx, msg.Conversation())
	if err != nil || !has {
		if err != nil {
			e.log.Error("check triggers", "err", err)
		}

		return
	}

	var triggers []Automation

	err = e.cfg.DB.NewSelect().Model(&triggers).
		Where("a.agent_id = ?", e.cfg.AgentID).
		Where("a.kind = ?", KindTrigger).
		Where("a.status = ?", StatusActive).
		Where("a.channel = ?", msg.Channel).
		Where("a.chat_id = ?", msg.ChatID).
		Scan(ctx)
	if err != nil {
		e.log.Error("read triggers", "err", err)
		return
	}

	for i := range triggers {
		t := &triggers[i]
		if !(when.Trigger{Contains: t.TriggerContains}).Matches(msg.Text) {
			continue
		}

		if err := e.fireTrigger(ctx, t, msg, inboundID); err != nil {
			e.log.Error("fire trigger", "automation_id", t.ID, "err", err)
		}
	}
}

// fireTrigger does a trigger's action for one message: say something now,
// or set a reminder. The run, keyed by the message, and the action commit
// together.
func (e *Engine) fireTrigger(ctx context.Context, t *Automation, msg core.Inbound,
	inboundID int64,
) error {
	now := e.cfg.Clock.Now()

	err := e.cfg.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		run := &Run{AutomationID: t.ID, Key: "msg:" + strconv.FormatInt(inboundID, 10),
			DueAt: now.UTC(), FiredAt: now.UTC(), Status: runDone, Result: "fired"}

		fresh, err := recordRun(ctx, tx, run)
		if err != nil || !fresh {
			return err
		}

		what := fmt.Sprintf("a message from %s mentioned %q", senderOf(msg), t.TriggerContains)

		if t.TriggerRemindSeconds > 0 {
			r := &Automation{AgentID: t.AgentID, Kind: KindRemind, Channel: t.Channel,
				ChatID: t.ChatID, ThreadID: t.ThreadID, UserID: t.UserID,
				TimeZone: t.TimeZone, Text: remindText(t, what), CatchUp: CatchUpOnce,
				Status: StatusActive, CreatedAt: now, UpdatedAt: now,
				AtTime: bun.NullTime{Time: now.Add(time.Duration(t.TriggerRemindSeconds) * time.Second).UTC()},
			}
			r.NextRunAt = r.AtTime

			if err := insert(ctx, tx, r); err != nil {
				return err
			}
		} else {
			text := "🔔 " + what
			if t.TriggerSay != "" {
				text = t.TriggerSay + " (" + what + ")"
			}

			if err := e.send(ctx, tx, t.Conversation(), text, now); err != nil {
				return err
			}
		}

		_, err = tx.NewUpdate().Model((*Automation)(nil)).
			Set("last_run_at = ?", now.UTC()).
			Set("last_result = ?", "fired").
			Set("updated_at = ?", now).
			Where("id = ?", t.ID).
			Exec(ctx)

		return err
	})
	if err != nil {
		return err
	}

	e.cfg.Poke()
	e.Wake()

	return nil
}

// senderOf names a message's sender.
func senderOf(msg core.Inbound) string {
	if msg.UserName != "" {
		return msg.UserName
	}

	return string(msg.UserID)
}

// remindText is the text of a reminder a trigger sets.
func remindText(t *Automation, what string) string {
	if t.TriggerSay != "" {
		return t.TriggerSay + " (" + what + ")"
	}

	return what
}
