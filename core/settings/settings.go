// Package settings keeps the agent settings that the REST API changes
// while the gateway runs: the model, the main messenger, the server tier
// and region, and the model provider's API key. Stored settings override
// the configuration file and survive restarts; the key is sealed.
package settings

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/secret"
)

// Tier is what a server tier sets.
type Tier struct {
	// MaxParallel is how many sessions are worked on at once.
	MaxParallel int
	// MessagesLimit bounds the messages per month; 0 is none.
	MessagesLimit int
}

// Tiers maps each server tier to what it sets.
var Tiers = map[string]Tier{
	"starter":     {MaxParallel: 4, MessagesLimit: 1_000},
	"standard":    {MaxParallel: 16},
	"performance": {MaxParallel: 64},
	"enterprise":  {MaxParallel: 256},
}

// TierNames, Regions and Messengers list the values each setting may take.
var (
	TierNames  = []string{"starter", "standard", "performance", "enterprise"}
	Regions    = []string{"us-east", "us-west", "eu-central", "eu-north", "ap-south"}
	Messengers = []string{"web", "telegram", "discord", "slack", "whatsapp"}
)

// Stored is the settings row of one agent. Empty fields are not set.
type Stored struct {
	bun.BaseModel `bun:"table:agent_settings"`

	AgentID       string `bun:"agent_id,pk"`
	AIModel       string `bun:"ai_model"`
	MessengerType string `bun:"messenger_type"`
	ServerTier    string `bun:"server_tier"`
	ServerRegion  string `bun:"server_region"`
	// SealedAPIKey is the provider's key sealed with the secrets key.
	SealedAPIKey []byte    `bun:"ai_api_key"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

// Patch is a change of settings; nil fields stay as they are.
type Patch struct {
	AIModel       *string
	MessengerType *string
	ServerTier    *string
	ServerRegion  *string
	AIAPIKey      *string
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.AIModel == nil && p.MessengerType == nil && p.ServerTier == nil &&
		p.ServerRegion == nil && p.AIAPIKey == nil
}

// Validate returns a *core.InputError naming the first field at fault,
// by the API's names (aiModel, ...).
func (p Patch) Validate() error {
	if p.AIModel != nil {
		if err := text("aiModel", *p.AIModel, 200); err != nil {
			return err
		}
	}

	for _, c := range []struct {
		field   string
		value   *string
		allowed []string
	}{
		{"messengerType", p.MessengerType, Messengers},
		{"serverTier", p.ServerTier, TierNames},
		{"serverRegion", p.ServerRegion, Regions},
	} {
		if c.value != nil && !slices.Contains(c.allowed, *c.value) {
			return &core.InputError{Field: c.field, Rule: fmt.Sprintf(
				"must be one of %s (got %q)", strings.Join(c.allowed, ", "), *c.value)}
		}
	}

	if p.AIAPIKey != nil {
		return text("aiApiKey", *p.AIAPIKey, 4096)
	}

	return nil
}

// text checks a required single-line value of at most limit bytes.
func text(field, v string, limit int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return &core.InputError{Field: field, Rule: "must not be empty"}
	case len(v) > limit:
		return &core.InputError{Field: field, Rule: fmt.Sprintf(
			"must be at most %d bytes", limit)}
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return &core.InputError{Field: field, Rule: "must be one line of UTF-8 text"}
	}

	return nil
}

// Load returns the agent's stored settings; all empty when none are.
func Load(ctx context.Context, db bun.IDB, agentID string) (Stored, error) {
	s := Stored{AgentID: agentID}

	err := db.NewSelect().Model(&s).WherePK().Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Stored{}, fmt.Errorf("read settings of agent %s: %w", agentID, err)
	}

	return s, nil
}

// Save applies the patch to the agent's stored settings, sealing the API
// key with box, and returns them.
func Save(ctx context.Context, db bun.IDB, agentID string, p Patch, box *secret.Box,
	now time.Time,
) (Stored, error) {
	if err := p.Validate(); err != nil {
		return Stored{}, err
	}

	s, err := Load(ctx, db, agentID)
	if err != nil {
		return Stored{}, err
	}

	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}

	set(&s.AIModel, p.AIModel)
	set(&s.MessengerType, p.MessengerType)
	set(&s.ServerTier, p.ServerTier)
	set(&s.ServerRegion, p.ServerRegion)
	s.UpdatedAt = now

	if p.AIAPIKey != nil {
		if s.SealedAPIKey, err = box.Seal([]byte(*p.AIAPIKey), keyAAD(agentID)); err != nil {
			return Stored{}, fmt.Errorf("seal the API key: %w", err)
		}
	}

	_, err = db.NewInsert().Model(&s).
		On("CONFLICT (agent_id) DO UPDATE").
		Set("ai_model = EXCLUDED.ai_model").
		Set("messenger_type = EXCLUDED.messenger_type").
		Set("server_tier = EXCLUDED.server_tier").
		Set("server_region = EXCLUDED.server_region").
		Set("ai_api_key = EXCLUDED.ai_api_key").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return Stored{}, fmt.Errorf("store settings of agent %s: %w", agentID, err)
	}

	return s, nil
}

// APIKey opens the stored API key; "" when none is stored.
func (s Stored) APIKey(box *secret.Box) (string, error) {
	if len(s.SealedAPIKey) == 0 {
		return "", nil
	}

	plain, err := box.Open(s.SealedAPIKey, keyAAD(s.AgentID))
	if err != nil {
		return "", fmt.Errorf("open the stored API key of agent %s: %w", s.AgentID, err)
	}

	return string(plain), nil
}

// keyAAD binds a sealed key to its agent, so that a row copied to another
// agent does not open.
func keyAAD(agentID string) []byte { return []byte("settings:ai_api_key:" + agentID) }
