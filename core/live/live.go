// Package live applies the settings that the REST API changes while the
// gateway runs: a new model or API key, a server tier, a region, the main
// messenger. The stored settings override the configuration file, at
// start and after each change; a change is applied in place, without a
// restart and without losing a message: a message being answered keeps
// the agent it started with, the next one gets the new.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/settings"
	"github.com/switchboardhq/switchboard/core/store"
)

// The states of the agent.
const (
	Running      = "running"
	Provisioning = "provisioning"
	Failed       = "error"
)

// Parts is what answers messages under one configuration.
type Parts struct {
	// Responder answers free text.
	Responder agent.Responder
	// Router is nil while no model is configured.
	Router *routing.Router
	// Models lists the configured models, the standard one first.
	Models []string
}

// Config configures a Controller.
type Config struct {
	// Base is the configuration from the file and the environment.
	Base config.Config
	DB   *store.DB
	// Box seals the stored API key.
	Box *secret.Box
	// Ledger gets the limits of the tier.
	Ledger *budget.Ledger
	// Build makes the parts for a configuration.
	Build func(cfg config.Config) (Parts, error)
	// Check, when not nil, verifies that the configuration's model and
	// key work, without a model call. A failure leaves the agent as it
	// was, with the state "error" and the reason.
	Check func(ctx context.Context, cfg config.Config) error
	// SetMaxParallel, when not nil, resizes the pipeline.
	SetMaxParallel func(n int)
	Clock          clock.Clock
	Logger         *slog.Logger
}

// Controller holds the agent's parts and replaces them when the settings
// change. It is safe for concurrent use.
type Controller struct {
	cfg Config
	log *slog.Logger
	sw  *agent.Switch

	change sync.Mutex // one change applied at a time

	mu        sync.Mutex
	parts     Parts
	effective config.Config
	stored    settings.Stored
	state     string
	reason    string
	applied   chan struct{} // closed when the pending change is applied
}

// New loads the stored settings, applies them over the base configuration
// and builds the parts.
func New(ctx context.Context, cfg Config) (*Controller, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}

	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	stored, err := settings.Load(ctx, cfg.DB, cfg.Base.Agent.ID)
	if err != nil {
		return nil, err
	}

	eff, err := Effective(cfg.Base, stored, cfg.Box)
	if err != nil {
		return nil, err
	}

	parts, err := cfg.Build(eff)
	if err != nil {
		return nil, err
	}

	c := &Controller{cfg: cfg, log: cfg.Logger.With("component", "settings"),
		sw: agent.NewSwitch(parts.Responder), parts: parts, effective: eff, stored: stored,
		state: Running, applied: closed()}
	c.applyLimits(eff)

	return c, nil
}

func closed() chan struct{} {
	ch := make(chan struct{})
	close(ch)

	return ch
}

// Effective is the base configuration with the stored settings over it:
// the model, the API key, the tier with what it sets, the region and the
// messenger.
func Effective(base config.Config, s settings.Stored, box *secret.Box) (config.Config, error) {
	cfg := base

	if s.AIModel != "" {
		cfg.AI.Model = s.AIModel
	}

	key, err := s.APIKey(box)
	if err != nil {
		return config.Config{}, err
	}

	if key != "" {
		cfg.AI.APIKey = key
	}

	if t, ok := settings.Tiers[s.ServerTier]; ok {
		cfg.Deployment.Tier = s.ServerTier
		cfg.Agent.MaxParallel = t.MaxParallel
		cfg.Budget.MessagesLimit = t.MessagesLimit
	}

	if s.ServerRegion != "" {
		cfg.Deployment.Region = s.ServerRegion
	}

	if s.MessengerType != "" {
		cfg.Deployment.Messenger = s.MessengerType
	}

	return cfg, nil
}

// Responder is what the pipeline calls: it answers with the current
// parts' responder.
func (c *Controller) Responder() agent.Responder { return c.sw }

// Parts returns the parts that answer now.
func (c *Controller) Parts() Parts {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.parts
}

// Config returns the configuration in effect.
func (c *Controller) Config() config.Config {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.effective
}

// Stored returns the stored settings in effect.
func (c *Controller) Stored() settings.Stored {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.stored
}

// State reports running, provisioning while a change is applied, or error
// with the reason when the last change could not be applied.
func (c *Controller) State() (state, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.state, c.reason
}

// Applied returns a channel that is closed once the latest change has
// been applied or has failed.
func (c *Controller) Applied() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.applied
}

// Change validates and stores the patch, then applies it in the
// background: the state is provisioning until it is done. An invalid
// patch is a *core.InputError and changes nothing.
func (c *Controller) Change(ctx context.Context, p settings.Patch) error {
	if err := p.Validate(); err != nil {
		return err
	}

	c.change.Lock()

	stored, err := settings.Save(ctx, c.cfg.DB, c.cfg.Base.Agent.ID, p, c.cfg.Box,
		c.cfg.Clock.Now())
	if err != nil {
		c.change.Unlock()
		return err
	}

	done := make(chan struct{})

	c.mu.Lock()
	c.state, c.reason, c.applied = Provisioning, "", done
	c.mu.Unlock()

	go func() {
		defer c.change.Unlock()
		defer close(done)

		c.apply(context.WithoutCancel(ctx), stored)
	}()

	return nil
}

// checkTimeout bounds the check of a new model or key.
const checkTimeout = 20 * time.Second

// apply builds and checks the parts for the stored settings and puts them
// in place, or records why it could not.
func (c *Controller) apply(ctx context.Context, stored settings.Stored) {
	fail := func(err error) {
		c.log.Error("settings not applied", "err", err)

		c.mu.Lock()
		c.state, c.reason = Failed, err.Error()
		c.mu.Unlock()
	}

	eff, err := Effective(c.cfg.Base, stored, c.cfg.Box)
	if err != nil {
		fail(err)
		return
	}

	if c.cfg.Check != nil && eff.AI.Provider != "" {
		checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
		err := c.cfg.Check(checkCtx, eff)
		cancel()

		if err != nil {
			fail(fmt.Errorf("model %s: %w", eff.AI.Model, err))
			return
		}
	}

	parts, err := c.cfg.Build(eff)
	if err != nil {
		fail(err)
		return
	}

	c.applyLimits(eff)
	c.sw.Set(parts.Responder)

	c.mu.Lock()
	c.parts, c.effective, c.stored, c.state, c.reason = parts, eff, stored, Running, ""
	c.mu.Unlock()

	c.log.Info("settings applied", "ai_model", eff.AI.Model, "tier", eff.Deployment.Tier,
		"max_parallel", eff.Agent.MaxParallel, "messages_limit", eff.Budget.MessagesLimit)
}

// applyLimits gives the pipeline and the ledger what the configuration
// sets.
func (c *Controller) applyLimits(cfg config.Config) {
	if c.cfg.SetMaxParallel != nil {
		c.cfg.SetMaxParallel(cfg.Agent.MaxParallel)
	}

	if c.cfg.Ledger != nil {
		lim := c.cfg.Ledger.CurrentLimits()
		lim.Messages = int64(cfg.Budget.MessagesLimit)
		c.cfg.Ledger.SetLimits(lim)
	}
}

// ErrNoChange is a patch without fields.
var ErrNoChange = errors.New("no setting to change")
