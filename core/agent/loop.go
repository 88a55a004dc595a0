package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	Err      error
	Duration time.Duration
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
	var history []session.Turn

	if req.History != nil {
		var err error
		if history, err = req.History(ctx); err != nil {
			return Reply{}, fmt.Errorf("read history: %w", err)
		}
	}

	var tools []llm.Tool
	if l.cfg.Tools != nil {
		tools = l.cfg.Tools.Schemas(ctx, req)
	}

	conv := conversation(history, req)

	for step := 1; step <= l.cfg.MaxSteps; step++ {
		resp, err := l.call(ctx, req, conv, tools)
		if err != nil {
			return Reply{}, err
		}

		if len(resp.ToolCalls) == 0 {
			return Reply{Text: resp.Text}, nil
		}

		conv.turns = append(conv.turns, llm.Message{
			Role: llm.RoleAssistant, Text: resp.Text, ToolCalls: resp.ToolCalls,
		})
		conv.turns = append(conv.turns, l.runTools(ctx, req, resp.ToolCalls)...)
	}

	return Reply{Text: fmt.Sprintf("I stopped after %d steps without reaching an answer. "+
		"Please ask again, perhaps in smaller pieces.", l.cfg.MaxSteps)}, nil
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
func (l *Loop) call(ctx context.Context, req Request, conv dialogue, tools []llm.Tool,
) (llm.Response, error) {
	var last error

	for _, m := range l.usable() {
		resp, err := l.callModel(ctx, req, m, conv, tools)
		if err == nil {
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
func (l *Loop) callModel(ctx context.Context, req Request, m Model, conv dialogue,
	tools []llm.Tool,
) (llm.Response, error) {
	call := llm.Request{
		Model:    m.Name,
		System:   l.cfg.SystemPrompt,
		Messages: conv.fit(m, l.cfg.SystemPrompt, tools),
		Tools:    tools,
	}

	for attempt := 0; ; attempt++ {
		start := l.cfg.Clock.Now()
		resp, err := l.cfg.Provider.Complete(ctx, call)

		if l.cfg.OnCall != nil {
			l.cfg.OnCall(ctx, req, Call{Provider: l.cfg.Provider.Name(), Model: m.Name,
				Usage: resp.Usage, Err: err, Duration: l.cfg.Clock.Now().Sub(start)})
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

// usable returns the models that are not cooling down, in order, or all
// of them when every one is.
func (l *Loop) usable() []Model {
	now := l.cfg.Clock.Now()

	l.mu.Lock()
	defer l.mu.Unlock()

	var out []Model

	for _, m := range l.cfg.Models {
		if until, ok := l.cooldown[m.Name]; !ok || !until.After(now) {
			out = append(out, m)
		}
	}

	if len(out) == 0 {
		return l.cfg.Models
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
