package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/session"
)

// Model is a model the loop may call, with what the loop must know of it.
type Model struct {
	// Name is the provider's model name.
	Name string
	// ContextWindow is how many tokens one call may hold; 0 means 128,000.
	ContextWindow int
	// Vision is true when the model accepts images.
	Vision bool
}

// Tools runs the tools the model may call. A skill registry implements it.
type Tools interface {
	// Schemas returns the tools offered to the model for this request.
	Schemas(ctx context.Context, req Request) []llm.Tool
	// Run runs one call and returns its result for the model. An error is
	// reported to the model as a failed result, not to the person.
	Run(ctx context.Context, req Request, call llm.ToolCall) (string, error)
}

// Call is one model call, for usage accounting.
type Call struct {
	Provider string
	Model    string
	Usage    llm.Usage
	// ToolCalls counts the tools the model asked for in its answer.
	ToolCalls int
	Err       error
	Duration  time.Duration
}

// Plan is how one message is to be answered.
type Plan struct {
	// Models are tried in order; empty means LoopConfig.Models.
	Models []Model
	// Refusal, when not empty, is the answer, and no model is called: the
	// budget is used up, for instance.
	Refusal string
}

// LoopConfig configures a Loop.
type LoopConfig struct {
	// Provider calls the models.
	Provider llm.Provider
	// Models are tried in order: the first is the model, the rest its
	// fallbacks.
	Models []Model
	// SystemPrompt starts every call.
	SystemPrompt string
	// MaxSteps bounds the model calls for one message. Default 8.
	MaxSteps int
	// Tools, when not nil, offers tools to the model.
	Tools Tools
	// Plan, when not nil, picks the models for each message or refuses it.
	Plan func(ctx context.Context, req Request) (Plan, error)
	// Recall, when not nil, returns what the agent remembers that may
	// matter for the message; it is added to the system prompt.
	Recall func(ctx context.Context, req Request) ([]string, error)
	// OnCall, when not nil, is told of every model call.
	OnCall func(ctx context.Context, req Request, c Call)
	// MaxRetries bounds retries of one model after Retry or Wait before
	// the next model is tried. Default 2.
	MaxRetries int
	// MaxWait caps a wait the provider asks for. Default 30 s.
	MaxWait time.Duration
	// Cooldown is how long a model that failed is skipped. Default 1 min.
	Cooldown time.Duration
	// Clock and Logger default to the system clock and slog.Default.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Loop is the agent: it calls the model with the session's history, runs
// the tools the model asks for, and repeats until the model answers or the
// step limit is reached. It implements Responder and is safe for
// concurrent use.
type Loop struct {
	cfg LoopConfig
	log *slog.Logger

	mu       sync.Mutex
	cooldown map[string]time.Time // model -> skipped until
}

// NewLoop returns a loop; cfg.Provider and at least one model are needed.
func NewLoop(cfg LoopConfig) (*Loop, error) {
	if cfg.Provider == nil || len(cfg.Models) == 0 {
		return nil, errors.New("new agent loop: a provider and a model are required")
	}

	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = 8
	}

	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 2
	}

	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}

	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Minute
	}

	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}

	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	return &Loop{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "agent"),
		cooldown: make(map[string]time.Time),
	}, nil
}

// Name returns the provider's name.
func (l *Loop) Name() string { return l.cfg.Provider.Name() }

// Respond answers one message.
func (l *Loop) Respond(ctx context.Context, req Request) (Reply, error) {
	plan := Plan{Models: l.cfg.Models}

	if l.cfg.Plan != nil {
		var err error
		if plan, err = l.cfg.Plan(ctx, req); err != nil {
			return Reply{}, fmt.Errorf("plan the answer: %w", err)
		}

		if plan.Refusal != "" {
			return Reply{Text: plan.Refusal}, nil
		}

		if len(plan.Models) == 0 {
			plan.Models = l.cfg.Models
		}
	}

	var history []session.Turn

	if req.History != nil {
		var err error
		if history, err = req.History(ctx); err != nil {
			return Reply{}, fmt.Errorf("read history: %w", err)
		}
	}

	system, err := l.system(ctx, req)
	if err != nil {
		return Reply{}, err
	}

	var tools []llm.Tool
	if l.cfg.Tools != nil {
		tools = l.cfg.Tools.Schemas(ctx, req)
	}

	t := turn{req: req, system: system, tools: tools, conv: conversation(history, req)}

	for step := 1; step <= l.cfg.MaxSteps; step++ {
		resp, err := l.call(ctx, &t, plan.Models)
		if err != nil {
			return Reply{}, err
		}

		if len(resp.ToolCalls) == 0 {
			t.reply.Text = resp.Text
			return t.reply, nil
		}

		for _, c := range resp.ToolCalls {
			t.reply.Tools = append(t.reply.Tools, c.Name)
		}

		t.conv.turns = append(t.conv.turns, llm.Message{
			Role: llm.RoleAssistant, Text: resp.Text, ToolCalls: resp.ToolCalls,
		})
		t.conv.turns = append(t.conv.turns, l.runTools(ctx, req, resp.ToolCalls)...)
	}

	t.reply.Text = fmt.Sprintf("I stopped after %d steps without reaching an answer. "+
		"Please ask again, perhaps in smaller pieces.", l.cfg.MaxSteps)

	return t.reply, nil
}

