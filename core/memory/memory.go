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

// DefaultRelevantLimit is how many memories Relevant returns when asked for
// none or fewer.
const DefaultRelevantLimit = 5

// minRelevantRunes is the shortest word Relevant looks for, in characters.
const minRelevantRunes = 3

// maxQueryWords bounds the words of a search, so that a pasted paragraph
// does not become a query with hundreds of terms.
const maxQueryWords = 16

// stopWords are common English words that Relevant ignores, because nearly
// every message holds them. Words shorter than minRelevantRunes are ignored
// anyway, so the list leaves them out.
var stopWords = map[string]bool{
	"the": true, "and": true, "you": true, "for": true, "what": true, "with": true,
	"that": true, "this": true, "are": true, "was": true, "have": true, "from": true,
	"about": true, "can": true, "how": true, "when": true, "where": true, "who": true,
	"why": true, "your": true, "please": true,
}

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

	q := visibleTo(db.NewSelect().Model(&out), agentID, viewer).Limit(int64(limit))

	if words := queryWords(query, nil); len(words) > 0 {
		q = textSearch(q, db.Kind, words, allWords)
	}

	q = q.OrderExpr("memory.created_at DESC").OrderExpr("memory.id DESC")

	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("search memories of agent %s: %w", agentID, err)
	}

	return out, nil
}

// Relevant returns the memories viewer may see that share at least one word
// with text, best match first and, among equal matches, newest first; at
// most limit (DefaultRelevantLimit when limit <= 0). It picks the memories
// to put in the agent's prompt for an incoming message. Visibility is as
// in Search. Unlike Search, any word suffices, and words shorter than
// three characters and very common English words are ignored, so "what is
// my dog called?" looks for "dog" and "called". A text without other words
// returns nil: it runs no query at all.
func Relevant(ctx context.Context, db *store.DB, agentID string, viewer Owner, text string,
	limit int,
) ([]Memory, error) {
	words := relevantWords(text)
	if len(words) == 0 {
		return nil, nil
	}

	if limit <= 0 {
		limit = DefaultRelevantLimit
	}

	var out []Memory

	q := visibleTo(db.NewSelect().Model(&out), agentID, viewer).Limit(int64(limit))
	q = textSearch(q, db.Kind, words, anyWord).
		OrderExpr("memory.created_at DESC").OrderExpr("memory.id DESC")

	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("find memories of agent %s relevant to a message: %w",
			agentID, err)
	}

	return out, nil
}

// visibleTo restricts q to the memories of the agent that viewer may see:
// the shared ones and viewer's own private ones.
func visibleTo(q *bun.SelectQuery, agentID string, viewer Owner) *bun.SelectQuery {
	return q.Where("memory.agent_id = ?", agentID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("memory.scope = ?", ScopeShared).
				WhereOr("(memory.channel = ? AND memory.user_id = ?)",
					viewer.Channel, viewer.UserID)
		})
}

// List returns the newest memories of the agent that viewer may see, at
// most limit (DefaultLimit when limit <= 0).
func List(ctx context.Context, db *store.DB, agentID string, viewer Owner, limit int,
) ([]Memory, error) {
	return Search(ctx, db, agentID, viewer, "", limit)
}

// match says whether textSearch wants every word of a query or any one.
type match int

const (
	// allWords matches the memories that hold every word.
	allWords match = iota
	// anyWord matches the memories that hold at least one word.
	anyWord
)

// textSearch restricts q to the memories that hold every word, or any
// word, as m says, and orders the best match first. It is the only place
// where the dialects differ: SQLite joins the FTS5 table memories_fts and
// ranks by bm25; PostgreSQL matches the generated tsvector column search
// and ranks by ts_rank. Each word is quoted and searched as a prefix;
// queryWords leaves only letters and digits in it, so it cannot carry query
// syntax.
func textSearch(q *bun.SelectQuery, kind store.Dialect, words []string, m match,
) *bun.SelectQuery {
	terms := make([]string, len(words))

	if kind == store.Postgres {
		for i, w := range words {
			terms[i] = "'" + w + "':*"
		}

		op := " & "
		if m == anyWord {
			op = " | "
		}

		tsq := strings.Join(terms, op)

		return q.Where("memory.search @@ to_tsquery('simple', ?)", tsq).
			OrderExpr("ts_rank(memory.search, to_tsquery('simple', ?), 1) DESC", tsq)
	}

	for i, w := range words {
		terms[i] = `"` + w + `"*`
	}

	op := " "
	if m == anyWord {
		op = " OR "
	}

	return q.Join("JOIN memories_fts ON memories_fts.rowid = memory.id").
		Where("memories_fts MATCH ?", strings.Join(terms, op)).
		OrderExpr("bm25(memories_fts)")
}

// queryWords splits a search query into the words Search looks for: runs of
// letters and digits, lower-cased, at most the first 16 that keep accepts
// (all of them when keep is nil). Everything else, quotes, operators and
// punctuation alike, only separates words.
func queryWords(query string, keep func(word string) bool) []string {
	fields := strings.FieldsFunc(query, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})

	words := fields[:0]

	for _, f := range fields {
		w := strings.ToLower(f)
		if keep != nil && !keep(w) {
			continue
		}

		words = append(words, w)
		if len(words) == maxQueryWords {
			break
		}
	}

	return words
}

// relevantWords splits a message into the words Relevant looks for: those
// of queryWords, without duplicates, words shorter than minRelevantRunes
// and stopWords.
func relevantWords(text string) []string {
	seen := make(map[string]bool)

	return queryWords(text, func(w string) bool {
		if seen[w] || stopWords[w] || utf8.RuneCountInString(w) < minRelevantRunes {
			return false
		}

		seen[w] = true

		return true
	})
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
