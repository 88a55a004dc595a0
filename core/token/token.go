// Package token issues and checks API tokens. Only a token's SHA-256 hash
// is stored; the token itself is shown once, when it is created. Tokens
// carry 256 random bits, so a plain hash is enough to make a stolen table
// useless, and looking a token up by its hash compares nothing secret in
// Go code.
package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// Prefix starts every token, so that one is recognisable in a leak scan.
const Prefix = "sbt_"

// DefaultUser is the user a token belongs to when none is named.
const DefaultUser = "owner"

// ErrNotFound means that no token of the agent has the given secret.
var ErrNotFound = errors.New("no such API token")

// userPattern is what a token's user id must match.
var userPattern = regexp.MustCompile(`^[A-Za-z0-9_.@:-]{1,64}$`)

// touchEvery is how often Lookup records a token's use at most, so that a
// busy script does not turn every request into a write.
const touchEvery = time.Minute

// Token is a stored API token, without the secret.
type Token struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64        `bun:"id,pk,autoincrement"`
	AgentID    string       `bun:"agent_id"`
	UserID     string       `bun:"user_id"`
	Name       string       `bun:"name"`
	Hash       string       `bun:"token_hash"`
	CreatedAt  time.Time    `bun:"created_at"`
	LastUsedAt bun.NullTime `bun:"last_used_at"`
}

// Create stores a new token named name for the user userID and returns the
// secret, which is not kept anywhere. userID must be 1 to 64 characters of
// a-z, A-Z, 0-9 and _ - . @ :.
func Create(ctx context.Context, db bun.IDB, agentID, userID, name string, now time.Time,
) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return "", &core.InputError{Field: "name", Rule: "must be 1 to 64 characters"}
	}

	if !userPattern.MatchString(userID) {
		return "", &core.InputError{Field: "user",
			Rule: "must be 1 to 64 characters of a-z, A-Z, 0-9 and _ - . @ :"}
	}

	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}

	secret := Prefix + base64.RawURLEncoding.EncodeToString(b)
	t := &Token{AgentID: agentID, UserID: userID, Name: name, Hash: Hash(secret),
		CreatedAt: now}

	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return "", fmt.Errorf("store token %q: %w", name, err)
	}

	return secret, nil
}

// Lookup returns the agent's token whose secret is secret, or an error
// wrapping ErrNotFound. It finds the token by hash, so no secret is ever
// compared, and records the use in last_used_at at most once a minute.
func Lookup(ctx context.Context, db bun.IDB, agentID, secret string) (*Token, error) {
	if !strings.HasPrefix(secret, Prefix) {
		return nil, fmt.Errorf("look up token: %w", ErrNotFound)
	}

	t := new(Token)
	err := db.NewSelect().Model(t).
		Where("agent_id = ?", agentID).
		Where("token_hash = ?", Hash(secret)).
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("look up token: %w", ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("look up token: %w", err)
	}

	// PostgreSQL keeps microseconds; the token returned says what is stored.
	now := time.Now().UTC().Truncate(time.Microsecond)
	if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt.Time) >= touchEvery {
		if err := touch(ctx, db, t.ID, now); err != nil {
			return nil, err
		}

		t.LastUsedAt = bun.NullTime{Time: now}
	}

	return t, nil
}

// touch sets a token's last_used_at to now unless another request did so
// within the last minute.
func touch(ctx context.Context, db bun.IDB, id int64, now time.Time) error {
	_, err := db.NewUpdate().Model((*Token)(nil)).
		Set("last_used_at = ?", now).
		Where("id = ?", id).
		Where("last_used_at IS NULL OR last_used_at <= ?", now.Add(-touchEvery)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("record use of token %d: %w", id, err)
	}

	return nil
}

// Hash returns the stored form of a token.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))

	return hex.EncodeToString(sum[:])
}

// List returns the agent's tokens, oldest first, without their secrets.
func List(ctx context.Context, db bun.IDB, agentID string) ([]Token, error) {
	var out []Token

	err := db.NewSelect().Model(&out).Where("agent_id = ?", agentID).OrderExpr("id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}

	return out, nil
}

// Revoke deletes the agent's token id and returns it, or an error
// wrapping ErrNotFound. A request with its secret is refused from then on.
func Revoke(ctx context.Context, db bun.IDB, agentID string, id int64) (*Token, error) {
	t := new(Token)

	err := db.NewDelete().Model(t).
		Where("agent_id = ?", agentID).
		Where("id = ?", id).
		Returning("*").
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("revoke token %d: %w", id, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("revoke token %d: %w", id, err)
	}

	return t, nil
}
