package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// testPrices price the fake server's models, in dollars per million
// tokens.
var testPrices = budget.Prices{
	"small":  {Input: 0.1, Output: 0.4},
	"medium": {Input: 1, Output: 4},
	"large":  {Input: 10, Output: 40},
}

// codeQuestion is a long question with code, which routing rates as
// complex.
var codeQuestion = "Can you debug this Go function for me? It should sum the numbers " +
	"of a slice but it returns the wrong total when the slice is long, and I cannot " +
	"see why. Is it the loop or the return? Please explain step by step.\n\n" +
	"func sum(xs []int) int {\n" +
	"\ttotal := 0;\n" +
	"\tfor i := 1; i < len(xs); i++ {\n" +
	"\t\ttotal += xs[i];\n" +
	"\t}\n" +
	"\treturn total\n" +
	"}\n" + strings.Repeat("// more context about the program\n", 8)

// budgetAnswer is the budget as the token budget routes show it.
type budgetAnswer struct {
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

// recommendAnswer is the answer of POST /api/agent/token-budget.
type recommendAnswer struct {
	Model            string       `json:"model"`
	Tier             string       `json:"tier"`
	ComplexityScore  int          `json:"complexity_score"`
	Reasons          []string     `json:"reasons"`
	EstimatedCostUSD float64      `json:"estimated_cost_usd"`
	Refused          bool         `json:"refused"`
	Refusal          string       `json:"refusal"`
	Budget           budgetAnswer `json:"budget"`
}

// recordCall records a model call of the agent made at, answering the
// message inbound, directly in the database.
func recordCall(t *testing.T, ta *testAPI, agentID string, inbound, in, out, cost int64,
	at time.Time,
) {
	t.Helper()

	err := budget.Record(context.Background(), ta.DB, &budget.Call{AgentID: agentID,
		InboundID: inbound, Provider: "openai", Model: "medium", InputTokens: in,
		OutputTokens: out, CostMicros: cost, CreatedAt: at.UTC()})
	if err != nil {
		t.Fatal(err)
	}
}

// getBudget reads the budget as anna and returns it with the raw answer.
func getBudget(t *testing.T, ta *testAPI) (budgetAnswer, []byte) {
	t.Helper()

	code, b := ta.do("GET", "/api/agent/token-budget", "anna", nil)

	var out budgetAnswer
	if err := json.Unmarshal(b, &out); err != nil || code != http.StatusOK {
		t.Fatalf("GET /api/agent/token-budget: %d %s", code, b)
	}

	return out, b
}

// recommend asks for the recommendation for message as anna.
func recommend(t *testing.T, ta *testAPI, body map[string]any) recommendAnswer {
	t.Helper()

	var out recommendAnswer
	if code := ta.doJSON("POST", "/api/agent/token-budget", "anna", body, &out); code !=
		http.StatusOK {
		t.Fatalf("POST /api/agent/token-budget %v: %d", body, code)
	}

	return out
}

func TestBudgetMatchesRecordedCalls(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withLimits(budget.Limits{Messages: 10,
			CostMicros: 5_000_000}))

		now := time.Now()
		period := budget.PeriodOf(now, ta.Ledger.Zone)

		recordCall(t, ta, "default", 1, 1000, 500, 1_250_000, now)
		recordCall(t, ta, "default", 1, 200, 100, 250_000, now) // the same message
		recordCall(t, ta, "default", 2, 300, 50, 0, now)
		recordCall(t, ta, "default", 3, 9999, 9999, 9_999_999, period.Start.Add(-time.Minute))
		recordCall(t, ta, "other", 4, 9999, 9999, 9_999_999, now)

		got, raw := getBudget(t, ta)
		remaining := int64(8)
		want := budgetAnswer{
			PeriodStart: period.Start, PeriodEnd: period.End, TimeZone: "UTC",
			MessagesUsed: 2, MessagesLimit: 10, MessagesRemaining: &remaining,
			InputTokens: 1500, OutputTokens: 650, TotalTokens: 2150, Calls: 3,
			CostUSD: 1.5, CostLimitUSD: 5, UsedPercent: 30, StepDownPercent: 80,
		}

		if !sameBudget(got, want) {
			t.Fatalf("budget = %s\nwant %+v", raw, want)
		}

		if !strings.Contains(string(raw), `"period_start":"`+
			period.Start.Format(time.RFC3339)+`"`) {
			t.Fatalf("budget = %s, want period_start in RFC 3339", raw)
		}
	})
}

func TestBudgetWithoutLimits(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		recordCall(t, ta, "default", 1, 10, 20, 30, time.Now())

		got, raw := getBudget(t, ta)
		if got.MessagesUsed != 1 || got.MessagesLimit != 0 || got.CostLimitUSD != 0 ||
			got.UsedPercent != 0 || got.Low || got.Reached || got.CostUSD != 0.00003 ||
			!strings.Contains(string(raw), `"messages_remaining":null`) {
			t.Fatalf("budget = %s, want no limits", raw)
		}

		ta.wantError("GET", "/api/agent/token-budget", "", nil, http.StatusUnauthorized, "")
	})
}

