// Package memory keeps the facts an agent remembers. Each memory belongs to
// the person who gave it, its owner, and is either private (only the owner
// sees it) or shared (everyone who talks to the agent sees it). Memories are
// found by full-text search: FTS5 on SQLite, a tsvector on PostgreSQL.
//
// Functions that only read or delete rows take a bun.IDB, so they can run
// inside a caller's transaction; those whose SQL differs by dialect, or
// that need their own transaction, take a *store.DB.
package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/store"
)

// MaxContentChars is the longest memory Save accepts, in characters.
const MaxContentChars = 2000

// DefaultLimit is how many memories Search returns when asked for none or
// fewer.
const DefaultLimit = 20

// maxQueryWords bounds the words of a search, so that a pasted paragraph
// does not become a query with hundreds of terms.
const maxQueryWords = 16

// MaxPerAgent is how many memories one agent may hold, over all its people;
// Save refuses more with ErrFull. Set it before the gateway starts: it is
// read without synchronisation.
var MaxPerAgent = 1000

// ErrFull is returned, wrapped, by Save when the agent holds MaxPerAgent
// memories. The caller should forget some before saving more.
var ErrFull = errors.New("memory full: forget some memories before saving more")

// ErrNotFound is returned, wrapped, by Forget for a memory that does not
// exist or that the viewer may not delete. It also matches
// store.ErrNotFound.
var ErrNotFound = fmt.Errorf("memory %w", store.ErrNotFound)

// Scope says who may see a memory.
type Scope string

// The scopes of a memory.
const (
	// ScopePrivate memories are seen only by their owner.
	ScopePrivate Scope = "private"
	// ScopeShared memories are seen by everyone who talks to the agent.
	ScopeShared Scope = "shared"
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool {
	return s == ScopePrivate || s == ScopeShared
}

// Owner is the person a memory belongs to, or the person asking.
type Owner struct {
	Channel core.Channel
	UserID  core.UserID
}

// Memory is one fact the agent remembers.
type Memory struct {
	bun.BaseModel `bun:"table:memories,alias:memory"`

	ID        int64        `bun:"id,pk,autoincrement"`
	AgentID   string       `bun:"agent_id"`
	Channel   core.Channel `bun:"channel"`
	UserID    core.UserID  `bun:"user_id"`
	Scope     Scope        `bun:"scope"`
	Content   string       `bun:"content"`
	CreatedAt time.Time    `bun:"created_at"`
}

// Owner returns the person the memory belongs to.
func (m *Memory) Owner() Owner {
	return Owner{Channel: m.Channel, UserID: m.UserID}
}

// Save stores content as a memory of owner with the given scope. It trims
// content and returns a *core.InputError naming the field when content is
// empty, longer than MaxContentChars or not UTF-8, when scope is unknown
// or when owner lacks a channel or user id. When the agent already holds
// MaxPerAgent memories it stores nothing and returns ErrFull, wrapped.
// It runs in its own transaction, which on PostgreSQL holds a lock per
// agent so that concurrent saves cannot pass the cap together.
func Save(ctx context.Context, db *store.DB, agentID string, owner Owner, scope Scope,
	content string, now time.Time,
) (*Memory, error) {
	m := &Memory{
		AgentID:   agentID,
		Channel:   owner.Channel,
		UserID:    owner.UserID,
		Scope:     scope,
		Content:   strings.TrimSpace(content),
		CreatedAt: now,
	}

	if err := m.validate(); err != nil {
		return nil, err
	}

	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.XactLock(ctx, tx, "memory:"+agentID); err != nil {
			return err
		}

		n, err := tx.NewSelect().Model((*Memory)(nil)).Where("agent_id = ?", agentID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count memories of agent %s: %w", agentID, err)
		}

		if n >= int64(MaxPerAgent) {
			return fmt.Errorf("save memory of agent %s, which holds %d: %w", agentID, n, ErrFull)
		}

		if _, err := tx.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("save memory of agent %s: %w", agentID, err)
		}

		return nil
	})
	if err != nil {
		return nil, err
	}

	return m, nil
}

