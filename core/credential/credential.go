// Package credential keeps the secrets a skill needs at call time, such as
// API keys, per agent and skill. Values are sealed with a secret.Box bound
// to their row, and a mask computed when a value is written is kept beside
// it, so listing credentials never needs the key. Values are never logged.
package credential

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/store"
)

// credential is one stored secret of a skill.
type credential struct {
	bun.BaseModel `bun:"table:skill_credentials"`

	AgentID   string    `bun:"agent_id,pk"`
	Skill     string    `bun:"skill,pk"`
	Name      string    `bun:"name,pk"`
	Sealed    []byte    `bun:"sealed"`
	Masked    string    `bun:"masked"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Store keeps skill credentials in the database. It is safe for concurrent
// use.
type Store struct {
	db  *store.DB
	box *secret.Box
}

// New returns a Store over db that seals values with box.
func New(db *store.DB, box *secret.Box) *Store {
	return &Store{db: db, box: box}
}

// Set stores values, credential names to values, for the agent's skill,
// replacing those already stored under the same names and keeping the
// others. A blank skill, name or value is an *core.InputError and stores
// nothing; all values are written in one transaction.
func (s *Store) Set(ctx context.Context, agentID, skill string, values map[string]string,
	now time.Time,
) error {
	if err := validate(skill, values); err != nil {
		return err
	}

	if len(values) == 0 {
		return nil
	}

	rows := make([]credential, 0, len(values))

	for _, name := range slices.Sorted(maps.Keys(values)) {
		sealed, err := s.box.Seal([]byte(values[name]), aad(agentID, skill, name))
		if err != nil {
			return fmt.Errorf("seal credential %s of skill %s: %w", name, skill, err)
		}

		rows = append(rows, credential{
			AgentID:   agentID,
			Skill:     skill,
			Name:      name,
			Sealed:    sealed,
			Masked:    secret.Mask(values[name]),
			UpdatedAt: now,
		})
	}

	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&rows).
			On("CONFLICT (agent_id, skill, name) DO UPDATE").
			Set("sealed = EXCLUDED.sealed").
			Set("masked = EXCLUDED.masked").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)

		return err
	})
	if err != nil {
		return fmt.Errorf("store %d credentials of skill %s: %w", len(rows), skill, err)
	}

	return nil
}

// validate checks a skill name and the credentials to set for it.
func validate(skill string, values map[string]string) error {
	if strings.TrimSpace(skill) == "" {
		return &core.InputError{Field: "skill", Rule: "is required"}
	}

	for _, name := range slices.Sorted(maps.Keys(values)) {
		if strings.TrimSpace(name) == "" {
			return &core.InputError{Field: "credentials",
				Rule: "a credential name must not be empty"}
		}

		if strings.TrimSpace(values[name]) == "" {
			return &core.InputError{Field: "credentials." + name, Rule: "must not be empty"}
		}
	}

	return nil
}

// Get returns the value of the agent's skill credential name, and false
// when none is stored. An error wrapping secret.ErrDecrypt means the value
// does not open with this Store's key.
func (s *Store) Get(ctx context.Context, agentID, skill, name string) (string, bool, error) {
	c := new(credential)

	err := s.db.NewSelect().Model(c).
		Column("sealed").
		Where("agent_id = ?", agentID).
		Where("skill = ?", skill).
		Where("name = ?", name).
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read credential %s of skill %s: %w", name, skill, err)
	}

	plain, err := s.box.Open(c.Sealed, aad(agentID, skill, name))
	if err != nil {
		return "", false, fmt.Errorf("open credential %s of skill %s: %w", name, skill, err)
	}

	return string(plain), true, nil
}

// Masked returns the names of the agent's skill credentials with their
// masks, safe to show; it decrypts nothing. A skill without credentials
// gives an empty map.
func (s *Store) Masked(ctx context.Context, agentID, skill string) (map[string]string, error) {
	var rows []credential

	err := s.db.NewSelect().Model(&rows).
		Column("name", "masked").
		Where("agent_id = ?", agentID).
		Where("skill = ?", skill).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list credentials of skill %s: %w", skill, err)
	}

	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Name] = r.Masked
	}

	return out, nil
}

// Clear removes every credential of the agent's skill, and no others.
func (s *Store) Clear(ctx context.Context, agentID, skill string) error {
	_, err := s.db.NewDelete().Model((*credential)(nil)).
		Where("agent_id = ?", agentID).
		Where("skill = ?", skill).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("clear credentials of skill %s: %w", skill, err)
	}

	return nil
}

// aad binds a sealed value to its row. Each part is quoted, so no choice
// of names makes two rows share it.
func aad(agentID, skill, name string) []byte {
	b := []byte("skill_credentials/")
	b = strconv.AppendQuote(b, agentID)
	b = append(b, '/')
	b = strconv.AppendQuote(b, skill)
	b = append(b, '/')

	return strconv.AppendQuote(b, name)
}
