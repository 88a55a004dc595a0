package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// Status of a stored inbound message.
const (
	statusReceived = "received"
	statusHandled  = "handled"
)

// Outcome of a handled inbound message, kept for status and debugging.
const (
	outcomeAnswered = "answered"
	outcomeCommand  = "command"
	outcomeIgnored  = "ignored"
	outcomePairing  = "pairing"
	outcomeFailed   = "failed"
)

// inboundRow is an inbound message as stored. The unique key (agent_id,
// channel, chat_id, platform_message_id) stops redeliveries.
type inboundRow struct {
	bun.BaseModel `bun:"table:inbound_messages"`

	ID                int64          `bun:"id,pk,autoincrement"`
	AgentID           string         `bun:"agent_id"`
	Channel           core.Channel   `bun:"channel"`
	ChatID            core.ChatID    `bun:"chat_id"`
	ThreadID          core.ThreadID  `bun:"thread_id"`
	PlatformMessageID core.MessageID `bun:"platform_message_id"`
	UserID            core.UserID    `bun:"user_id"`
	UserName          string         `bun:"user_name"`
	Text              string         `bun:"text"`
	Images            []byte         `bun:"images"`
	Direct            bool           `bun:"direct"`
	Mentioned         bool           `bun:"mentioned"`
	ReplyToAgent      bool           `bun:"reply_to_agent"`
	SentAt            bun.NullTime   `bun:"sent_at"`
	ReceivedAt        time.Time      `bun:"received_at"`
	Status            string         `bun:"status"`
	Owner             string         `bun:"owner"`
	HandledAt         bun.NullTime   `bun:"handled_at"`
	Outcome           string         `bun:"outcome"`
}

func newInboundRow(agentID, owner string, m core.Inbound, now time.Time) (*inboundRow, error) {
	r := &inboundRow{
		AgentID:           agentID,
		Channel:           m.Channel,
		ChatID:            m.ChatID,
		ThreadID:          m.ThreadID,
		PlatformMessageID: m.MessageID,
		UserID:            m.UserID,
		UserName:          m.UserName,
		Text:              m.Text,
		Direct:            m.Direct,
		Mentioned:         m.Mentioned,
		ReplyToAgent:      m.ReplyToAgent,
		ReceivedAt:        now,
		Status:            statusReceived,
		Owner:             owner,
	}

	if !m.SentAt.IsZero() {
		r.SentAt = bun.NullTime{Time: m.SentAt.UTC()}
	}

	if len(m.Images) > 0 {
		b, err := json.Marshal(m.Images)
		if err != nil {
			return nil, fmt.Errorf("encode images: %w", err)
		}

		r.Images = b
	}

	return r, nil
}

func (r *inboundRow) message() (core.Inbound, error) {
	m := core.Inbound{
		Channel:      r.Channel,
		ChatID:       r.ChatID,
		ThreadID:     r.ThreadID,
		UserID:       r.UserID,
		MessageID:    r.PlatformMessageID,
		UserName:     r.UserName,
		Text:         r.Text,
		Direct:       r.Direct,
		Mentioned:    r.Mentioned,
		ReplyToAgent: r.ReplyToAgent,
		SentAt:       r.SentAt.Time,
	}

	if len(r.Images) > 0 {
		if err := json.Unmarshal(r.Images, &m.Images); err != nil {
			return m, fmt.Errorf("decode images of inbound %d: %w", r.ID, err)
		}
	}

	return m, nil
}

// Receive stores msg under its unique key and queues it for its session.
// A redelivered message stops at the key. It implements core.Sink.
func (p *Pipeline) Receive(ctx context.Context, msg core.Inbound) error {
	if err := msg.Validate(); err != nil {
		return err
	}

	a, ok := p.adapters[msg.Channel]
	if !ok {
		return &core.InputError{Field: "channel",
			Rule: fmt.Sprintf("no adapter serves %q here", msg.Channel)}
	}

	if tr, ok := a.(core.ThreadReplier); !ok || !tr.RepliesInThreads() {
		msg.ThreadID = ""
	}

	row, err := newInboundRow(p.agentID, p.replica.ID, msg, p.clock.Now())
	if err != nil {
		return err
	}

	res, err := p.db.NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("store inbound message: %w", err)
	}

	ch := string(msg.Channel)

	if n, _ := res.RowsAffected(); n == 0 {
		p.metrics.Deduplicated.WithLabelValues(ch).Inc()
		p.log.Debug("duplicate message dropped", "channel", ch, "chat_id", msg.ChatID,
			"message_id", msg.MessageID)

		return nil
	}

	p.metrics.Received.WithLabelValues(ch).Inc()
	p.log.Debug("message stored", "channel", ch, "chat_id", msg.ChatID,
		"message_id", msg.MessageID)
	p.sched.notify(msg.Conversation())

	return nil
}
