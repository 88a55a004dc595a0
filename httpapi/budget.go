package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// maxRecommendText bounds the message of POST /api/agent/token-budget, in
// bytes.
const maxRecommendText = 64 << 10

// maxRecommendBody bounds that route's body: room for a message of
// maxRecommendText bytes even when JSON escapes make it longer, so that a
// long message is a 400 on its field rather than a 413.
const maxRecommendBody = 8 * maxRecommendText

// agentBudget is the period's usage as the budget routes show it. Money
// is in dollars, and a limit of 0 is no limit.
type agentBudget struct {
	PeriodStart       time.Time `json:"period_start"`
	PeriodEnd         time.Time `json:"period_end"`
	TimeZone          string    `json:"time_zone"`
	MessagesUsed      int64     `json:"messages_used"`
	MessagesLimit     int64     `json:"messages_limit"`
	MessagesRemaining *int64    `json:"messages_remaining"`
	InputTokens       int64     `json:"input_tokens"`
	OutputTokens      int64     `json:"output_tokens"`
	TotalTokens       int64     `json:"total_tokens"`
	Calls             int64     `json:"calls"`
	CostUSD           float64   `json:"cost_usd"`
	CostLimitUSD      float64   `json:"cost_limit_usd"`
	UsedPercent       float64   `json:"used_percent"`
	StepDownPercent   int       `json:"step_down_percent"`
	Low               bool      `json:"low"`
	Reached           bool      `json:"reached"`
}

// recommendBody is the body of POST /api/agent/token-budget.
type recommendBody struct {
	Message *string `json:"message"`
	Images  *int    `json:"images"`
}

// agentRecommendation is the model a message would get, with the budget
// the decision saw.
type agentRecommendation struct {
	Model            string      `json:"model"`
	Tier             string      `json:"tier"`
	ComplexityScore  int         `json:"complexity_score"`
	Reasons          []string    `json:"reasons"`
	EstimatedCostUSD float64     `json:"estimated_cost_usd"`
	Refused          bool        `json:"refused"`
	Refusal          string      `json:"refusal,omitempty"`
	Budget           agentBudget `json:"budget"`
}

// budgetRoutes registers the token budget routes:
//
//   - GET /api/agent/token-budget reports the billing period, the calendar
//     month in the agent's time zone, against its limits.
//   - POST /api/agent/token-budget {"message", "images"} answers which
//     model the message would get and why, without calling any model; it
//     is a 503 while no model is configured.
func (a *API) budgetRoutes(authed func(pattern string, h http.HandlerFunc)) {
	authed("GET /api/agent/token-budget", a.handleBudget)
	authed("POST /api/agent/token-budget", a.handleRecommend)
}

// handleBudget reports the period's usage against the limits.
func (a *API) handleBudget(w http.ResponseWriter, r *http.Request) {
	status, err := a.cfg.Ledger.Status(r.Context())
	if err != nil {
		a.fail(w, "read budget", err)
		return
	}

	wire.WriteJSON(w, http.StatusOK, toAgentBudget(status))
}

// handleRecommend answers the routing recommendation for a message.
func (a *API) handleRecommend(w http.ResponseWriter, r *http.Request) {
	router := a.router()
	if router == nil {
		unavailable(w, "no model is configured, so no model can be recommended; set "+
			"ai.provider (openai or anthropic) and ai.model in the configuration, "+
			"then restart the gateway")

		return
	}

	var body recommendBody
	if rerr := wire.Decode(r, maxRecommendBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	in, ok := recommendInput(w, body)
	if !ok {
		return
	}

	rec, err := router.Recommend(r.Context(), in)
	if err != nil {
		a.fail(w, "recommend a model", err)
		return
	}

	out := agentRecommendation{Model: rec.Model, Tier: string(rec.Tier),
		ComplexityScore: rec.Score, Reasons: rec.Reasons,
		EstimatedCostUSD: dollars(rec.EstimatedCostMicros), Refused: rec.Refusal != "",
		Refusal: rec.Refusal, Budget: toAgentBudget(rec.Budget)}

	if out.Reasons == nil {
		out.Reasons = []string{}
	}

	wire.WriteJSON(w, http.StatusOK, out)
}

// recommendInput checks the body of a recommendation; it writes the 400
// and returns false when the body breaks a rule.
func recommendInput(w http.ResponseWriter, body recommendBody) (routing.Input, bool) {
	switch {
	case body.Message == nil || strings.TrimSpace(*body.Message) == "":
		wire.Invalid(w, "message", "is required: the message to rate")
		return routing.Input{}, false
	case len(*body.Message) > maxRecommendText:
		wire.Invalid(w, "message", fmt.Sprintf("must be at most %d bytes (got %d)",
			maxRecommendText, len(*body.Message)))

		return routing.Input{}, false
	}

	in := routing.Input{Text: *body.Message}

	if body.Images != nil {
		if *body.Images < 0 || *body.Images > MaxImages {
			wire.Invalid(w, "images", fmt.Sprintf("must be a whole number from 0 to %d, "+
				"the number of images sent with the message", MaxImages))

			return routing.Input{}, false
		}

		in.Images = *body.Images
	}

	return in, true
}

// toAgentBudget shows a budget status.
func toAgentBudget(s budget.Status) agentBudget {
	step := s.Limits.StepDownPercent
	if step <= 0 {
		step = budget.DefaultStepDownPercent
	}

	out := agentBudget{
		PeriodStart: s.Start, PeriodEnd: s.End, TimeZone: s.Start.Location().String(),
		MessagesUsed: s.Usage.Messages, MessagesLimit: max(0, s.Limits.Messages),
		InputTokens: s.Usage.InputTokens, OutputTokens: s.Usage.OutputTokens,
		TotalTokens: s.Usage.InputTokens + s.Usage.OutputTokens, Calls: s.Usage.Calls,
		CostUSD: dollars(s.Usage.CostMicros), CostLimitUSD: dollars(max(0, s.Limits.CostMicros)),
		UsedPercent:     math.Round(s.Share()*10_000) / 100,
		StepDownPercent: step, Low: s.Low(), Reached: s.Reached(),
	}

	if n := s.MessagesRemaining(); n >= 0 {
		out.MessagesRemaining = &n
	}

	return out
}

// dollars converts millionths of a dollar to dollars.
func dollars(micros int64) float64 {
	return float64(micros) / 1e6
}
