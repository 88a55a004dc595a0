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
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/skill/webfetch"
	"github.com/switchboardhq/switchboard/core/store"
)

// newResponder builds what answers free text: the echo, the agent loop on
// the configured provider, or, with no provider, a reply that says how to
// configure one.
func newResponder(cfg config.Config, db *store.DB, log *slog.Logger) (agent.Responder, error) {
	switch {
	case cfg.Agent.Responder == "echo":
		return agent.Echo{}, nil
	case cfg.AI.Provider == "":
		log.Warn("no model provider configured: free text gets a reply that says how to set one")
		return agent.Unconfigured{}, nil
	}

	var provider llm.Provider

	switch cfg.AI.Provider {
	case "anthropic":
		provider = anthropic.New(anthropic.Config{BaseURL: cfg.AI.BaseURL, APIKey: cfg.AI.APIKey})
	default:
		provider = openai.New(openai.Config{BaseURL: cfg.AI.BaseURL, APIKey: cfg.AI.APIKey})
	}

	prices, err := budget.ParsePrices(cfg.AI.Prices)
	if err != nil {
		return nil, fmt.Errorf("ai.prices: %w", err)
	}

	router, err := newRouter(cfg, db, prices, log)
	if err != nil {
		return nil, err
	}

	skills, _, err := newSkills(cfg, db, log)
	if err != nil {
		return nil, err
	}

	tools := skill.Tools{Registry: skills, AgentID: cfg.Agent.ID, TimeZone: cfg.Agent.TimeZone}

	return agent.NewLoop(agent.LoopConfig{
		Provider:     provider,
		Models:       []agent.Model{describeModel(cfg.AI)(cfg.AI.Model)},
		SystemPrompt: cfg.Agent.SystemPrompt,
		MaxSteps:     cfg.Agent.MaxSteps,
		Tools:        tools,
		Plan:         router.Plan,
		Recall:       tools.Recall,
		OnCall:       recordCall(db, cfg.Agent.ID, prices, log),
		Logger:       log,
	})
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
func newRouter(cfg config.Config, db *store.DB, prices budget.Prices, log *slog.Logger,
) (*routing.Router, error) {
	ledger, err := newLedger(cfg, db)
	if err != nil {
		return nil, err
	}

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

// newSkills builds the skill registry with the credential store, whose key
// comes from secrets.key or the data directory.
func newSkills(cfg config.Config, db *store.DB, log *slog.Logger,
) (*skill.Registry, *credential.Store, error) {
	key, err := secret.LoadKey(cfg.Secrets.Key, cfg.Data.Dir, log)
	if err != nil {
		return nil, nil, err
	}

	box, err := secret.NewBox(key)
	if err != nil {
		return nil, nil, err
	}

	creds := credential.New(db, box)

	reg, err := skill.NewRegistry(db, creds,
		skill.Time{}, skill.Calculator{}, skill.Memory{DB: db},
		skill.Weather{URL: cfg.Skills.WeatherURL}, webfetch.New(webfetch.Options{}))

	return reg, creds, err
}
