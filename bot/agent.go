package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard/adapters/anthropic"
	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/credential"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/skill/webfetch"
	"github.com/switchboardhq/switchboard/core/store"
)

// agentParts is the agent under its live settings, and what the API
// reads of it.
type agentParts struct {
	live   *live.Controller
	ledger *budget.Ledger
	prices budget.Prices
	skills *skill.Registry
	creds  *credential.Store
	// reminders gets the automation engine once it exists.
	reminders *skill.Reminders
}

// newAgent builds the budget and the skills, and the controller that
// builds what answers free text under the settings in effect: the echo,
// the agent loop on the configured provider, or, with no provider, a
// reply that says how to configure one. setParallel resizes the pipeline
// when a tier is set.
func newAgent(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger,
	setParallel func(int),
) (*agentParts, error) {
	prices, err := budget.ParsePrices(cfg.AI.Prices)
	if err != nil {
		return nil, fmt.Errorf("ai.prices: %w", err)
	}

	ledger, err := newLedger(cfg, db)
	if err != nil {
		return nil, err
	}

	box, err := newBox(cfg, log)
	if err != nil {
		return nil, err
	}

	reminders := &skill.Reminders{DB: db}

	skills, creds, err := newSkills(cfg, db, box, reminders)
	if err != nil {
		return nil, err
	}

	parts := &agentParts{ledger: ledger, prices: prices, skills: skills, creds: creds,
		reminders: reminders}

	parts.live, err = live.New(ctx, live.Config{
		Base:   cfg,
		DB:     db,
		Box:    box,
		Ledger: ledger,
		Build: func(c config.Config) (live.Parts, error) {
			return buildAgent(c, db, parts, log)
		},
		Check:          checkModel,
		SetMaxParallel: setParallel,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}

	return parts, nil
}

// newProvider returns the client of the configured model provider.
func newProvider(ai config.AI) llm.Provider {
	if ai.Provider == "anthropic" {
		return anthropic.New(anthropic.Config{BaseURL: ai.BaseURL, APIKey: ai.APIKey})
	}

	return openai.New(openai.Config{BaseURL: ai.BaseURL, APIKey: ai.APIKey})
}

// checkModel asks the provider whether it serves the model to the key,
// where the provider can tell without a model call.
func checkModel(ctx context.Context, cfg config.Config) error {
	if c, ok := newProvider(cfg.AI).(llm.ModelChecker); ok {
		return c.CheckModel(ctx, cfg.AI.Model)
	}

	return nil
}

// buildAgent makes what answers free text under one configuration.
func buildAgent(cfg config.Config, db *store.DB, parts *agentParts, log *slog.Logger,
) (live.Parts, error) {
	switch {
	case cfg.Agent.Responder == "echo":
		return live.Parts{Responder: agent.Echo{}}, nil
	case cfg.AI.Provider == "":
		log.Warn("no model provider configured: free text gets a reply that says how to set one")
		return live.Parts{Responder: agent.Unconfigured{}}, nil
	}

	router, err := newRouter(cfg, db, parts.ledger, parts.prices, log)
	if err != nil {
		return live.Parts{}, err
	}

	tools := skill.Tools{Registry: parts.skills, AgentID: cfg.Agent.ID,
		TimeZone: cfg.Agent.TimeZone}

	loop, err := agent.NewLoop(agent.LoopConfig{
		Provider:     newProvider(cfg.AI),
		Models:       []agent.Model{describeModel(cfg.AI)(cfg.AI.Model)},
		SystemPrompt: cfg.Agent.SystemPrompt,
		MaxSteps:     cfg.Agent.MaxSteps,
		Tools:        tools,
		Plan:         router.Plan,
		Recall:       tools.Recall,
		OnCall:       recordCall(db, cfg.Agent.ID, parts.prices, log),
		Logger:       log,
	})
	if err != nil {
		return live.Parts{}, err
	}

	var models []string

	for _, m := range append([]string{cfg.AI.Model, cfg.Routing.CheapModel,
		cfg.Routing.PremiumModel}, cfg.AI.FallbackModels...) {
		if m != "" && !slices.Contains(models, m) {
			models = append(models, m)
		}
	}

	return live.Parts{Responder: loop, Router: router, Models: models}, nil
}

// describeModel returns what the loop must know of a model named in the
// ai section.
func describeModel(ai config.AI) func(name string) agent.Model {
	return func(name string) agent.Model {
		return agent.Model{Name: name, ContextWindow: ai.ContextWindow,
			Vision: slices.Contains(ai.VisionModels, name)}
	}
}

// newLedger returns the agent's budget, measured in its time zone.
func newLedger(cfg config.Config, db *store.DB) (*budget.Ledger, error) {
	zone, err := time.LoadLocation(cfg.Agent.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("agent.time_zone: %w", err)
	}

	return &budget.Ledger{
		DB:      db,
		AgentID: cfg.Agent.ID,
		Zone:    zone,
		Limits: budget.Limits{
			Messages:        int64(cfg.Budget.MessagesLimit),
			CostMicros:      int64(cfg.Budget.CostLimit * 1e6),
			StepDownPercent: cfg.Budget.StepDownPercent,
		},
	}, nil
}

// newRouter returns the router of the routing section over the budget.
func newRouter(cfg config.Config, db *store.DB, ledger *budget.Ledger, prices budget.Prices,
	log *slog.Logger,
) (*routing.Router, error) {
	return routing.New(routing.Config{
		Standard:     cfg.AI.Model,
		Cheap:        cfg.Routing.CheapModel,
		Premium:      cfg.Routing.PremiumModel,
		Fallbacks:    cfg.AI.FallbackModels,
		CheapBelow:   cfg.Routing.CheapBelow,
		PremiumFrom:  cfg.Routing.PremiumFrom,
		Model:        describeModel(cfg.AI),
		SystemPrompt: cfg.Agent.SystemPrompt,
		Prices:       prices,
		Ledger:       ledger,
		DB:           db,
		Logger:       log,
	})
}

// recordCall stores every model call for the budget, with its cost at
// the configured prices. A failure to store is logged: the answer matters
// more than its accounting.
func recordCall(db *store.DB, agentID string, prices budget.Prices, log *slog.Logger,
) func(context.Context, agent.Request, agent.Call) {
	return func(ctx context.Context, req agent.Request, c agent.Call) {
		in, out := int64(c.Usage.InputTokens), int64(c.Usage.OutputTokens)
		rec := &budget.Call{
			AgentID:      agentID,
			InboundID:    req.InboundID,
			Provider:     c.Provider,
			Model:        c.Model,
			InputTokens:  in,
			OutputTokens: out,
			CostMicros:   prices.CostMicros(c.Model, in, out),
			ToolCalls:    c.ToolCalls,
			DurationMS:   c.Duration.Milliseconds(),
			CreatedAt:    time.Now().UTC(),
		}

		if req.Session != nil {
			rec.SessionID = req.Session.ID
		}

		if c.Err != nil {
			rec.Error = c.Err.Error()
		}

		if err := budget.Record(context.WithoutCancel(ctx), db, rec); err != nil {
			log.Error("record model call", "model", c.Model, "err", err)
		}
	}
}

// newBox returns the box that seals credentials and the stored API key,
// under secrets.key or the key in the data directory.
func newBox(cfg config.Config, log *slog.Logger) (*secret.Box, error) {
	key, err := secret.LoadKey(cfg.Secrets.Key, cfg.Data.Dir, log)
	if err != nil {
		return nil, err
	}

	return secret.NewBox(key)
}

// newSkills builds the skill registry with the credential store.
func newSkills(cfg config.Config, db *store.DB, box *secret.Box, reminders *skill.Reminders,
) (*skill.Registry, *credential.Store, error) {
	creds := credential.New(db, box)

	reg, err := skill.NewRegistry(db, creds,
		skill.Time{}, skill.Calculator{}, skill.Memory{DB: db},
		skill.Weather{URL: cfg.Skills.WeatherURL}, webfetch.New(webfetch.Options{}),
		reminders)

	return reg, creds, err
}
