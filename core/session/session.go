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
	"github.com/switchboardhq/switchboard/core/store"
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

	ID        int64  `bun:"id,pk,autoincrement"`
	AgentID   string `bun:"agent_id"`
	SessionID int64  `bun:"session_id"`
	InboundID int64  `bun:"inbound_id,nullzero"`
	Role      Role   `bun:"role"`
	Text      string `bun:"text"`
	// Model, Tools (comma-separated, in call order) and the token counts
	// describe how an assistant turn was written; empty for the others.
	Model        string    `bun:"model"`
	Tools        string    `bun:"tools"`
	InputTokens  int64     `bun:"input_tokens"`
	OutputTokens int64     `bun:"output_tokens"`
	CreatedAt    time.Time `bun:"created_at"`
}

// currentQuery finds a conversation's newest session; it runs for every
// message, so it is prepared once.
const currentQuery = `SELECT * FROM sessions
	WHERE agent_id = ? AND channel = ? AND chat_id = ? AND thread_id = ?
	ORDER BY id DESC LIMIT 1`

// Current returns the conversation's newest session, creating one when it
// has none. now stamps a new session.
func Current(ctx context.Context, db bun.IDB, agentID string, c core.Conversation,
	now time.Time,
) (*Session, error) {
	s := new(Session)

	err := store.ScanOne(ctx, db, s, currentQuery,
		agentID, string(c.Channel), string(c.ChatID), string(c.ThreadID))

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

// Entry is turns to add to one session.
type Entry struct {
	Session *Session
	Turns   []*Turn
}

// Append records the turns of several sessions in one statement and moves
// their last-message time to at; the pipeline uses it to record many
// answers in one transaction. A session without a title takes the start
// of its first user turn as its title.
func Append(ctx context.Context, db bun.IDB, at time.Time, entries ...Entry) error {
	var (
		turns []*Turn
		ids   []int64
	)

	for _, e := range entries {
		for _, t := range e.Turns {
			t.AgentID = e.Session.AgentID
			t.SessionID = e.Session.ID
			turns = append(turns, t)
		}

		ids = append(ids, e.Session.ID)
	}

	if len(turns) == 0 {
		return nil
	}

	if _, err := db.NewInsert().Model(&turns).Exec(ctx); err != nil {
		return fmt.Errorf("record %d turns: %w", len(turns), err)
	}

	_, err := db.NewUpdate().Model((*Session)(nil)).
		Set("last_message_at = ?", at).
		Set("updated_at = ?", at).
		Where("id IN (?)", bun.List(ids)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch %d sessions: %w", len(ids), err)
	}

	for _, e := range entries {
		e.Session.LastMessageAt = bun.NullTime{Time: at}

		if err := entitle(ctx, db, e); err != nil {
			return err
		}
	}

	return nil
}

// entitle gives an untitled session the start of its first user turn as
// its title.
func entitle(ctx context.Context, db bun.IDB, e Entry) error {
	s := e.Session
	if s.Title != "" || len(e.Turns) == 0 || e.Turns[0].Role != RoleUser {
		return nil
	}

	s.Title = TitleFrom(e.Turns[0].Text)

	_, err := db.NewUpdate().Model(s).Set("title = ?", s.Title).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("title session %d: %w", s.ID, err)
	}

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
