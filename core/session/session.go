// Package session keeps conversations with the agent: each chat (or thread)
// has a current session, and every turn of it is recorded in the
// transcript. Functions take a bun.IDB so the pipeline can call them inside
// the transaction that records a message.
package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// Status of a session.
const (
	StatusActive    = "active"
	StatusCompleted = "completed"
	StatusPaused    = "paused"
	StatusArchived  = "archived"
)

// Session is one conversation with the agent.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID            int64         `bun:"id,pk,autoincrement"`
	AgentID       string        `bun:"agent_id"`
	Channel       core.Channel  `bun:"channel"`
	ChatID        core.ChatID   `bun:"chat_id"`
	ThreadID      core.ThreadID `bun:"thread_id"`
	Title         string        `bun:"title"`
	Category      string        `bun:"category"`
	Status        string        `bun:"status"`
	Icon          string        `bun:"icon"`
	Pinned        bool          `bun:"pinned"`
	CreatedAt     time.Time     `bun:"created_at"`
	UpdatedAt     time.Time     `bun:"updated_at"`
	LastMessageAt bun.NullTime  `bun:"last_message_at"`
}

// Conversation returns where the session's messages go.
func (s *Session) Conversation() core.Conversation {
	return core.Conversation{Channel: s.Channel, ChatID: s.ChatID, ThreadID: s.ThreadID}
}

// Role says who wrote a turn.
type Role string

// The roles of a turn.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Turn is one message in a session's transcript.
type Turn struct {
	bun.BaseModel `bun:"table:turns"`

	ID        int64     `bun:"id,pk,autoincrement"`
	AgentID   string    `bun:"agent_id"`
	SessionID int64     `bun:"session_id"`
	InboundID int64     `bun:"inbound_id,nullzero"`
	Role      Role      `bun:"role"`
	Text      string    `bun:"text"`
	CreatedAt time.Time `bun:"created_at"`
}

// Current returns the conversation's newest session, creating one when it
// has none. now stamps a new session.
func Current(ctx context.Context, db bun.IDB, agentID string, c core.Conversation,
	now time.Time,
) (*Session, error) {
	s := new(Session)

	err := db.NewSelect().Model(s).
		Where("agent_id = ?", agentID).
		Where("channel = ?", c.Channel).
		Where("chat_id = ?", c.ChatID).
		Where("thread_id = ?", c.ThreadID).
		OrderExpr("id DESC").Limit(1).
		Scan(ctx)

	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, sql.ErrNoRows):
		return Start(ctx, db, agentID, c, now)
	default:
		return nil, fmt.Errorf("find session of %s: %w", c, err)
	}
}

// Start begins a new session in the conversation; the previous active one,
// if any, is marked completed.
func Start(ctx context.Context, db bun.IDB, agentID string, c core.Conversation,
	now time.Time,
) (*Session, error) {
	_, err := db.NewUpdate().Model((*Session)(nil)).
		Set("status = ?", StatusCompleted).
		Set("updated_at = ?", now).
		Where("agent_id = ?", agentID).
		Where("channel = ?", c.Channel).
		Where("chat_id = ?", c.ChatID).
		Where("thread_id = ?", c.ThreadID).
		Where("status = ?", StatusActive).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("complete sessions of %s: %w", c, err)
	}

	s := &Session{
		AgentID:   agentID,
		Channel:   c.Channel,
		ChatID:    c.ChatID,
		ThreadID:  c.ThreadID,
		Category:  "general",
		Status:    StatusActive,
		CreatedAt: now,
		UpdatedAt: now,
	}

	if _, err := db.NewInsert().Model(s).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("start session in %s: %w", c, err)
	}

	return s, nil
}

// Record appends turns to the session's transcript and moves its
// last-message time. A session without a title takes the start of the first
// user turn as its title.
func Record(ctx context.Context, db bun.IDB, s *Session, turns ...*Turn) error {
	if len(turns) == 0 {
		return nil
	}

	last := turns[len(turns)-1].CreatedAt
	for _, t := range turns {
		t.AgentID = s.AgentID
		t.SessionID = s.ID
	}

	if _, err := db.NewInsert().Model(&turns).Exec(ctx); err != nil {
		return fmt.Errorf("record turns of session %d: %w", s.ID, err)
	}

	q := db.NewUpdate().Model(s).
		Set("last_message_at = ?", last).
		Set("updated_at = ?", last).
		WherePK()

	if s.Title == "" && turns[0].Role == RoleUser {
		s.Title = TitleFrom(turns[0].Text)
		q = q.Set("title = ?", s.Title)
	}

	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("touch session %d: %w", s.ID, err)
	}

	s.LastMessageAt = bun.NullTime{Time: last}

	return nil
}

// TitleFrom makes a session title of at most 100 characters from text.
func TitleFrom(text string) string {
	const max = 100

	r := []rune(text)
	for i, c := range r {
		if c == '\n' {
			r = r[:i]
			break
		}
	}

	if len(r) > max {
		r = append(r[:max-1], '…')
	}

	return string(r)
}

// Transcript returns the session's turns, oldest first, at most limit
// (all when limit <= 0) of the most recent.
func Transcript(ctx context.Context, db bun.IDB, sessionID int64, limit int) ([]Turn, error) {
	var turns []Turn

	q := db.NewSelect().Model(&turns).Where("session_id = ?", sessionID).OrderExpr("id DESC")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}

	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("read transcript of session %d: %w", sessionID, err)
	}

	for i, j := 0, len(turns)-1; i < j; i, j = i+1, j-1 {
		turns[i], turns[j] = turns[j], turns[i]
	}

	return turns, nil
}

// CountTurns returns how many turns the session has.
func CountTurns(ctx context.Context, db bun.IDB, sessionID int64) (int, error) {
	n, err := db.NewSelect().Model((*Turn)(nil)).Where("session_id = ?", sessionID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count turns of session %d: %w", sessionID, err)
	}

	return int(n), nil
}
