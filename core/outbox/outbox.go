// Package outbox keeps answers until the messenger has taken them. An answer
// is written here in the same transaction that records the turn; the
// Deliverer then sends each row through its adapter, in order per
// conversation, honouring the platform's retry-after, retrying with backoff,
// and marking each row sent with the platform's message id or failed after
// a bound.
package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// Status of an outbox row.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Message is one row of the outbox: one part of an answer, already cut to
// the adapter's text limit.
type Message struct {
	bun.BaseModel `bun:"table:outbox"`

	ID                int64          `bun:"id,pk,autoincrement"`
	AgentID           string         `bun:"agent_id"`
	Channel           core.Channel   `bun:"channel"`
	ChatID            core.ChatID    `bun:"chat_id"`
	ThreadID          core.ThreadID  `bun:"thread_id"`
	ReplyTo           core.MessageID `bun:"reply_to"`
	Text              string         `bun:"text"`
	Part              int            `bun:"part"`
	Parts             int            `bun:"parts"`
	InboundID         int64          `bun:"inbound_id,nullzero"`
	OriginAt          bun.NullTime   `bun:"origin_at"`
	Status            string         `bun:"status"`
	Attempts          int            `bun:"attempts"`
	NextAttemptAt     time.Time      `bun:"next_attempt_at"`
	ClaimedBy         string         `bun:"claimed_by"`
	ClaimedUntil      bun.NullTime   `bun:"claimed_until"`
	PlatformMessageID core.MessageID `bun:"platform_message_id"`
	LastError         string         `bun:"last_error"`
	CreatedAt         time.Time      `bun:"created_at"`
	SentAt            bun.NullTime   `bun:"sent_at"`
}

// Conversation returns where the row goes.
func (m *Message) Conversation() core.Conversation {
	return core.Conversation{Channel: m.Channel, ChatID: m.ChatID, ThreadID: m.ThreadID}
}

// Answer is what a caller puts in the outbox.
type Answer struct {
	// To is where the answer goes.
	To core.Conversation
	// Text is the whole answer; Enqueue splits it.
	Text string
	// ReplyTo is the platform id of the message answered, if any.
	ReplyTo core.MessageID
	// InboundID is the stored inbound message answered, if any.
	InboundID int64
	// OriginAt is when the answered message was received; the latency
	// histogram measures from it.
	OriginAt time.Time
}

// Limit is how an adapter measures and bounds one message's text.
type Limit struct {
	Max   int
	Count func(string) int
}

// LimitOf returns the text limit of an adapter, or the default for adapters
// that do not declare one (and for a nil adapter).
func LimitOf(a core.Adapter) Limit {
	if tl, ok := a.(core.TextLimiter); ok {
		return Limit{Max: tl.TextLimit(), Count: tl.CountText}
	}

	return Limit{Max: core.DefaultTextLimit, Count: CountRunes}
}

// Enqueue writes the answer as one row per part inside tx and returns the
// rows.
func Enqueue(ctx context.Context, tx bun.IDB, agentID string, a Answer, lim Limit,
	now time.Time,
) ([]*Message, error) {
	return EnqueueAll(ctx, tx, agentID, []Answer{a}, []Limit{lim}, now)
}

// EnqueueAll writes several answers, each cut to its limit, in one
// statement inside tx and returns the rows in order.
func EnqueueAll(ctx context.Context, tx bun.IDB, agentID string, answers []Answer,
	limits []Limit, now time.Time,
) ([]*Message, error) {
	var rows []*Message

	for i, a := range answers {
		parts := Split(a.Text, limits[i].Max, limits[i].Count)

		for j, text := range parts {
			m := &Message{
				AgentID:       agentID,
				Channel:       a.To.Channel,
				ChatID:        a.To.ChatID,
				ThreadID:      a.To.ThreadID,
				ReplyTo:       a.ReplyTo,
				Text:          text,
				Part:          j + 1,
				Parts:         len(parts),
				InboundID:     a.InboundID,
				Status:        StatusPending,
				NextAttemptAt: now,
				CreatedAt:     now,
			}

			if !a.OriginAt.IsZero() {
				m.OriginAt = bun.NullTime{Time: a.OriginAt}
			}

			rows = append(rows, m)
		}
	}

	if len(rows) == 0 {
		return nil, nil
	}

	if _, err := tx.NewInsert().Model(&rows).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("enqueue %d answers: %w", len(answers), err)
	}

	return rows, nil
}
