package skill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/credential"
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/store"
)

// setting is an agent's choice to enable or disable a skill; a skill
// without one is enabled.
type setting struct {
	bun.BaseModel `bun:"table:skill_settings"`

	AgentID   string    `bun:"agent_id,pk"`
	Skill     string    `bun:"skill,pk"`
	Enabled   bool      `bun:"enabled"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Info describes a skill for an agent, for listings.
type Info struct {
	Name        string
	Description string
	Enabled     bool
	// Credentials maps each credential the skill needs to its mask, or to
	// "" when it is not set.
	Credentials map[string]string
}

// Registry holds the skills of the gateway and runs them for an agent. It
// is safe for concurrent use.
type Registry struct {
	db     *store.DB
	creds  *credential.Store
	mu     sync.RWMutex
	skills map[string]Skill
}

// NewRegistry returns a registry over the given skills; creds may be nil
// when no skill needs credentials.
func NewRegistry(db *store.DB, creds *credential.Store, skills ...Skill) (*Registry, error) {
	r := &Registry{db: db, creds: creds, skills: make(map[string]Skill, len(skills))}

	for _, s := range skills {
		if _, dup := r.skills[s.Name()]; dup {
			return nil, fmt.Errorf("register skill %q: already registered", s.Name())
		}

		if len(s.Credentials()) > 0 && creds == nil {
			return nil, fmt.Errorf("register skill %q: it needs credentials and there is "+
				"no credential store", s.Name())
		}

		r.skills[s.Name()] = s
	}

	return r, nil
}

// names returns the skill names in order.
func (r *Registry) names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()

	out := make([]string, 0, len(r.skills))
	for n := range r.skills {
		out = append(out, n)
	}

	slices.Sort(out)

	return out
}

// lookup returns a skill by name.
func (r *Registry) lookup(name string) (Skill, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()

	s, ok := r.skills[name]

	return s, ok
}

// All returns every registered skill, enabled or not, sorted by name.
func (r *Registry) All() []Skill {
	names := r.names()
	out := make([]Skill, 0, len(names))

	for _, n := range names {
		if s, ok := r.lookup(n); ok {
			out = append(out, s)
		}
	}

	return out
}

// SetEnabled turns a skill on or off for an agent. An unknown skill is an
// *core.InputError on "skill".
func (r *Registry) SetEnabled(ctx context.Context, agentID, name string, enabled bool,
	now time.Time,
) error {
	if _, ok := r.lookup(name); !ok {
		return &core.InputError{Field: "skill", Rule: fmt.Sprintf(
			"must be one of %s, got %q", strings.Join(r.names(), ", "), name)}
	}

	s := &setting{AgentID: agentID, Skill: name, Enabled: enabled, UpdatedAt: now}

	_, err := r.db.NewInsert().Model(s).
		On("CONFLICT (agent_id, skill) DO UPDATE").
		Set("enabled = EXCLUDED.enabled").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("set skill %s enabled=%v: %w", name, enabled, err)
	}

	return nil
}

// disabled returns the names of the skills the agent turned off.
func (r *Registry) disabled(ctx context.Context, agentID string) (map[string]bool, error) {
	var rows []setting

	err := r.db.NewSelect().Model(&rows).
		Where("agent_id = ?", agentID).
		Where("enabled = ?", false).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read skill settings: %w", err)
	}

	out := make(map[string]bool, len(rows))
	for _, s := range rows {
		out[s.Skill] = true
	}

	return out, nil
}

// Enabled returns the skills the agent has on, sorted by name.
func (r *Registry) Enabled(ctx context.Context, agentID string) ([]Skill, error) {
	off, err := r.disabled(ctx, agentID)
	if err != nil {
		return nil, err
	}

	var out []Skill

	for _, n := range r.names() {
		if !off[n] {
			s, _ := r.lookup(n)
			out = append(out, s)
		}
	}

	return out, nil
}

// List describes every skill for the agent, enabled or not, with the
// masks of the credentials that are set.
func (r *Registry) List(ctx context.Context, agentID string) ([]Info, error) {
	off, err := r.disabled(ctx, agentID)
	if err != nil {
		return nil, err
	}

	var out []Info

	for _, n := range r.names() {
		s, _ := r.lookup(n)
		info := Info{Name: n, Description: s.Description(), Enabled: !off[n],
			Credentials: map[string]string{}}

		if len(s.Credentials()) > 0 {
			masked, err := r.creds.Masked(ctx, agentID, n)
			if err != nil {
				return nil, err
			}

			for _, c := range s.Credentials() {
				info.Credentials[c] = masked[c]
			}
		}

		out = append(out, info)
	}

	return out, nil
}

// Run runs an enabled skill for the agent. A disabled or unknown skill, and
// a skill whose credentials are not all set, fail with an error that says
// so, which the model passes on.
func (r *Registry) Run(ctx context.Context, name string, call Call) (string, error) {
	s, ok := r.lookup(name)
	if !ok {
		return "", fmt.Errorf("there is no skill named %q", name)
	}

	off, err := r.disabled(ctx, call.AgentID)
	if err != nil {
		return "", err
	}

	if off[name] {
		return "", fmt.Errorf("the %s skill is turned off for this agent", name)
	}

	call.Credentials = map[string]string{}

	for _, c := range s.Credentials() {
		v, ok, err := r.creds.Get(ctx, call.AgentID, name, c)
		if err != nil {
			return "", fmt.Errorf("read credential %s of %s: %w", c, name, err)
		}

		if !ok {
			return "", fmt.Errorf("the %s skill needs its %q credential, which is not set; "+
				"tell the person that the owner has to set it first", name, c)
		}

		call.Credentials[c] = v
	}

	return s.Run(ctx, call)
}

// Tools offers an agent's enabled skills to the agent loop; it implements
// agent.Tools.
type Tools struct {
	Registry *Registry
	AgentID  string
	// TimeZone is the zone of the people the agent talks to, until each
	// person has their own.
	TimeZone string
}

// Schemas returns the enabled skills as tools. A failure to read the
// settings offers none and is reported on the next Run.
func (t Tools) Schemas(ctx context.Context, _ agent.Request) []llm.Tool {
	skills, err := t.Registry.Enabled(ctx, t.AgentID)
	if err != nil {
		return nil
	}

	out := make([]llm.Tool, len(skills))
	for i, s := range skills {
		out[i] = llm.Tool{Name: s.Name(), Description: s.Description(),
			Parameters: s.Parameters()}
	}

	return out
}

// Run runs the skill the model called.
func (t Tools) Run(ctx context.Context, req agent.Request, call llm.ToolCall) (string, error) {
	return t.Registry.Run(ctx, call.Name, Call{
		AgentID:      t.AgentID,
		Conversation: req.Message.Conversation(),
		Channel:      req.Message.Channel,
		UserID:       req.Message.UserID,
		TimeZone:     t.TimeZone,
		Arguments:    call.Arguments,
	})
}

// Has reports whether a skill of that name is registered.
func (r *Registry) Has(name string) bool {
	_, ok := r.lookup(name)
	return ok
}
