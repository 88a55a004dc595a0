package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/anthropic"
	"github.com/switchboardhq/switchboard/adapters/anthropic/anthropictest"
	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/session"
)

// newLoop returns a loop on the OpenAI adapter pointed at a fake server.
func newLoop(t *testing.T, cfg agent.LoopConfig) (*agent.Loop, *openaitest.Server) {
	t.Helper()

	srv := openaitest.NewServer(t)
	cfg.Provider = newProvider(srv)

	if len(cfg.Models) == 0 {
		cfg.Models = []agent.Model{{Name: "model-a"}}
	}

	if cfg.SystemPrompt == "" {
		cfg.SystemPrompt = "You are a test agent."
	}

	l, err := agent.NewLoop(cfg)
	if err != nil {
		t.Fatal(err)
	}

	return l, srv
}

func request(text string, history ...session.Turn) agent.Request {
	return agent.Request{
		Message: core.Inbound{Text: text},
		Session: &session.Session{ID: 1},
		History: func(context.Context) ([]session.Turn, error) { return history, nil },
	}
}

// toolSet is a set of tools for tests: each tool returns its name and
// arguments, and counts how many run at once.
type toolSet struct {
	mu      sync.Mutex
	running int
	peak    int
	hold    time.Duration
}

func (s *toolSet) Schemas(context.Context, agent.Request) []llm.Tool {
	return []llm.Tool{{Name: "lookup", Description: "Looks a thing up.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)}}
}

func (s *toolSet) Run(_ context.Context, _ agent.Request, c llm.ToolCall) (string, error) {
	s.mu.Lock()
	s.running++
	s.peak = max(s.peak, s.running)
	s.mu.Unlock()

	time.Sleep(s.hold)

	s.mu.Lock()
	s.running--
	s.mu.Unlock()

	return "result of " + c.Name + " " + string(c.Arguments), nil
}

func TestPlainAnswer(t *testing.T) {
	t.Parallel()

	l, srv := newLoop(t, agent.LoopConfig{})
	srv.Push(openaitest.Reply{Text: "Hello!", Usage: openaitest.Usage{PromptTokens: 12,
		CompletionTokens: 3}})

	history := []session.Turn{
		{Role: session.RoleUser, Text: "earlier question"},
		{Role: session.RoleAssistant, Text: "earlier answer"},
	}

	reply, err := l.Respond(context.Background(), request("hi", history...))
	if err != nil || reply.Text != "Hello!" {
		t.Fatalf("Respond = %q, %v", reply.Text, err)
	}

	msgs := srv.Requests()[0].Messages
	got := make([]string, len(msgs))

	for i, m := range msgs {
		got[i] = m.Role + ":" + m.Content
	}

	want := "system:You are a test agent.|user:earlier question|assistant:earlier answer|user:hi"
	if strings.Join(got, "|") != want {
		t.Fatalf("model was sent %v, want %s", got, want)
	}
}

func TestMultiStepAndParallelToolUse(t *testing.T) {
	t.Parallel()

	tools := &toolSet{hold: 100 * time.Millisecond}

	var calls []agent.Call

	var mu sync.Mutex

	l, srv := newLoop(t, agent.LoopConfig{Tools: tools,
		OnCall: func(_ context.Context, _ agent.Request, c agent.Call) {
			mu.Lock()
			defer mu.Unlock()

			calls = append(calls, c)
		}})

	srv.Push(
		openaitest.ToolReply(openaitest.ToolCall{Name: "lookup", Arguments: `{"q":"a"}`},
			openaitest.ToolCall{Name: "lookup", Arguments: `{"q":"b"}`}),
		openaitest.ToolReply(openaitest.ToolCall{Name: "lookup", Arguments: `{"q":"c"}`}),
		openaitest.Reply{Text: "a, b and c", Usage: openaitest.Usage{PromptTokens: 50,
			CompletionTokens: 5}},
	)

	reply, err := l.Respond(context.Background(), request("find a, b, c"))
	if err != nil || reply.Text != "a, b and c" {
		t.Fatalf("Respond = %q, %v", reply.Text, err)
	}

	if tools.peak != 2 {
		t.Fatalf("the two calls of one answer ran %d at a time, want 2", tools.peak)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 || len(reqs[0].Tools) != 1 {
		t.Fatalf("%d model calls (tools offered: %d), want 3 with the tool", len(reqs),
			len(reqs[0].Tools))
	}

	second := reqs[1].Messages
	results := second[len(second)-2:]

	for i, want := range []string{`{"q":"a"}`, `{"q":"b"}`} {
		if results[i].Role != "tool" || !strings.Contains(results[i].Content, want) ||
			results[i].ToolCallID == "" {
			t.Fatalf("tool result %d = %+v, want the result for %s", i, results[i], want)
		}
	}

	if len(calls) != 3 || calls[2].Usage.InputTokens != 50 || calls[2].Model != "model-a" ||
		calls[0].ToolCalls != 2 || calls[1].ToolCalls != 1 || calls[2].ToolCalls != 0 {
		t.Fatalf("calls reported: %+v", calls)
	}

	if strings.Join(reply.Tools, ",") != "lookup,lookup,lookup" || reply.Model != "model-a" ||
		reply.Usage.InputTokens != 50 || reply.Usage.OutputTokens != 5 {
		t.Fatalf("reply = %+v, want three lookups by model-a and the usage", reply)
	}
}

// TestStreamingHandsOutTheText streams every step's text while the model
// writes it, through the real client's server-sent events.
func TestStreamingHandsOutTheText(t *testing.T) {
	t.Parallel()

	l, srv := newLoop(t, agent.LoopConfig{Tools: &toolSet{}})

	srv.Push(
		openaitest.Reply{Text: "Let me look.", ToolCalls: []openaitest.ToolCall{
			{Name: "lookup", Arguments: `{"q":"a"}`}}},
		openaitest.Reply{Text: "It is in the second drawer from the top.",
			Usage: openaitest.Usage{PromptTokens: 20, CompletionTokens: 9}},
	)

	var deltas []string

	req := request("where is it?")
	req.OnText = func(d string) { deltas = append(deltas, d) }

	reply, err := l.Respond(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}

	for _, r := range srv.Requests() {
		if !r.Stream {
			t.Fatalf("a call was not streamed: %+v", r)
		}
	}

	got := strings.Join(deltas, "")
	if len(deltas) < 4 || got != "Let me look.It is in the second drawer from the top." {
		t.Fatalf("streamed %d pieces: %q", len(deltas), got)
	}

	if reply.Text != "It is in the second drawer from the top." || reply.Usage.OutputTokens != 9 {
		t.Fatalf("reply = %+v", reply)
	}
}

func TestImagesGoOnlyToModelsThatSeeThem(t *testing.T) {
	t.Parallel()

	for _, vision := range []bool{true, false} {
		t.Run(fmt.Sprint("vision=", vision), func(t *testing.T) {
			t.Parallel()

			l, srv := newLoop(t, agent.LoopConfig{
				Models: []agent.Model{{Name: "m", Vision: vision}},
			})
			srv.Push(openaitest.TextReply("a cat"))

			req := request("what is this?")
			req.Message.Images = []core.Image{{MIMEType: "image/png", Data: []byte("png")}}

			if _, err := l.Respond(context.Background(), req); err != nil {
				t.Fatal(err)
			}

			msgs := srv.Requests()[0].Messages
			last := msgs[len(msgs)-1]

			var images int
			for _, p := range last.Parts {
				if p.Type == "image_url" {
					images++
				}
			}

			noted := strings.Contains(last.Content, "cannot see images")
			if vision && (images != 1 || noted) || !vision && (images != 0 || !noted) {
				t.Fatalf("vision %v: %d images sent, note %v: %+v", vision, images, noted, last)
			}
		})
	}
}

func TestRateLimitThenSuccess(t *testing.T) {
	t.Parallel()

	l, srv := newLoop(t, agent.LoopConfig{})

	limited := openaitest.ErrorReply(429, "rate_limit_exceeded", "slow down")
	limited.Err.RetryAfter = "1"
	srv.Push(limited, openaitest.TextReply("done"))

	start := time.Now()

	reply, err := l.Respond(context.Background(), request("hi"))
	if err != nil || reply.Text != "done" {
		t.Fatalf("Respond = %q, %v", reply.Text, err)
	}

	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("answered after %v, want the second asked for", waited)
	}
}

func TestPersistentRateLimitFallsBack(t *testing.T) {
	t.Parallel()

	l, srv := newLoop(t, agent.LoopConfig{
		Models:  []agent.Model{{Name: "model-a"}, {Name: "model-b"}},
		MaxWait: 10 * time.Millisecond,
	})

	limited := openaitest.ErrorReply(429, "rate_limit_exceeded", "slow down")
	limited.Err.RetryAfter = "5"
	srv.Push(limited, limited, limited, openaitest.TextReply("from b"))

	reply, err := l.Respond(context.Background(), request("hi"))
	if err != nil || reply.Text != "from b" {
		t.Fatalf("Respond = %q, %v", reply.Text, err)
	}

	var models []string
	for _, r := range srv.Requests() {
		models = append(models, r.Model)
	}

	if strings.Join(models, ",") != "model-a,model-a,model-a,model-b" {
		t.Fatalf("models called: %v", models)
	}

	// model-a cools down: the next message goes to model-b at once.
	srv.Push(openaitest.TextReply("b again"))

	if _, err := l.Respond(context.Background(), request("again")); err != nil {
		t.Fatal(err)
	}

	if last := srv.Requests()[4].Model; last != "model-b" {
		t.Fatalf("after a fallback the next call went to %s, want model-b", last)
	}
}

func TestMissingModelFallsBackAndBadKeyGivesUp(t *testing.T) {
	t.Parallel()

	l, srv := newLoop(t, agent.LoopConfig{
		Models: []agent.Model{{Name: "gone"}, {Name: "there"}},
	})
	srv.Push(openaitest.ErrorReply(404, "model_not_found", "no such model"),
		openaitest.TextReply("ok"))

	if reply, err := l.Respond(context.Background(), request("hi")); err != nil ||
		reply.Text != "ok" {
		t.Fatalf("Respond = %q, %v", reply.Text, err)
	}

	srv.Push(openaitest.ErrorReply(401, "invalid_api_key", "bad key"))

	_, err := l.Respond(context.Background(), request("hi"))
	if llm.ErrorOf(err).Action != llm.GiveUp {
		t.Fatalf("bad key: err = %v, want give up", err)
	}
}

func TestHistoryIsTrimmedToTheContextWindow(t *testing.T) {
	t.Parallel()

	// 4,096 tokens are kept for the answer; about 1,000 remain for the
	// conversation.
	l, srv := newLoop(t, agent.LoopConfig{
		Models: []agent.Model{{Name: "small", ContextWindow: 5_100}},
	})
	srv.Push(openaitest.TextReply("ok"))

	var history []session.Turn
	for i := range 40 {
		history = append(history, session.Turn{Role: session.RoleUser,
			Text: fmt.Sprintf("turn %02d %s", i, strings.Repeat("x", 400))})
	}

	current := "the current question " + strings.Repeat("y", 2_000)
	if _, err := l.Respond(context.Background(), request(current, history...)); err != nil {
		t.Fatal(err)
	}

	msgs := srv.Requests()[0].Messages
	if last := msgs[len(msgs)-1]; last.Content != current {
		t.Fatalf("the current message was not sent whole")
	}

	kept := msgs[1 : len(msgs)-1]
	if len(kept) == 0 || len(kept) >= 40 {
		t.Fatalf("kept %d of 40 history turns, want some but not all", len(kept))
	}

	if !strings.HasPrefix(kept[len(kept)-1].Content, "turn 39") {
		t.Fatalf("the newest history turn was dropped")
	}
}

func TestStepLimit(t *testing.T) {
	t.Parallel()

	l, srv := newLoop(t, agent.LoopConfig{Tools: &toolSet{}, MaxSteps: 3})

	for range 3 {
		srv.Push(openaitest.ToolReply(openaitest.ToolCall{Name: "lookup",
			Arguments: `{"q":"more"}`}))
	}

	reply, err := l.Respond(context.Background(), request("loop forever"))
	if err != nil || !strings.Contains(reply.Text, "I stopped after 3 steps") {
		t.Fatalf("Respond = %q, %v; want an honest stop", reply.Text, err)
	}

	if n := len(srv.Requests()); n != 3 {
		t.Fatalf("%d model calls, want 3", n)
	}
}

func TestToolUseThroughAnthropic(t *testing.T) {
	t.Parallel()

	srv := anthropictest.NewServer(t)
	l, err := agent.NewLoop(agent.LoopConfig{
		Provider:     anthropic.New(anthropic.Config{BaseURL: srv.URL(), APIKey: "k"}),
		Models:       []agent.Model{{Name: "claude-test"}},
		SystemPrompt: "You are a test agent.",
		Tools:        &toolSet{},
	})
	if err != nil {
		t.Fatal(err)
	}

	srv.Push(
		anthropictest.ToolReply(anthropictest.ToolUse{Name: "lookup", Input: `{"q":"a"}`},
			anthropictest.ToolUse{Name: "lookup", Input: `{"q":"b"}`}),
		anthropictest.TextReply("a and b"),
	)

	reply, err := l.Respond(context.Background(), request("find a and b"))
	if err != nil || reply.Text != "a and b" {
		t.Fatalf("Respond = %q, %v", reply.Text, err)
	}

	second := srv.Requests()[1]
	last := second.Messages[len(second.Messages)-1]

	var results int
	for _, b := range last.Content {
		if b.Type == "tool_result" && strings.Contains(b.ContentText(), "lookup") {
			results++
		}
	}

	if results != 2 || second.System != "You are a test agent." {
		t.Fatalf("second call: %d tool results, system %q", results, second.System)
	}
}

func newProvider(srv *openaitest.Server) llm.Provider {
	return openai.New(openai.Config{BaseURL: srv.URL()})
}