// turn is the state of answering one message.
type turn struct {
	req    Request
	system string
	tools  []llm.Tool
	conv   dialogue
	reply  Reply
}

// recallHeading introduces the memories in the system prompt.
const recallHeading = "What you remember that may matter here (saved earlier with the " +
	"memory tool; use it only if it helps):"

// system returns the system prompt with the request's instructions and
// the memories that may matter.
func (l *Loop) system(ctx context.Context, req Request) (string, error) {
	prompt := l.cfg.SystemPrompt
	if req.Instructions != "" {
		prompt += "\n\n" + req.Instructions
	}

	if l.cfg.Recall == nil {
		return prompt, nil
	}

	facts, err := l.cfg.Recall(ctx, req)
	if err != nil {
		return "", fmt.Errorf("recall memories: %w", err)
	}

	if len(facts) == 0 {
		return prompt, nil
	}

	var b strings.Builder

	b.WriteString(prompt)
	b.WriteString("\n\n")
	b.WriteString(recallHeading)

	for _, f := range facts {
		b.WriteString("\n- ")
		b.WriteString(f)
	}

	return b.String(), nil
}

// runTools runs the calls of one answer in parallel and returns their
// results in the order of the calls.
func (l *Loop) runTools(ctx context.Context, req Request, calls []llm.ToolCall) []llm.Message {
	results := make([]llm.Message, len(calls))

	var wg sync.WaitGroup

	for i, call := range calls {
		wg.Go(func() {
			out, err := l.cfg.Tools.Run(ctx, req, call)
			if err != nil {
				out = "error: " + err.Error()
			}

			results[i] = llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Text: out,
				IsError: err != nil}
		})
	}

	wg.Wait()

	return results
}

// call makes one model call, retrying, waiting and falling back as the
// provider's errors say.
func (l *Loop) call(ctx context.Context, t *turn, models []Model) (llm.Response, error) {
	var last error

	for _, m := range l.usable(models) {
		resp, err := l.callModel(ctx, t, m)
		if err == nil {
			t.reply.Model = m.Name
			t.reply.Usage.InputTokens += resp.Usage.InputTokens
			t.reply.Usage.OutputTokens += resp.Usage.OutputTokens

			return resp, nil
		}

		last = err

		if llm.ErrorOf(err).Action == llm.GiveUp {
			return llm.Response{}, err
		}

		l.cool(m.Name)
		l.log.Warn("model failed, trying the next", "model", m.Name, "err", err)
	}

	return llm.Response{}, fmt.Errorf("every model failed: %w", last)
}

// callModel calls one model until it answers, fails for good, or asks to
// be replaced.
func (l *Loop) callModel(ctx context.Context, t *turn, m Model) (llm.Response, error) {
	call := llm.Request{
		Model:    m.Name,
		System:   t.system,
		Messages: t.conv.fit(m, t.system, t.tools),
		Tools:    t.tools,
	}

	for attempt := 0; ; attempt++ {
		start := l.cfg.Clock.Now()
		resp, err := l.complete(ctx, t.req, call)

		if l.cfg.OnCall != nil {
			l.cfg.OnCall(ctx, t.req, Call{Provider: l.cfg.Provider.Name(), Model: m.Name,
				Usage: resp.Usage, ToolCalls: len(resp.ToolCalls), Err: err,
				Duration: l.cfg.Clock.Now().Sub(start)})
		}

		if err == nil {
			return resp, nil
		}

		e := llm.ErrorOf(err)
		if ctx.Err() != nil || attempt >= l.cfg.MaxRetries ||
			(e.Action != llm.Retry && e.Action != llm.Wait) {
			return llm.Response{}, err
		}

		wait := time.Duration(1<<attempt) * time.Second
		if e.Action == llm.Wait {
			wait = min(e.RetryAfter, l.cfg.MaxWait)
		}

		l.log.Info("model call failed, retrying", "model", m.Name, "action", e.Action.String(),
			"retry_in", wait.String(), "err", err)

		if err := pause(ctx, wait); err != nil {
			return llm.Response{}, err
		}
	}
}

// complete makes one call, streaming the text when the request asks for
// it and the provider can.
func (l *Loop) complete(ctx context.Context, req Request, call llm.Request,
) (llm.Response, error) {
	if s, ok := l.cfg.Provider.(llm.Streamer); ok && req.OnText != nil {
		return s.Stream(ctx, call, req.OnText)
	}

	resp, err := l.cfg.Provider.Complete(ctx, call)
	if err == nil && req.OnText != nil && resp.Text != "" {
		req.OnText(resp.Text)
	}

	return resp, err
}

// usable returns the models that are not cooling down, in order, or all
// of them when every one is.
func (l *Loop) usable(models []Model) []Model {
	now := l.cfg.Clock.Now()

	l.mu.Lock()
	defer l.mu.Unlock()

	var out []Model

	for _, m := range models {
		if until, ok := l.cooldown[m.Name]; !ok || !until.After(now) {
			out = append(out, m)
		}
	}

	if len(out) == 0 {
		return models
	}

	return out
}

func (l *Loop) cool(model string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.cooldown[model] = l.cfg.Clock.Now().Add(l.cfg.Cooldown)
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
