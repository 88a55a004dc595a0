package routing_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/session"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// complex scores in the premium tier: code, analysis and two questions.
const complex = "Compare these two versions and explain why the second is slower? " +
	"Which would you keep?\n```go\nfor i := range n {\n\tsum += i\n}\n```"

// fixture is a router over a budget on a real database, with the clock
// of the ledger, the router and the recorded calls.
type fixture struct {
	db     *store.DB
	clock  *clock.Fake
	router *routing.Router
	ledger *budget.Ledger
}

func newFixture(t *testing.T, kind store.Dialect, limits budget.Limits, prices budget.Prices,
) *fixture {
	t.Helper()

	zone, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}

	f := &fixture{
		db:    storetest.Open(t, kind),
		clock: clock.NewFake(time.Date(2026, 12, 30, 10, 0, 0, 0, time.UTC)),
	}
	f.ledger = &budget.Ledger{DB: f.db, AgentID: "a", Zone: zone, Limits: limits,
		Clock: f.clock}

	f.router, err = routing.New(routing.Config{
		Standard: "medium", Cheap: "small", Premium: "large",
		Fallbacks:  []string{"backup", "medium"},
		CheapBelow: 30, PremiumFrom: 60,
		SystemPrompt: "Be brief.",
		Prices:       prices,
		Ledger:       f.ledger,
		DB:           f.db,
		Clock:        f.clock,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	return f
}

// record stores a call as the gateway does after each model call.
func (f *fixture) record(t *testing.T, req agent.Request, c agent.Call, prices budget.Prices) {
	t.Helper()

	in, out := int64(c.Usage.InputTokens), int64(c.Usage.OutputTokens)

	err := budget.Record(context.Background(), f.db, &budget.Call{
		AgentID: "a", SessionID: req.Session.ID, InboundID: req.InboundID,
		Provider: c.Provider, Model: c.Model, InputTokens: in, OutputTokens: out,
		CostMicros: prices.CostMicros(c.Model, in, out), ToolCalls: c.ToolCalls,
		CreatedAt: f.clock.Now().UTC(),
	})
	if err != nil {
		t.Error(err)
	}
}

// TestBudgetStepsDownThenRefusesThenRollsOver runs a month to its limit of
// five messages: the premium model answers the first three, the standard
// model the next two once 60% is used, the sixth is refused without a
// model call, and the new month in the agent's zone answers again.
func TestBudgetStepsDownThenRefusesThenRollsOver(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		limits := budget.Limits{Messages: 5, StepDownPercent: 60}
		f := newFixture(t, kind, limits, nil)
		srv := openaitest.NewServer(t)

		loop, err := agent.NewLoop(agent.LoopConfig{
			Provider: openai.New(openai.Config{BaseURL: srv.URL()}),
			Models:   []agent.Model{{Name: "medium"}},
			Plan:     f.router.Plan,
			OnCall: func(_ context.Context, req agent.Request, c agent.Call) {
				f.record(t, req, c, nil)
			},
			Clock:  f.clock,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}

		var inbound int64

		ask := func() (agent.Reply, int) {
			t.Helper()

			inbound++
			before := len(srv.Requests())

			reply, err := loop.Respond(context.Background(), agent.Request{
				Message:   core.Inbound{Text: complex},
				InboundID: inbound,
				Session:   &session.Session{ID: 1},
			})
			if err != nil {
				t.Fatalf("message %d: %v", inbound, err)
			}

			return reply, len(srv.Requests()) - before
		}

		for i, want := range []string{"large", "large", "large", "medium", "medium"} {
			srv.Push(openaitest.TextReply("answer"))

			reply, calls := ask()
			if calls != 1 || reply.Model != want || reply.Text != "answer" {
				t.Fatalf("message %d: model %q, %d calls, text %q; want %s, 1 call",
					i+1, reply.Model, calls, reply.Text, want)
			}

			if got := srv.Requests()[len(srv.Requests())-1].Model; got != want {
				t.Fatalf("message %d went to %q, want %q", i+1, got, want)
			}
		}

		refused, calls := ask()
		if calls != 0 || refused.Model != "" {
			t.Fatalf("sixth message called the model %d times (%q)", calls, refused.Model)
		}

		for _, want := range []string{"5 of 5 messages", "Fri 1 Jan 2027 00:00",
			"Europe/Berlin"} {
			if !strings.Contains(refused.Text, want) {
				t.Errorf("refusal %q lacks %q", refused.Text, want)
			}
		}

		// 23:59 in Berlin on 31 December is still December there.
		f.clock.Advance(time.Date(2026, 12, 31, 22, 59, 0, 0, time.UTC).Sub(f.clock.Now()))

		if _, calls := ask(); calls != 0 {
			t.Fatalf("a minute before the month ends in Berlin, the model was called")
		}

		// Midnight in Berlin is 23:00 UTC: the new period has begun.
		f.clock.Advance(time.Minute)
		srv.Push(openaitest.TextReply("new month"))

		reply, calls := ask()
		if calls != 1 || reply.Model != "large" || reply.Text != "new month" {
			t.Fatalf("after the rollover: model %q, %d calls, %q", reply.Model, calls,
				reply.Text)
		}

		status, err := f.ledger.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}

		if status.Usage.Messages != 1 || status.MessagesRemaining() != 4 ||
			!status.Start.Equal(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
			t.Errorf("status of the new period = %+v", status)
		}
	})
}