func TestBudgetRecommendsByComplexity(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(testPrices))

		hi := recommend(t, ta, map[string]any{"message": "hi"})
		if hi.Model != "small" || hi.Tier != "cheap" || hi.Refused || hi.Refusal != "" ||
			len(hi.Reasons) == 0 || hi.Budget.TimeZone != "UTC" {
			t.Fatalf("hi: %+v, want the cheap model", hi)
		}

		// One input token and 500 answer tokens of the small model.
		if want := 200 / 1e6; hi.EstimatedCostUSD != want {
			t.Fatalf("hi costs %v, want %v", hi.EstimatedCostUSD, want)
		}

		code := recommend(t, ta, map[string]any{"message": codeQuestion})
		tiers := []string{"cheap", "standard", "premium"}

		if slices.Index(tiers, code.Tier) <= slices.Index(tiers, hi.Tier) ||
			code.ComplexityScore <= hi.ComplexityScore || code.EstimatedCostUSD <= 0 {
			t.Fatalf("code question: %+v, want a higher tier than hi's %s", code, hi.Tier)
		}

		if code.Model != "large" || code.Tier != "premium" {
			t.Fatalf("code question: %s (%s), want large (premium); reasons %q", code.Model,
				code.Tier, code.Reasons)
		}

		pictures := recommend(t, ta, map[string]any{"message": "hi", "images": 2})
		if pictures.ComplexityScore <= hi.ComplexityScore ||
			pictures.EstimatedCostUSD <= hi.EstimatedCostUSD {
			t.Fatalf("hi with 2 images: %+v, want a higher score and cost than %+v",
				pictures, hi)
		}

		if b, _ := getBudget(t, ta); b.Calls != 0 {
			t.Fatalf("a recommendation called a model: %+v", b)
		}
	})
}

func TestBudgetLowStepsDownAndReachedRefuses(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(testPrices),
			withLimits(budget.Limits{Messages: 10, StepDownPercent: 90}))

		now := time.Now()
		for i := range int64(9) {
			recordCall(t, ta, "default", i+1, 100, 10, 0, now)
		}

		low := recommend(t, ta, map[string]any{"message": codeQuestion})
		if low.Tier != "standard" || low.Model != "medium" || !low.Budget.Low ||
			low.Budget.Reached || low.Budget.UsedPercent != 90 ||
			low.Budget.StepDownPercent != 90 ||
			!strings.Contains(strings.Join(low.Reasons, "|"), "stepped down") {
			t.Fatalf("with 90%% used: %+v, want premium stepped down to standard", low)
		}

		recordCall(t, ta, "default", 10, 100, 10, 0, now)

		used := recommend(t, ta, map[string]any{"message": "hi"})
		if !used.Refused || used.Refusal == "" || used.Model != "" || !used.Budget.Reached ||
			used.Budget.MessagesRemaining == nil || *used.Budget.MessagesRemaining != 0 {
			t.Fatalf("with the budget used up: %+v, want a refusal", used)
		}

		got, raw := getBudget(t, ta)
		if !got.Reached || !got.Low || got.UsedPercent != 100 || got.MessagesUsed != 10 {
			t.Fatalf("budget = %s, want it reached", raw)
		}
	})
}

func TestBudgetRecommendationRefusesBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(testPrices))

		tests := []struct {
			body  any
			field string
		}{
			{map[string]any{}, "message"},
			{map[string]any{"message": ""}, "message"},
			{map[string]any{"message": "  \n "}, "message"},
			{map[string]any{"message": nil}, "message"},
			{map[string]any{"message": 7}, "message"},
			{map[string]any{"message": strings.Repeat("x", 64<<10+1)}, "message"},
			{map[string]any{"message": "hi", "images": -1}, "images"},
			{map[string]any{"message": "hi", "images": 9}, "images"},
			{map[string]any{"message": "hi", "images": "2"}, "images"},
			{map[string]any{"message": "hi", "images": 1.5}, "images"},
			{map[string]any{"message": "hi", "model": "large"}, "model"},
		}

		for _, tt := range tests {
			ta.wantError("POST", "/api/agent/token-budget", "anna", tt.body,
				http.StatusBadRequest, tt.field)
		}

		ta.wantError("POST", "/api/agent/token-budget", "anna", "not json",
			http.StatusBadRequest, "")

		longest := recommend(t, ta, map[string]any{"message": strings.Repeat("x", 64<<10),
			"images": 8})
		if longest.Refused || longest.Model == "" {
			t.Fatalf("the longest message: %+v", longest)
		}

		if b, _ := getBudget(t, ta); b.Calls != 0 || b.MessagesUsed != 0 {
			t.Fatalf("budget after refused requests: %+v, want nothing used", b)
		}
	})
}

func TestBudgetRecommendationWithoutModel(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)

		code, b := ta.do("POST", "/api/agent/token-budget", "anna",
			map[string]any{"message": "hi"})

		e := decodeError(t, b)
		if code != http.StatusServiceUnavailable || e.Error.Code != "unavailable" ||
			!strings.Contains(e.Error.Message, "ai.provider") ||
			!strings.Contains(e.Error.Message, "ai.model") {
			t.Fatalf("without a model: %d %s, want 503 saying how to configure one", code, b)
		}

		if _, raw := getBudget(t, ta); !strings.Contains(string(raw), `"calls":0`) {
			t.Fatalf("GET without a model: %s", raw)
		}
	})
}

// sameBudget compares budgets, their times as instants.
func sameBudget(a, b budgetAnswer) bool {
	if !a.PeriodStart.Equal(b.PeriodStart) || !a.PeriodEnd.Equal(b.PeriodEnd) {
		return false
	}

	if (a.MessagesRemaining == nil) != (b.MessagesRemaining == nil) ||
		a.MessagesRemaining != nil && *a.MessagesRemaining != *b.MessagesRemaining {
		return false
	}

	a.PeriodStart, a.PeriodEnd, a.MessagesRemaining = b.PeriodStart, b.PeriodEnd, nil
	b.MessagesRemaining = nil

	return a == b
}
