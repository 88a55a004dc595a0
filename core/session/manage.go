package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// ErrNotFound is a session that does not exist, or not for the caller.
var ErrNotFound = errors.New("session not found")

// Categories lists the categories a session may have.
var Categories = []string{"general", "task", "research", "support", "automation",
	"creative", "debug"}

// Statuses lists the states a session may be in.
var Statuses = []string{StatusActive, StatusCompleted, StatusPaused, StatusArchived}

// MaxTitleChars and MaxIconChars bound a session's title and icon.
const (
	MaxTitleChars = 100
	MaxIconChars  = 32
)

// Fields are the settable parts of a session; nil leaves a field as it is.
type Fields struct {
	Title    *string
	Category *string
	Status   *string
	Icon     *string
	Pinned   *bool
}

// Empty reports whether no field is set.
func (f Fields) Empty() bool {
	return f.Title == nil && f.Category == nil && f.Status == nil && f.Icon == nil &&
		f.Pinned == nil
}

// Validate checks the set fields and returns a *core.InputError naming the
// first one at fault.
func (f Fields) Validate() error {
	if f.Title != nil {
		t := *f.Title
		switch n := utf8.RuneCountInString(t); {
		case !utf8.ValidString(t):
			return &core.InputError{Field: "title", Rule: "must be valid UTF-8"}
		case n > MaxTitleChars:
			return &core.InputError{Field: "title", Rule: fmt.Sprintf(
				"must be at most %d characters (got %d)", MaxTitleChars, n)}
		}
	}

	if f.Category != nil && !slices.Contains(Categories, *f.Category) {
		return &core.InputError{Field: "category", Rule: fmt.Sprintf("must be one of %s (got %q)",
			strings.Join(Categories, ", "), *f.Category)}
	}

	if f.Status != nil && !slices.Contains(Statuses, *f.Status) {
		return &core.InputError{Field: "status", Rule: fmt.Sprintf("must be one of %s (got %q)",
			strings.Join(Statuses, ", "), *f.Status)}
	}

	if f.Icon != nil {
		if n := utf8.RuneCountInString(*f.Icon); n > MaxIconChars || !utf8.ValidString(*f.Icon) {
			return &core.InputError{Field: "icon", Rule: fmt.Sprintf(
				"must be at most %d characters of UTF-8 (got %d)", MaxIconChars, n)}
		}
	}

	return nil
}

// apply copies the set fields onto s.
func (f Fields) apply(s *Session) {
	if f.Title != nil {
		s.Title = strings.TrimSpace(*f.Title)
	}

	if f.Category != nil {
		s.Category = *f.Category
	}

	if f.Status != nil {
		s.Status = *f.Status
	}

	if f.Icon != nil {
		s.Icon = *f.Icon
	}

	if f.Pinned != nil {
		s.Pinned = *f.Pinned
	}
}

// Create starts a session in its own conversation c with the given fields;
// unlike Start it completes no other session.
func Create(ctx context.Context, db bun.IDB, agentID string, c core.Conversation, f Fields,
	now time.Time,
) (*Session, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}

	s := &Session{AgentID: agentID, Channel: c.Channel, ChatID: c.ChatID, ThreadID: c.ThreadID,
		Category: "general", Status: StatusActive, CreatedAt: now, UpdatedAt: now}
	f.apply(s)

	if _, err := db.NewInsert().Model(s).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("create session in %s: %w", c, err)
	}

	return s, nil
}

// Filter selects sessions for List. Channel and ChatID are required: they
// say whose sessions these are.
type Filter struct {
	Channel  core.Channel
	ChatID   core.ChatID
	Status   string
	Category string
	Pinned   *bool
	// Limit (default 50, at most 200) and Offset page through the list.
	Limit, Offset int
}

// List returns the sessions that match f, pinned first, then the most
// recently active, and how many match in all.
func List(ctx context.Context, db bun.IDB, agentID string, f Filter) ([]Session, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}

	f.Limit = min(f.Limit, 200)

	var out []Session

	q := db.NewSelect().Model(&out).
		Where("agent_id = ?", agentID).
		Where("channel = ?", f.Channel).
		Where("chat_id = ?", f.ChatID)

	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}

	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}

	if f.Pinned != nil {
		q = q.Where("pinned = ?", *f.Pinned)
	}

	total, err := q.OrderExpr("pinned DESC").
		OrderExpr("coalesce(last_message_at, created_at) DESC").
		OrderExpr("id DESC").
		Limit(int64(f.Limit)).Offset(int64(f.Offset)).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions of %s:%s: %w", f.Channel, f.ChatID, err)
	}

	return out, total, nil
}

// Get returns the agent's session id if it belongs to the chat, or
// ErrNotFound, wrapped.
func Get(ctx context.Context, db bun.IDB, agentID string, ch core.Channel, chat core.ChatID,
	id int64,
) (*Session, error) {
	s := new(Session)

	err := db.NewSelect().Model(s).
		Where("id = ?", id).
		Where("agent_id = ?", agentID).
		Where("channel = ?", ch).
		Where("chat_id = ?", chat).
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("session %d: %w", id, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("read session %d: %w", id, err)
	}

	return s, nil
}

// Update sets the given fields of s and stores them.
func Update(ctx context.Context, db bun.IDB, s *Session, f Fields, now time.Time) error {
	if err := f.Validate(); err != nil {
		return err
	}

	f.apply(s)
	s.UpdatedAt = now

	_, err := db.NewUpdate().Model(s).
		Column("title", "category", "status", "icon", "pinned", "updated_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("update session %d: %w", s.ID, err)
	}

	return nil
}

// Delete removes session s and its transcript.
func Delete(ctx context.Context, db bun.IDB, s *Session) error {
	if _, err := db.NewDelete().Model((*Turn)(nil)).Where("session_id = ?", s.ID).
		Exec(ctx); err != nil {
		return fmt.Errorf("delete transcript of session %d: %w", s.ID, err)
	}

	if _, err := db.NewDelete().Model(s).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("delete session %d: %w", s.ID, err)
	}

	return nil
}