func TestCostLimitRefuses(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		prices := budget.Prices{"large": {Input: 10, Output: 30}}
		f := newFixture(t, kind, budget.Limits{CostMicros: 2_000_000}, prices)
		ctx := context.Background()

		rec, err := f.router.Recommend(ctx, routing.Input{Text: complex})
		if err != nil {
			t.Fatal(err)
		}

		// About four characters a token for the prompt and message, and an
		// answer of 500 tokens.
		input := int64((len("Be brief.")+len(complex))/4 + 1)
		if rec.Model != "large" || rec.Tier != routing.Premium || rec.Refusal != "" ||
			rec.EstimatedCostMicros != input*10+500*30 {
			t.Fatalf("recommendation = %+v", rec)
		}

		// $1.70 of $2.00 is 85%: one tier down.
		f.record(t, agent.Request{Session: &session.Session{ID: 1}, InboundID: 1},
			agent.Call{Model: "large", Usage: usage(20_000, 50_000)}, prices)

		rec, err = f.router.Recommend(ctx, routing.Input{Text: complex})
		if err != nil {
			t.Fatal(err)
		}

		if rec.Tier != routing.Standard || rec.Model != "medium" ||
			!strings.Contains(strings.Join(rec.Reasons, "; "), "stepped down from premium") {
			t.Fatalf("recommendation at 85%% = %+v", rec)
		}

		f.record(t, agent.Request{Session: &session.Session{ID: 1}, InboundID: 2},
			agent.Call{Model: "large", Usage: usage(10_000, 10_000)}, prices)

		rec, err = f.router.Recommend(ctx, routing.Input{Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}

		if rec.Model != "" || !strings.Contains(rec.Refusal, "$2.10 of $2.00 spent") {
			t.Fatalf("recommendation past the cost limit = %+v", rec)
		}
	})
}

func TestPlanOrdersModelsAndReadsToolUse(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		f := newFixture(t, kind, budget.Limits{}, nil)
		ctx := context.Background()

		// A paragraph with code and two questions: 45, the standard tier.
		text := "Here is my loop, what is wrong with it? Is the sum right?\n" +
			"for i := range n {\n\tsum += i\n}\n" + strings.Repeat("x", 80)
		req := agent.Request{Message: core.Inbound{Text: text}, Session: &session.Session{ID: 7}}

		plan, err := f.router.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}

		if got := names(plan); got != "medium,backup" {
			t.Fatalf("plan = %s, want medium,backup", got)
		}

		// Tools used in the session a few minutes ago lift it to premium.
		f.record(t, agent.Request{Session: &session.Session{ID: 7}, InboundID: 1},
			agent.Call{Model: "medium", ToolCalls: 2}, nil)
		f.clock.Advance(5 * time.Minute)

		plan, err = f.router.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}

		if got := names(plan); got != "large,medium,backup" {
			t.Fatalf("plan after tool use = %s, want large,medium,backup", got)
		}

		// Half an hour later the tool use no longer counts.
		f.clock.Advance(30 * time.Minute)

		plan, err = f.router.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}

		if got := names(plan); got != "medium,backup" {
			t.Fatalf("plan long after tool use = %s, want medium,backup", got)
		}

		plan, err = f.router.Plan(ctx, agent.Request{Message: core.Inbound{Text: "thanks"}})
		if err != nil {
			t.Fatal(err)
		}

		if got := names(plan); got != "small,medium,backup" {
			t.Fatalf("plan of a short message = %s, want small,medium,backup", got)
		}
	})
}

func names(p agent.Plan) string {
	out := make([]string, len(p.Models))
	for i, m := range p.Models {
		out[i] = m.Name
	}

	return strings.Join(out, ",")
}

func usage(in, out int) llm.Usage {
	return llm.Usage{InputTokens: in, OutputTokens: out}
}