// validate checks a memory before it is saved.
func (m *Memory) validate() error {
	n := utf8.RuneCountInString(m.Content)

	switch {
	case m.Content == "":
		return &core.InputError{Field: "content", Rule: "must not be empty"}
	case !utf8.ValidString(m.Content):
		return &core.InputError{Field: "content", Rule: "must be valid UTF-8"}
	case n > MaxContentChars:
		return &core.InputError{Field: "content", Rule: fmt.Sprintf(
			"must be at most %d characters (got %d)", MaxContentChars, n)}
	case !m.Scope.Valid():
		return &core.InputError{Field: "scope", Rule: fmt.Sprintf(
			"must be %q or %q (got %q)", ScopePrivate, ScopeShared, m.Scope)}
	case m.Channel == "":
		return &core.InputError{Field: "channel", Rule: "is required"}
	case m.UserID == "":
		return &core.InputError{Field: "user_id", Rule: "is required"}
	}

	return nil
}

// Search returns the agent's memories that viewer may see and that match
// query, best match first, at most limit (DefaultLimit when limit <= 0).
// Viewer sees the shared memories and their own private ones, never
// another person's private ones. Every word of the query must match, the
// last letters of each may be missing ("coff" finds "coffee"), and case
// does not matter. The query is plain text: quotes, operators and other
// punctuation only separate words. A query without words lists the newest
// memories.
func Search(ctx context.Context, db *store.DB, agentID string, viewer Owner, query string,
	limit int,
) ([]Memory, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}

	var out []Memory

	q := db.NewSelect().Model(&out).
		Where("memory.agent_id = ?", agentID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("memory.scope = ?", ScopeShared).
				WhereOr("(memory.channel = ? AND memory.user_id = ?)",
					viewer.Channel, viewer.UserID)
		}).
		Limit(int64(limit))

	if words := queryWords(query); len(words) > 0 {
		q = textSearch(q, db.Kind, words)
	}

	q = q.OrderExpr("memory.created_at DESC").OrderExpr("memory.id DESC")

	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("search memories of agent %s: %w", agentID, err)
	}

	return out, nil
}

// List returns the newest memories of the agent that viewer may see, at
// most limit (DefaultLimit when limit <= 0).
func List(ctx context.Context, db *store.DB, agentID string, viewer Owner, limit int,
) ([]Memory, error) {
	return Search(ctx, db, agentID, viewer, "", limit)
}

// textSearch restricts q to the memories that hold every word and orders
// the best match first. It is the only place where the dialects differ:
// SQLite joins the FTS5 table memories_fts and ranks by bm25; PostgreSQL
// matches the generated tsvector column search and ranks by ts_rank. Each
// word is quoted and searched as a prefix; queryWords leaves only letters
// and digits in it, so it cannot carry query syntax.
func textSearch(q *bun.SelectQuery, kind store.Dialect, words []string) *bun.SelectQuery {
	terms := make([]string, len(words))

	if kind == store.Postgres {
		for i, w := range words {
			terms[i] = "'" + w + "':*"
		}

		tsq := strings.Join(terms, " & ")

		return q.Where("memory.search @@ to_tsquery('simple', ?)", tsq).
			OrderExpr("ts_rank(memory.search, to_tsquery('simple', ?), 1) DESC", tsq)
	}

	for i, w := range words {
		terms[i] = `"` + w + `"*`
	}

	return q.Join("JOIN memories_fts ON memories_fts.rowid = memory.id").
		Where("memories_fts MATCH ?", strings.Join(terms, " ")).
		OrderExpr("bm25(memories_fts)")
}

// queryWords splits a search query into the words Search looks for: runs of
// letters and digits, lower-cased, at most the first 16. Everything else,
// quotes, operators and punctuation alike, only separates words.
func queryWords(query string) []string {
	fields := strings.FieldsFunc(query, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})

	if len(fields) > maxQueryWords {
		fields = fields[:maxQueryWords]
	}

	for i, f := range fields {
		fields[i] = strings.ToLower(f)
	}

	return fields
}

// Forget deletes the memory id of the agent if viewer owns it, private or
// shared. A memory that does not exist, or that belongs to another person,
// is ErrNotFound, wrapped, so that nobody learns of memories they may not
// see.
func Forget(ctx context.Context, db bun.IDB, agentID string, viewer Owner, id int64) error {
	res, err := db.NewDelete().Model((*Memory)(nil)).
		Where("id = ?", id).
		Where("agent_id = ?", agentID).
		Where("channel = ?", viewer.Channel).
		Where("user_id = ?", viewer.UserID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("forget memory %d: %w", id, err)
	}

	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("forget memory %d: %w", id, err)
	}

	if n == 0 {
		return fmt.Errorf("forget memory %d: %w", id, ErrNotFound)
	}

	return nil
}
