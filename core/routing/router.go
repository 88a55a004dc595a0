package routing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/session"
)

// Tier is a class of model, from cheap to premium.
type Tier string

// The tiers, cheapest first.
const (
	Cheap    Tier = "cheap"
	Standard Tier = "standard"
	Premium  Tier = "premium"
)

// down returns the next cheaper tier.
func (t Tier) down() Tier {
	if t == Premium {
		return Standard
	}

	return Cheap
}

// toolWindow is how far back tool use in a conversation counts.
const toolWindow = 30 * time.Minute

// assumedAnswerTokens is the answer length an estimate assumes.
const assumedAnswerTokens = 500

// Config configures a Router.
type Config struct {
	// Standard is the model of the standard tier (ai.model); Cheap and
	// Premium default to it.
	Standard, Cheap, Premium string
	// Fallbacks are tried, in order, after the chosen model and Standard.
	Fallbacks []string
	// CheapBelow and PremiumFrom are the score thresholds of the tiers.
	CheapBelow, PremiumFrom int
	// Model describes a model by name: its context window and vision.
	Model func(name string) agent.Model
	// SystemPrompt counts towards an estimate's input tokens.
	SystemPrompt string
	// Prices give the estimated cost.
	Prices budget.Prices
	// Ledger reads the period's usage and limits.
	Ledger *budget.Ledger
	// DB reads the conversation's depth and tool use.
	DB bun.IDB
	// Clock and Logger default to the system clock and slog.Default.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Router picks models for messages. It is safe for concurrent use.
type Router struct {
	cfg Config
	log *slog.Logger
}

// New returns a router; cfg.Standard, cfg.Ledger and cfg.DB are required.
func New(cfg Config) (*Router, error) {
	if cfg.Standard == "" || cfg.Ledger == nil || cfg.DB == nil {
		return nil, fmt.Errorf("new router: a standard model, a ledger and a database " +
			"are required")
	}

	if cfg.Cheap == "" {
		cfg.Cheap = cfg.Standard
	}

	if cfg.Premium == "" {
		cfg.Premium = cfg.Standard
	}

	if cfg.Model == nil {
		cfg.Model = func(name string) agent.Model { return agent.Model{Name: name} }
	}

	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}

	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	return &Router{cfg: cfg, log: cfg.Logger.With("component", "routing")}, nil
}

// Recommendation is the model a message would get, and why.
type Recommendation struct {
	// Model and Tier are what answers; empty when Refusal is set.
	Model string
	Tier  Tier
	// Score is the message's complexity and Reasons what raised it, and
	// any step down for the budget.
	Score   int
	Reasons []string
	// EstimatedCostMicros is the cost of one call with the message and
	// the system prompt, no history, and an answer of 500 tokens.
	EstimatedCostMicros int64
	// Budget is the period's usage the decision saw.
	Budget budget.Status
	// Refusal is the answer instead of a model call when the budget is
	// used up.
	Refusal string
}

// Recommend decides which model answers a message.
func (r *Router) Recommend(ctx context.Context, in Input) (Recommendation, error) {
	status, err := r.cfg.Ledger.Status(ctx)
	if err != nil {
		return Recommendation{}, err
	}

	score, reasons := Score(in)
	rec := Recommendation{Score: score, Reasons: reasons, Budget: status}

	if status.Reached() {
		rec.Refusal = Refusal(status)
		rec.Reasons = append(rec.Reasons, "the budget of the period is used up")

		return rec, nil
	}

	rec.Tier = r.tier(score)

	if status.Low() && rec.Tier != Cheap {
		low := rec.Tier.down()
		rec.Reasons = append(rec.Reasons, fmt.Sprintf(
			"%d%% of the budget used: stepped down from %s to %s",
			int(status.Share()*100), rec.Tier, low))
		rec.Tier = low
	}

	rec.Model = r.model(rec.Tier)

	input := (len(r.cfg.SystemPrompt)+len(in.Text))/4 + 1 + 1_000*in.Images
	rec.EstimatedCostMicros = r.cfg.Prices.CostMicros(rec.Model, int64(input),
		assumedAnswerTokens)

	return rec, nil
}

// tier maps a score to a tier.
func (r *Router) tier(score int) Tier {
	switch {
	case score < r.cfg.CheapBelow:
		return Cheap
	case score >= r.cfg.PremiumFrom:
		return Premium
	}

	return Standard
}

// model names the model of a tier.
func (r *Router) model(t Tier) string {
	switch t {
	case Cheap:
		return r.cfg.Cheap
	case Premium:
		return r.cfg.Premium
	}

	return r.cfg.Standard
}

// TierOf returns the tier whose model is model, standard first when
// several tiers use it, or "" for a model of no tier (a fallback).
func (r *Router) TierOf(model string) Tier {
	for _, t := range []Tier{Standard, Cheap, Premium} {
		if r.model(t) == model {
			return t
		}
	}

	return ""
}

// Plan implements agent.LoopConfig.Plan: the recommended model, or the
// one the request asks for, first, then the standard model and the
// fallbacks; or the refusal, which applies to an asked-for model too.
func (r *Router) Plan(ctx context.Context, req agent.Request) (agent.Plan, error) {
	in := Input{Text: req.Message.Text, Images: len(req.Message.Images)}

	if req.Session != nil {
		turns, err := session.CountTurns(ctx, r.cfg.DB, req.Session.ID)
		if err != nil {
			return agent.Plan{}, err
		}

		since := r.cfg.Clock.Now().Add(-toolWindow).UTC()

		used, err := budget.UsedTools(ctx, r.cfg.DB, req.Session.ID, since)
		if err != nil {
			return agent.Plan{}, err
		}

		in.Turns, in.UsedTools = turns, used
	}

	rec, err := r.Recommend(ctx, in)
	if err != nil {
		return agent.Plan{}, err
	}

	if rec.Refusal != "" {
		r.log.Info("budget used up: message refused", "inbound_id", req.InboundID,
			"messages_used", rec.Budget.Usage.Messages, "cost_micros", rec.Budget.Usage.CostMicros)

		return agent.Plan{Refusal: rec.Refusal}, nil
	}

	r.log.Debug("model chosen", "inbound_id", req.InboundID, "model", rec.Model,
		"tier", string(rec.Tier), "score", rec.Score)

	first := rec.Model
	if req.Model != "" {
		first = req.Model
	}

	names := []string{first}
	for _, n := range append([]string{r.cfg.Standard}, r.cfg.Fallbacks...) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}

	plan := agent.Plan{Models: make([]agent.Model, len(names))}
	for i, n := range names {
		plan.Models[i] = r.cfg.Model(n)
	}

	return plan, nil
}

// Refusal is the answer to a message once the budget is used up: which
// limit, and when answers resume, in the agent's zone.
func Refusal(s budget.Status) string {
	used := strconv.FormatInt(s.Usage.Messages, 10) + " of " +
		strconv.FormatInt(s.Limits.Messages, 10) + " messages"

	if s.Limits.Messages <= 0 || s.Usage.Messages < s.Limits.Messages {
		used = budget.Dollars(s.Usage.CostMicros) + " of " +
			budget.Dollars(s.Limits.CostMicros) + " spent"
	}

	return fmt.Sprintf("I have reached this month's budget (%s), so I can't answer with "+
		"the model until %s (%s). Commands such as /status still work.",
		used, s.End.Format("Mon 2 Jan 2006 15:04"), s.End.Location())
}
