package main

import (
	"log/slog"

	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
)

// newAutomations builds the automation engine and puts its commands in the
// pipeline's registry; its /status takes the place of the pipeline's and
// shows what that one said below the automations.
func newAutomations(cfg config.Config, db *store.DB, p *pipeline.Pipeline,
	parts *agentParts, replica string, log *slog.Logger,
) (*automation.Engine, error) {
	e := automation.NewEngine(automation.Config{
		DB:          db,
		AgentID:     cfg.Agent.ID,
		DefaultZone: cfg.Agent.TimeZone,
		Responder:   parts.live.Responder(),
		Limit:       p.Limit,
		Poke:        p.Poke,
		ReplicaID:   replica,
		Rewrite: automation.ModelRewriter(func() agent.Responder {
			if parts.live.Parts().Router == nil {
				return nil // no model configured
			}

			return parts.live.Parts().Responder
		}),
		Logger: log,
	})

	parts.reminders.Engine = e

	status, _ := p.Commands().Lookup("status")

	for _, c := range e.Commands(status.Handle) {
		if c.Name == "status" {
			if _, err := p.Commands().Replace(c); err != nil {
				return nil, err
			}

			continue
		}

		if err := p.Commands().Register(c); err != nil {
			return nil, err
		}
	}

	return e, nil
}
