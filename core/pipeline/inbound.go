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

	arr := &arrival{row: row}
	if err := p.inbox.Do(arr); err != nil {
		return fmt.Errorf("store inbound message: %w", err)
	}

	ch := string(msg.Channel)

	if !arr.stored {
		p.metrics.Deduplicated.WithLabelValues(ch).Inc()
		p.log.Debug("duplicate message dropped", "channel", ch, "chat_id", msg.ChatID,
			"message_id", msg.MessageID)

		return nil
	}

	p.metrics.Received.WithLabelValues(ch).Inc()
	p.log.Debug("message stored", "channel", ch, "chat_id", msg.ChatID,
		"message_id", msg.MessageID, "inbound_id", row.ID)

	return nil
}

// handOver gives the scheduler the messages of a committed batch, in the
// order they were stored.
func (p *Pipeline) handOver(batch []*arrival) {
	for _, a := range batch {
		if a.stored {
			r := a.row
			p.sched.notify(core.Conversation{Channel: r.Channel, ChatID: r.ChatID,
				ThreadID: r.ThreadID}, r)
		}
	}
}

// arrival is an inbound message waiting to be stored; stored tells
// whether it was new.
type arrival struct {
	row    *inboundRow
	stored bool
}

// platformKey is the unique key of an inbound message within an agent.
type platformKey struct {
	Channel           core.Channel   `bun:"channel"`
	ChatID            core.ChatID    `bun:"chat_id"`
	PlatformMessageID core.MessageID `bun:"platform_message_id"`
}

// storeArrivals inserts a batch of messages in one statement. A message
// whose key is already stored (or appears earlier in the same batch) is
// skipped and left unstored.
func (p *Pipeline) storeArrivals(ctx context.Context, tx bun.Tx, batch []*arrival) error {
	rows := make([]*inboundRow, len(batch))
	for i, a := range batch {
		a.stored = false
		rows[i] = a.row
	}

	var got []struct {
		ID int64 `bun:"id"`
		platformKey
	}

	_, err := tx.NewInsert().Model(&rows).
		On("CONFLICT DO NOTHING").
		Returning("id, channel, chat_id, platform_message_id").
		Exec(ctx, &got)
	if err != nil {
		return fmt.Errorf("insert %d inbound messages: %w", len(rows), err)
	}

	ids := make(map[platformKey]int64, len(got))
	for _, g := range got {
		ids[g.platformKey] = g.ID
	}

	for _, a := range batch {
		key := platformKey{a.row.Channel, a.row.ChatID, a.row.PlatformMessageID}
		if id, ok := ids[key]; ok {
			a.row.ID, a.stored = id, true
			delete(ids, key) // a repeat later in the batch is a duplicate
		}
	}

	return nil
}
