// Package token issues and checks API tokens. Only a token's SHA-256 hash
// is stored; the token itself is shown once, when it is created. Tokens
// carry 256 random bits, so a plain hash is enough to make a stolen table
// useless.
package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// Prefix starts every token, so that one is recognisable in a leak scan.
const Prefix = "sbt_"

// Token is a stored API token, without the secret.
type Token struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64        `bun:"id,pk,autoincrement"`
	AgentID    string       `bun:"agent_id"`
	Name       string       `bun:"name"`
	Hash       string       `bun:"token_hash"`
	CreatedAt  time.Time    `bun:"created_at"`
	LastUsedAt bun.NullTime `bun:"last_used_at"`
}

// Create stores a new token named name and returns the secret, which is
// not kept anywhere.
func Create(ctx context.Context, db bun.IDB, agentID, name string, now time.Time,
) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return "", &core.InputError{Field: "name", Rule: "must be 1 to 64 characters"}
	}

	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}

	secret := Prefix + base64.RawURLEncoding.EncodeToString(b)
	t := &Token{AgentID: agentID, Name: name, Hash: Hash(secret), CreatedAt: now}

	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return "", fmt.Errorf("store token %q: %w", name, err)
	}

	return secret, nil
}

// Hash returns the stored form of a token.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))

	return hex.EncodeToString(sum[:])
}
